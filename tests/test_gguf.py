"""The packaged Gemma's conversion: SentencePiece BPE merges rebuilt from a GGUF vocabulary, and old
conversions redone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bioner import gguf
from bioner.gguf import BYTE, CONTROL, NORMAL, conversion_of, sentencepiece_merges


def test_merges_are_ranked_by_the_joined_pieces_score_and_skip_control_and_byte_pieces() -> None:
    pieces = ["<pad>", "<0x41>", "a", "b", "c", "bc", "ab", "abc", "<ab>"]
    scores = [-1000.0, 0.0, -10.0, -11.0, -12.0, -1.0, -2.0, -3.0, -1000.0]
    kinds = [CONTROL, BYTE, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, CONTROL]
    assert sentencepiece_merges(pieces, scores, kinds) == [
        ("b", "c"),  # "bc" scores -1, the best
        ("a", "b"),
        ("a", "bc"),  # both cuts of "abc", ordered by the ids of the halves
        ("ab", "c"),
    ]


def test_bpe_with_these_merges_joins_pieces_as_sentencepiece_does() -> None:
    from tokenizers import Tokenizer
    from tokenizers.models import BPE

    pieces = ["a", "b", "c", "bc", "ab", "abc"]
    scores = [-10.0, -11.0, -12.0, -1.0, -2.0, -3.0]
    merges = sentencepiece_merges(pieces, scores, [NORMAL] * len(pieces))
    tokenizer = Tokenizer(BPE({piece: i for i, piece in enumerate(pieces)}, merges))
    # "bc" outranks "ab": a|bc, then a+bc -> abc; "bab" has no "bc", so b|ab
    assert tokenizer.encode("abc").tokens == ["abc"]
    assert tokenizer.encode("bab").tokens == ["b", "ab"]
    assert tokenizer.encode("cab").tokens == ["c", "ab"]


def test_a_folder_without_a_current_conversion_record_is_converted_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / gguf.GEMMA_270M
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    calls: list[Path] = []
    monkeypatch.setattr(gguf, "convert_gguf", lambda assemble, target: calls.append(target) or target)

    assert conversion_of(folder) == 1
    gguf.gemma_270m(tmp_path)
    assert calls == [folder]

    (folder / gguf.CONVERSION_FILE).write_text("not json", encoding="utf-8")
    assert conversion_of(folder) == 1
    (folder / gguf.CONVERSION_FILE).write_text(json.dumps({"version": gguf.CONVERSION}), encoding="utf-8")
    gguf.gemma_270m(tmp_path)
    assert calls == [folder]  # current: reused


def test_the_packaged_gemma_tokenizer_keeps_words_whole_and_round_trips() -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.gemma_270m())
    text = "Mutations in BRCA1 cause breast cancer.\n\nEl paciente presentó  hipertensión"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    whole = ["▁breast", "▁cancer", "\n\n", "▁paciente"]
    assert [token for token in tokens if token in whole] == whole
    assert len(ids) < len(text.split()) * 2  # words, not characters
    assert tokenizer.decode(ids) == text
    turn = tokenizer("<start_of_turn>user\n", add_special_tokens=False)["input_ids"]
    assert tokenizer.convert_ids_to_tokens(turn) == ["<start_of_turn>", "user", "\n"]
    assert tokenizer("x")["input_ids"][0] == tokenizer.bos_token_id
