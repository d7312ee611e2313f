"""Where bioner finds its data: ``bioner.toml`` in the working directory or above, or ``BIONER_DATA``.

Corpora are large and licensed separately, so they live outside the repository; the
toml file says where (relative paths resolve against the toml's own folder), and the
environment variable overrides it for one shell or one CI job.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from bioner.errors import BionerError

CONFIG_NAME = "bioner.toml"
DATA_ENV = "BIONER_DATA"
_HOW = f"set {DATA_ENV}=/path/to/corpora or data_dir in {CONFIG_NAME}"


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``bioner.toml`` in ``start`` (default: the working directory) or its parents.

    Falls back to the repository the package was installed from (editable installs), so
    commands run from anywhere inside or outside a checkout still find the data.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    source_root = Path(__file__).resolve().parents[3] / CONFIG_NAME
    return source_root if source_root.is_file() else None


def data_dir(start: Path | None = None) -> Path:
    """The folder holding one sub-folder per corpus; a missing folder is a one-line error."""
    from_env = os.environ.get(DATA_ENV)
    if from_env:
        path, origin = Path(from_env).expanduser(), f"{DATA_ENV}={from_env}"
    else:
        config = find_config(start)
        if config is None:
            raise BionerError(f"no data directory configured: {_HOW}")
        path, origin = _data_dir_from(config), str(config)
    if not path.is_dir():
        raise BionerError(f"data directory {path} (from {origin}) does not exist; {_HOW}")
    return path


def _data_dir_from(config: Path) -> Path:
    try:
        with config.open("rb") as handle:
            settings = tomllib.load(handle)
    except tomllib.TOMLDecodeError as err:
        raise BionerError(f"{config}: invalid TOML: {err}") from None
    value = settings.get("data_dir")
    if not isinstance(value, str) or not value:
        raise BionerError(f"{config}: 'data_dir' must be a non-empty string; {_HOW}")
    return (config.parent / Path(value).expanduser()).resolve()


def corpus_dir(folder: str, url: str, root: Path | None = None) -> Path:
    """The folder of one corpus inside the data directory, or a one-line error saying where to get it."""
    base = root if root is not None else data_dir()
    path = base / folder
    if not path.is_dir():
        raise BionerError(f"corpus folder {path} not found; download it from {url} into {path}, or {_HOW}")
    return path
