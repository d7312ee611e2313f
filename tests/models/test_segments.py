"""Batching and the loss shared by both taggers: a tag range per segment acts as a head of its own."""

from __future__ import annotations

import gc

import pytest
import torch
from torch import nn

from bioner.models.segments import Segment, collate, collector_paused, segment_loss


class _FixedLogits(nn.Module):
    """A stand-in tagger that returns given logits (batch, words, tags), whatever the input."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = nn.Parameter(logits)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, word_index: torch.Tensor) -> torch.Tensor:
        return self.logits


def test_collate_pads_and_marks_unused_labels() -> None:
    batch = collate([Segment([1, 5, 6, 2], [1, 2], [3, 0]), Segment([1, 7, 2], [1], [4])], pad=0)
    assert batch["input_ids"].tolist() == [[1, 5, 6, 2], [1, 7, 2, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert batch["labels"].tolist() == [[3, 0], [4, -100]]
    assert "tag_range" not in batch


def test_a_tag_range_limits_the_softmax_to_its_own_tags() -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, 2, 6)
    segments = [Segment([1, 5, 6, 2], [1, 2], [1, 2], (0, 3)), Segment([1, 7, 2], [1], [4], (3, 6))]
    module = _FixedLogits(logits.clone())
    loss = segment_loss(module, collate(segments, pad=0))
    expected = torch.stack(
        [
            torch.log_softmax(logits[0, 0, :3], -1)[1],
            torch.log_softmax(logits[0, 1, :3], -1)[2],
            torch.log_softmax(logits[1, 0, 3:], -1)[1],
        ]
    ).mean()
    assert torch.allclose(loss, -expected)
    loss.backward()
    assert module.logits.grad is not None
    # another corpus's tags get no gradient: its unannotated mentions never teach "O" there
    assert not module.logits.grad[0, :, 3:].any() and not module.logits.grad[1, :, :3].any()
    assert module.logits.grad[0, :, :3].any() and module.logits.grad[1, 0, 3:].any()


def test_collector_is_paused_during_the_call_and_restored_after_it_even_on_error() -> None:
    seen: list[bool] = []

    @collector_paused
    def predict(fail: bool) -> str:
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("boom")
        return "done"

    assert gc.isenabled()
    assert predict(False) == "done"
    with pytest.raises(ValueError, match="boom"):
        predict(True)
    assert seen == [False, False]
    assert gc.isenabled()
    gc.disable()
    try:  # a caller that had it off keeps it off
        predict(False)
        assert not gc.isenabled()
    finally:
        gc.enable()
