"""The causal mask is really gone: a later token changes an earlier token's output, in every family."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from bioner.errors import BionerError
from bioner.models.bidirectional import is_bidirectional, make_bidirectional

FAMILIES = ["llama", "qwen2", "mistral", "gemma3"]


def tiny_decoder(family: str, attention: str) -> Any:
    """A 2-layer random decoder; Mistral and Gemma 3 with sliding-window layers narrower than the input."""
    from transformers import (
        AutoModel,
        Gemma3TextConfig,
        LlamaConfig,
        MistralConfig,
        Qwen2Config,
    )

    common: dict[str, Any] = {
        "vocab_size": 64,
        "hidden_size": 16,
        "intermediate_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "max_position_embeddings": 64,
        "pad_token_id": 0,
    }
    configs = {
        "llama": lambda: LlamaConfig(**common),
        "qwen2": lambda: Qwen2Config(**common),
        "mistral": lambda: MistralConfig(**common, sliding_window=4),
        "gemma3": lambda: Gemma3TextConfig(
            **common, head_dim=8, sliding_window=4, layer_types=["sliding_attention", "full_attention"]
        ),
    }
    config = configs[family]()  # type: ignore[no-untyped-call]
    config._attn_implementation = attention
    torch.manual_seed(0)
    return AutoModel.from_config(config).eval()  # type: ignore[no-untyped-call]


def first_token_output(model: Any, last: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    ids = torch.tensor([[5, 6, 7, 8, 9, last], [5, 6, 7, 8, 9, last]])
    with torch.no_grad():
        hidden: torch.Tensor = model(input_ids=ids, attention_mask=mask).last_hidden_state
    return hidden[:, 0]


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("family", FAMILIES)
def test_a_later_token_changes_the_first_output_only_when_bidirectional(family: str, attention: str) -> None:
    model = tiny_decoder(family, attention)
    assert torch.allclose(first_token_output(model, 10), first_token_output(model, 11))  # causal as built
    assert make_bidirectional(model) == 2
    assert is_bidirectional(model)
    assert not torch.allclose(first_token_output(model, 10), first_token_output(model, 11))


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("family", FAMILIES)
def test_padding_stays_masked_when_bidirectional(family: str, attention: str) -> None:
    """Row 2 pads its last token: what sits there must not reach the first token's output."""
    model = tiny_decoder(family, attention)
    make_bidirectional(model)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]])
    a, b = first_token_output(model, 10, mask), first_token_output(model, 11, mask)
    assert not torch.allclose(a[0], b[0])
    assert torch.allclose(a[1], b[1])


def test_a_model_without_attention_flags_is_refused() -> None:
    with pytest.raises(BionerError, match="no attention modules"):
        make_bidirectional(torch.nn.Linear(2, 2))
