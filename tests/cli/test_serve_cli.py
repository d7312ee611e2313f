"""``bioner serve`` refuses bad options before loading anything: one line, exit 2."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import RunMain  # tests/cli/conftest.py, for the annotations only


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [("--port", "99999", "--port"), ("--port", "0", "--port"), ("--max-texts", "0", "--max-texts")],
)
def test_out_of_range_options_are_one_line_errors(run_main: RunMain, option: str, value: str, named: str) -> None:
    code, _, err = run_main("serve", "no-such-model", option, value)
    assert code == 2 and named in err and "Traceback" not in err


def test_a_missing_model_is_a_one_line_error(run_main: RunMain) -> None:
    code, _, err = run_main("serve", "no-such-model")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("bioner: error: no-such-model: ")
