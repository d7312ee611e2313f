import errno
import os
from pathlib import Path

import pytest

from bioner import files
from bioner.errors import BionerError
from bioner.formats.common import open_write


def test_a_full_disk_is_a_one_line_error_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "replace", full)
    with (
        pytest.raises(BionerError, match=r"out\.jsonl: cannot write: No space left on device"),
        open_write(tmp_path / "out.jsonl") as out,
    ):
        out.write("{}\n")
    assert list(tmp_path.iterdir()) == []


def test_a_path_under_a_file_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(BionerError, match="cannot write: "), open_write(tmp_path / "file" / "out.jsonl") as out:
        out.write("{}\n")


def test_a_temporary_file_left_by_a_killed_writer_is_removed_by_the_next_write(tmp_path: Path) -> None:
    dead = 2**22 + 12345  # above the kernel's default pid_max: no process has it
    left = tmp_path / f".out.jsonl.{dead}.abc123{files.TEMP_SUFFIX}"
    left.write_text("half", encoding="utf-8")
    living = tmp_path / f".out.jsonl.{os.getppid()}.def456{files.TEMP_SUFFIX}"
    living.write_text("being written", encoding="utf-8")
    with open_write(tmp_path / "out.jsonl") as out:
        out.write("{}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.jsonl", living.name])
