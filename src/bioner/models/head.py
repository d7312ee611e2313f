"""A tagging head over any backbone's hidden states: one tag distribution per word.

Words are scored from the hidden state of their first sub-token, the usual choice for
BERT-style taggers; the other sub-tokens only give context. The head knows nothing
about the backbone, so an encoder and a decoder-turned-tagger share it.
"""

from __future__ import annotations

import torch
from torch import nn


class WordHead(nn.Module):
    """Dropout and a linear layer applied at each word's first sub-token."""

    def __init__(self, hidden_size: int, n_tags: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden_size, n_tags)

    def forward(self, hidden: torch.Tensor, word_index: torch.Tensor) -> torch.Tensor:
        """``hidden`` (batch, sub-tokens, hidden), ``word_index`` (batch, words) -> logits (batch, words, tags)."""
        index = word_index.unsqueeze(-1).expand(-1, -1, hidden.size(-1))
        logits: torch.Tensor = self.linear(self.dropout(hidden.gather(1, index)))
        return logits


class BackboneTagger(nn.Module):
    """A Hugging Face backbone (``AutoModel``) with a :class:`WordHead` on top."""

    def __init__(self, backbone: nn.Module, hidden_size: int, n_tags: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = WordHead(hidden_size, n_tags, dropout)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, word_index: torch.Tensor) -> torch.Tensor:
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits: torch.Tensor = self.head(hidden, word_index)
        return logits
