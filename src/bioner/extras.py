"""Optional dependencies: a missing one is a one-line error naming the extra that installs it.

The core (formats, corpora, evaluation, the encoder) needs torch and transformers only; each
heavier library belongs to the backend or feature that uses it and is imported on first use.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from bioner.errors import BionerError


def need(module: str, extra: str, feature: str) -> ModuleType:
    """``module`` imported, or a ``BionerError`` saying that ``feature`` needs ``pip install 'bioner[extra]'``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.partition(".")[0]
        raise BionerError(f"{feature} needs {package}: pip install 'bioner[{extra}]'") from None
