"""``bioner --help`` and ``--version``: what a new user reads first."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import bioner

if TYPE_CHECKING:
    from conftest import RunMain  # tests/cli/conftest.py, for the annotations only

COMMANDS = [
    ["annotate"],
    ["evaluate"],
    ["compare"],
    ["convert"],
    ["export"],
    ["predict"],
    ["test"],
    ["train"],
    ["corpus", "list"],
    ["corpus", "stats"],
    ["kb", "build"],
    ["kb", "stats"],
    ["kb", "samples"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_shows_no_value_after_flags_and_keeps_brackets(run_main: RunMain, command: list[str]) -> None:
    code, out, _ = run_main(*command, "--help")
    assert code == 0
    assert "<bool>" not in out and "[[" not in out
    assert "--help" in out


def test_kb_samples_help_keeps_the_dbr_table_name(run_main: RunMain) -> None:
    _, out, _ = run_main("kb", "samples", "--help")
    assert "[dbr]" in out


def test_version(run_main: RunMain) -> None:
    code, out, _ = run_main("--version")
    assert code == 0 and out == f"bioner {bioner.__version__}\n"
