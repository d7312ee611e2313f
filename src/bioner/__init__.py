"""bioner: biomedical named entity recognition with character offsets as the truth."""

from bioner.types import Corpus, Document, Entity, Passage, Span

__all__ = ["Corpus", "Document", "Entity", "Passage", "Span"]
__version__ = "0.1.0"
