"""Errors and loss reports shared by every reader, writer and command.

Bad input must end in one line naming the file and line; tolerated oddities and
lossy conversions are counted, never silent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

EXCERPT = 80
"""Characters of user input an error message quotes at most."""
MESSAGE_LIMIT = 1000
"""Characters of an input error's message at most: a 50 MB line must not become a 50 MB message."""


def excerpt(value: object, limit: int = EXCERPT) -> str:
    """``repr(value)`` cut to about ``limit`` characters, saying how long the whole was."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return f"{text[:limit]}...{size}"


def shorten(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """``message`` with its middle cut out when longer than ``limit`` (its start and end say the most)."""
    if len(message) <= limit:
        return message
    keep = limit // 2
    return f"{message[:keep]} ... [{len(message) - 2 * keep} characters cut] ... {message[-keep:]}"


class BionerError(Exception):
    """A problem the user can fix; the CLI prints it on one line and exits 2."""


class InputError(BionerError):
    """Malformed input, located by file and (where known) line."""

    def __init__(self, path: str | Path | None, line: int | None, message: str) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.message = shorten(" ".join(message.splitlines()))
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


@dataclass
class Report:
    """Counts of what a read tolerated (warnings) or a write could not hold (losses)."""

    warnings: Counter[str] = field(default_factory=Counter)
    losses: Counter[str] = field(default_factory=Counter)

    def warn(self, what: str, count: int = 1) -> None:
        if count:
            self.warnings[what] += count

    def lose(self, what: str, count: int = 1) -> None:
        if count:
            self.losses[what] += count

    def merge(self, other: Report) -> None:
        self.warnings.update(other.warnings)
        self.losses.update(other.losses)

    def lines(self) -> list[str]:
        """Human-readable lines, losses first because they change the data."""
        out = [f"lost: {what}: {n}" for what, n in sorted(self.losses.items())]
        out += [f"warning: {what}: {n}" for what, n in sorted(self.warnings.items())]
        return out

    def __bool__(self) -> bool:
        return bool(self.warnings or self.losses)
