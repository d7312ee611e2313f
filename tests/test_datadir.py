"""Where the data directory comes from: bioner.toml (nearest first), its fallback, and BIONER_DATA."""

from __future__ import annotations

from pathlib import Path

import pytest

from bioner.corpora import datadir
from bioner.errors import BionerError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(datadir.DATA_ENV, raising=False)


def _project(root: Path, data_dir: str = "corpora") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / datadir.CONFIG_NAME).write_text(f'data_dir = "{data_dir}"\n', encoding="utf-8")
    return root


def test_toml_in_a_parent_folder_resolves_relative_to_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "project", "../shared/corpora")
    (tmp_path / "shared" / "corpora").mkdir(parents=True)
    work = project / "sub" / "deeper"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    assert datadir.data_dir() == (tmp_path / "shared" / "corpora").resolve()


def test_nearest_toml_wins(tmp_path: Path) -> None:
    outer = _project(tmp_path, "outer-data")
    inner = _project(tmp_path / "inner", "inner-data")
    (outer / "outer-data").mkdir()
    (inner / "inner-data").mkdir()
    assert datadir.data_dir(inner) == (inner / "inner-data").resolve()


def test_environment_overrides_the_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "project")
    (project / "corpora").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv(datadir.DATA_ENV, str(elsewhere))
    assert datadir.data_dir(project) == elsewhere


def test_fallback_is_the_repository_of_the_package(tmp_path: Path) -> None:
    assert not any((p / datadir.CONFIG_NAME).exists() for p in (tmp_path, *tmp_path.parents))
    assert datadir.find_config(tmp_path) == REPO / datadir.CONFIG_NAME


def test_repository_config_points_at_the_shared_corpora() -> None:
    assert datadir.data_dir(REPO) == (REPO / ".." / "shared" / "corpora").resolve()


def test_missing_data_dir_is_a_one_line_error(tmp_path: Path) -> None:
    project = _project(tmp_path, "absent")
    with pytest.raises(BionerError) as err:
        datadir.data_dir(project)
    message = str(err.value)
    assert "\n" not in message
    assert str(tmp_path / "absent") in message
    assert "BIONER_DATA" in message


def test_missing_environment_folder_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datadir.DATA_ENV, str(tmp_path / "nope"))
    with pytest.raises(BionerError, match=r"BIONER_DATA=.*nope.*does not exist"):
        datadir.data_dir()


def test_missing_corpus_folder_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(BionerError) as err:
        datadir.corpus_dir("BC5CDR", "https://example.org/cdr.zip", tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert str(tmp_path / "BC5CDR") in message
    assert "https://example.org/cdr.zip" in message
    assert "BIONER_DATA" in message


@pytest.mark.parametrize("content", ['data_dir = "unclosed\n', "data_dir = 3\n", "other = 'x'\n"])
def test_bad_toml_is_a_user_error(tmp_path: Path, content: str) -> None:
    (tmp_path / datadir.CONFIG_NAME).write_text(content, encoding="utf-8")
    with pytest.raises(BionerError, match=r"bioner\.toml"):
        datadir.data_dir(tmp_path)
