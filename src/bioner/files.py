"""Files every layer writes the same way: atomic replacement and the one cache folder.

A crash or a kill in the middle of a save must never leave a half-written model, checkpoint
or cache entry where a complete one is expected, so every binary write goes through
:func:`atomic_path` (text files through :func:`bioner.formats.common.open_write`).
"""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bioner.errors import BionerError

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


TEMP_SUFFIX = ".part"
"""How a temporary file beside its target ends: ``.<name>.<pid>.<random>.part``."""


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; it replaces ``path`` only when the block ends normally.

    The temporary file's name holds the writing process's id, so the next write of the same target
    removes what a killed writer left behind (and nothing a living one is still writing). A folder
    that cannot be made (a file is in the way), a full disk or a refused permission is a one-line
    :class:`~bioner.errors.BionerError` naming the target.
    """
    target = Path(path)
    in_the_way = next((a for a in reversed(target.parents) if a.exists() and not a.is_dir()), None)
    if in_the_way is not None:
        raise BionerError(f"{target}: cannot write: {in_the_way} is a file, not a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=target.parent)
    except OSError as err:
        raise BionerError(f"{target}: cannot write: {_reason(err)}") from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600 files; give the user's usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise BionerError(f"{target}: cannot write: {_reason(err)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(target: Path) -> int:
    """Remove the temporary files of ``target`` whose writer no longer runs; returns how many."""
    removed = 0
    for tmp in target.parent.glob(f".{glob.escape(target.name)}.*{TEMP_SUFFIX}"):
        pid = tmp.name.removeprefix(f".{target.name}.").split(".", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process is not writing that target now: a leftover of an earlier attempt
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _reason(err: OSError) -> str:
    """An OS error in a few words (``No space left on device``, ``Not a directory: 'out'``)."""
    reason = err.strerror or str(err) or type(err).__name__
    return f"{reason}: {err.filename}" if err.filename else reason
