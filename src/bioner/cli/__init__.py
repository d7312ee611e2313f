"""Command line: one thin module per verb over plain library functions."""

from __future__ import annotations

import importlib
import pkgutil
import sys

from bioner.cli.app import app
from bioner.errors import BionerError, shorten


def load_verbs() -> None:
    """Import every verb module of this package; each registers its command on ``app``."""
    for info in pkgutil.iter_modules(__path__):
        if info.name != "app":
            importlib.import_module(f"{__name__}.{info.name}")


def main() -> None:
    """Entry point: user errors end as one line on stderr with exit code 2, never a traceback."""
    load_verbs()
    try:
        app()
    except BionerError as err:
        print(f"bioner: error: {shorten(' '.join(str(err).splitlines()))}", file=sys.stderr)
        sys.exit(2)
