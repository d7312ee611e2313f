"""The real entry point (``bioner.cli.main``) run in-process, for the tests of user errors and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

import bioner.cli

RunMain = Callable[..., tuple[int, str, str]]
"""``run_main("convert", ...)``: exit code, stdout and stderr of ``bioner convert ...``."""


@pytest.fixture
def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> RunMain:
    def run(*args: object) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["bioner", *(str(a) for a in args)])
        code = 0
        try:
            bioner.cli.main()
        except SystemExit as exit_info:
            code = exit_info.code if isinstance(exit_info.code, int) else (0 if exit_info.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run
