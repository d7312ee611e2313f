"""bioner: biomedical named entity recognition with character offsets as the truth.

``bioner.load(folder_or_hub_name)("text")`` tags a text; ``bioner.read``, ``bioner.write`` and
``bioner.evaluate`` read, write and score documents. They load on first use, so importing
``bioner`` (or ``bioner.types``) stays light.
"""

from typing import TYPE_CHECKING, Any

from bioner.types import Corpus, Document, Entity, Passage, Span

if TYPE_CHECKING:
    from bioner.api import Tagger, evaluate, load, read, write

__all__ = ["Corpus", "Document", "Entity", "Passage", "Span", "Tagger", "evaluate", "load", "read", "write"]
__version__ = "0.1.0"
_API = frozenset({"Tagger", "evaluate", "load", "read", "write"})


def __getattr__(name: str) -> Any:
    if name in _API:
        from bioner import api

        return getattr(api, name)
    raise AttributeError(f"module 'bioner' has no attribute {name!r}")
