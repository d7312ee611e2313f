"""A tagging head over any backbone's hidden states: one tag distribution per word.

Words are scored from the hidden state of their first sub-token (the usual choice for
BERT-style taggers) or from the mean of all their sub-tokens (``pooling = "mean"``, which
lets a long word's later pieces speak). An optional linear-chain CRF (:class:`Crf`) learns
transition scores between tags, trained jointly with the emissions. The head knows nothing
about the backbone, so an encoder and a decoder-turned-tagger share it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

POOLINGS = ("first", "mean")
BLOCKED = -1e4
"""The score of a transition the scheme forbids: finite, so the forward algorithm's gradients stay finite."""


class WordHead(nn.Module):
    """Dropout and a linear layer applied to each word's first sub-token, or the mean of its sub-tokens."""

    def __init__(self, hidden_size: int, n_tags: int, dropout: float = 0.1, pooling: str = "first") -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; expected one of {', '.join(POOLINGS)}")
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden_size, n_tags)

    def forward(
        self, hidden: torch.Tensor, word_index: torch.Tensor, word_end: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``hidden`` (batch, sub-tokens, hidden), ``word_index`` (batch, words) -> logits (batch, words, tags).

        Mean pooling needs ``word_end``: the position after each word's last sub-token.
        """
        if self.pooling == "mean" and word_end is not None:
            pooled = _mean_pool(hidden, word_index, word_end)
        else:
            index = word_index.unsqueeze(-1).expand(-1, -1, hidden.size(-1))
            pooled = hidden.gather(1, index)
        logits: torch.Tensor = self.linear(self.dropout(pooled))
        return logits


def _mean_pool(hidden: torch.Tensor, word_index: torch.Tensor, word_end: torch.Tensor) -> torch.Tensor:
    """The mean of each word's sub-token states, from a prefix sum (no loop over words)."""
    zeros = hidden.new_zeros(hidden.size(0), 1, hidden.size(-1))
    cumulative = torch.cat([zeros, hidden.float().cumsum(dim=1)], dim=1)  # cumulative[:, i] = sum of hidden[:, :i]
    width = hidden.size(-1)
    upper = cumulative.gather(1, word_end.unsqueeze(-1).expand(-1, -1, width))
    lower = cumulative.gather(1, word_index.unsqueeze(-1).expand(-1, -1, width))
    count = (word_end - word_index).clamp(min=1).unsqueeze(-1)
    return ((upper - lower) / count).to(hidden.dtype)


class Crf(nn.Module):
    """A linear-chain CRF over the words of a segment: learned transition scores, and the scheme's rules.

    Transitions the tag scheme forbids (``O I-X``) are held at :data:`BLOCKED`, so training never
    spends probability on them and decoding (:func:`bioner.models.decoding.viterbi_batch` with
    :meth:`transition_scores`) never takes them. Hand-written rather than ``pytorch-crf``
    because that library has no forbidden transitions and no per-corpus tag sets.
    Start and end rules are left to decoding: a training window may start inside a mention.
    """

    def __init__(self, allowed: npt.NDArray[np.bool_]) -> None:
        super().__init__()
        self.transitions = nn.Parameter(torch.zeros(allowed.shape, dtype=torch.float32))
        self.register_buffer("allowed", torch.from_numpy(np.ascontiguousarray(allowed)), persistent=False)

    def scores(self) -> torch.Tensor:
        """Transition scores with the forbidden ones blocked (previous tag × next tag)."""
        allowed: torch.Tensor = self.allowed  # type: ignore[assignment]
        return self.transitions.masked_fill(~allowed, BLOCKED)

    def transition_scores(self) -> npt.NDArray[np.float64]:
        """The learned transition scores for decoding (forbidden ones are decoding's own -inf)."""
        return self.transitions.detach().cpu().double().numpy()

    def loss(self, emissions: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood of the gold tags; ``labels`` -100 marks padding (after the words).

        ``emissions`` (batch, words, tags) may hold :data:`BLOCKED` for tags a segment may not take.
        """
        mask = labels >= 0
        keep = mask.any(dim=1)
        emissions, labels, mask = emissions[keep].float(), labels[keep].clamp(min=0), mask[keep]
        if emissions.size(0) == 0:
            return emissions.sum() * 0.0
        trans = self.scores()
        batch = torch.arange(emissions.size(0), device=emissions.device)
        gold = emissions[batch, 0, labels[:, 0]]
        alpha = emissions[:, 0]
        for t in range(1, emissions.size(1)):
            on = mask[:, t]
            step = emissions[batch, t, labels[:, t]] + trans[labels[:, t - 1], labels[:, t]]
            gold = gold + torch.where(on, step, torch.zeros_like(step))
            moved = torch.logsumexp(alpha.unsqueeze(2) + trans.unsqueeze(0), dim=1) + emissions[:, t]
            alpha = torch.where(on.unsqueeze(1), moved, alpha)
        return (torch.logsumexp(alpha, dim=1) - gold).mean()


class BackboneTagger(nn.Module):
    """A Hugging Face backbone (``AutoModel``) with a :class:`WordHead` on top (and a :class:`Crf` when given)."""

    def __init__(
        self,
        backbone: nn.Module,
        hidden_size: int,
        n_tags: int,
        dropout: float = 0.1,
        *,
        pooling: str = "first",
        crf_allowed: npt.NDArray[np.bool_] | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = WordHead(hidden_size, n_tags, dropout, pooling)
        self.crf = Crf(crf_allowed) if crf_allowed is not None else None

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        word_index: torch.Tensor,
        word_end: torch.Tensor | None = None,
    ) -> torch.Tensor:
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits: torch.Tensor = self.head(hidden, word_index, word_end)
        return logits
