"""Long documents cut into passages of whole sentences that fit the model's context."""

from __future__ import annotations

from bioner.text import document_sentences
from bioner.types import Document, Span


def chunk_spans(doc: Document, max_chars: int) -> list[Span]:
    """Character ranges covering every sentence: whole sentences up to ``max_chars``, a longer one cut at spaces."""
    pieces: list[Span] = []
    for start, end in document_sentences(doc) or [(0, len(doc.text))]:
        while end - start > max_chars:
            cut = doc.text.rfind(" ", start + 1, start + max_chars)
            cut = cut if cut > start else start + max_chars
            pieces.append((start, cut))
            start = cut
        if doc.text[start:end].strip():
            pieces.append((start, end))
    chunks: list[Span] = []
    for start, end in pieces:
        if chunks and end - chunks[-1][0] <= max_chars:
            chunks[-1] = (chunks[-1][0], end)
        else:
            chunks.append((start, end))
    return chunks
