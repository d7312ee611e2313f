"""Files every layer writes the same way: atomic replacement and the one cache folder.

A crash or a kill in the middle of a save must never leave a half-written model, checkpoint
or cache entry where a complete one is expected, so every binary write goes through
:func:`atomic_path` (text files through :func:`bioner.formats.common.open_write`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CACHE_ENV = "BIONER_CACHE"


def cache_dir(*parts: str) -> Path:
    """``$BIONER_CACHE`` or ``$XDG_CACHE_HOME/bioner`` (``~/.cache/bioner``), with ``parts`` below it."""
    if os.environ.get(CACHE_ENV):
        base = Path(os.environ[CACHE_ENV]).expanduser()
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bioner"
    return base.joinpath(*parts)


def umask() -> int:
    """The process's file-creation mask (read without changing it for long)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; it replaces ``path`` only when the block ends normally."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600 files; give the user's usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
