"""The encoder backend on tiny random backbones: it learns, windows long sentences, saves and loads exactly."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

from bioner.backbones import resolve_backbone
from bioner.corpora.naming import with_corpus
from bioner.errors import BionerError, Report
from bioner.formats import read_documents
from bioner.knowledge.dense import DENSE_ADDED
from bioner.models.encoder import UNSEEN_CORPUS, EncoderTagger
from bioner.models.registry import load_model as load_tagger
from bioner.models.segments import GAPS, WINDOWED
from bioner.text import document_sentences, tokenize
from bioner.training.config import Config, load_config
from bioner.training.loop import TrainResult
from bioner.training.recipe import fit
from bioner.types import Document, Passage

FIXTURES = Path(__file__).parents[1] / "fixtures" / "encoder"
TRAIN = list(read_documents(FIXTURES / "train.jsonl"))
DEV = list(read_documents(FIXTURES / "dev.jsonl"))
TEST = list(read_documents(FIXTURES / "test.jsonl"))


def _config(backbone: Path | str, *overrides: str) -> Config:
    return load_config(
        None,
        [
            f"model.backbone={backbone}",
            "train.batch_size=4",
            "train.learning_rate=3e-3",
            "train.epochs=3",
            "train.patience=0",
            *overrides,
        ],
    )


@dataclass
class Trained:
    tagger: EncoderTagger
    result: TrainResult
    output: Path


@pytest.fixture(scope="module")
def trained(tiny_backbone: Path, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    output = tmp_path_factory.mktemp("encoder-run")
    tagger, result = fit(TRAIN, DEV, _config(tiny_backbone), output)
    assert isinstance(tagger, EncoderTagger)
    return Trained(tagger, result, output)


def _check_valid(docs: list[Document], predicted: list[Document], labels: set[str]) -> None:
    assert [(d.id, d.text) for d in predicted] == [(d.id, d.text) for d in docs]
    for doc in predicted:
        previous_end = 0
        for e in doc.entities:  # Document() already checked text == doc.text[start:end]
            assert e.label in labels
            assert e.start >= previous_end  # a flat tagger never overlaps its own mentions
            assert e.score is not None and 0.0 < e.score <= 1.0
            previous_end = e.end


def test_training_lowers_the_loss_and_saves_the_model(trained: Trained) -> None:
    losses = [e["train_loss"] for e in trained.result.epochs]
    assert losses[-1] < losses[0]
    names = {p.name for p in trained.output.iterdir()}
    assert {"model.safetensors", "config.toml", "tags.json", "backbone", "history.json", "learning_curve.png"} <= names
    assert not list(trained.output.glob("*.bin")) and not list(trained.output.glob("*.pt"))  # no pickles


def test_predictions_are_valid_character_spans(trained: Trained) -> None:
    odd = Document(
        "odd",
        "Sjögren’s syndrome\u200b and BRCA1 —  cancer.\n\nTitle: TP53",
        passages=(Passage(0, "Sjögren’s syndrome\u200b and BRCA1 —  cancer."),),
    )
    docs = [*TEST, odd, Document("empty", "   ")]
    _check_valid(docs, trained.tagger.predict(docs), {"Gene", "Disease"})


def test_predictions_do_not_depend_on_the_input_entities(trained: Trained) -> None:
    bare = [d.with_entities(()) for d in TEST]
    assert trained.tagger.predict(TEST) == trained.tagger.predict(bare)


def test_save_and_load_give_identical_predictions(trained: Trained, tmp_path: Path) -> None:
    before = trained.tagger.predict(TEST + DEV)
    trained.tagger.save(tmp_path / "copy")
    assert load_tagger(tmp_path / "copy").predict(TEST + DEV) == before
    assert load_tagger(trained.output).predict(TEST + DEV) == before  # fit ends with the best weights


def test_labels_given_out_of_order_train_a_model_that_loads(tiny_backbone: Path, tmp_path: Path) -> None:
    config = _config(tiny_backbone, "model.labels=['Gene', 'Disease']", "train.max_steps=1")
    tagger, _ = fit(TRAIN[:2], [], config, tmp_path)
    assert tagger.labels == ["Disease", "Gene"]  # one order (sorted) in config.toml, tags.json and the head
    loaded = load_tagger(tmp_path)
    assert loaded.labels == ["Disease", "Gene"]
    assert loaded.predict(TEST) == tagger.predict(TEST)


def test_a_document_longer_than_the_window_gets_a_tag_for_every_token(tiny_backbone: Path, tmp_path: Path) -> None:
    config = _config(tiny_backbone, "model.max_length=16", "model.window_overlap=4", "train.max_steps=1")
    tagger, _ = fit(TRAIN[:2], [], config, tmp_path)
    assert tagger.module is not None
    with torch.no_grad():  # a head that says B-Disease for every word, whatever the context
        tagger.module.head.linear.weight.zero_()
        tagger.module.head.linear.bias.fill_(-10.0)
        tagger.module.head.linear.bias[tagger.tags.index("B-Disease")] = 10.0
    words = " ".join(f"word{i} of the very long sentence without any end" for i in range(12))
    long_doc = Document("long", f"A short one. {words}. Last.")
    # sentence spans that leave text out (as a reader may give them): that text is still tagged
    partial = Document("partial", "Title here. Body text, in no sentence.", sentences=((0, 11),))
    report = Report()
    predicted = tagger.predict([long_doc, partial], report=report)
    assert report.warnings[WINDOWED] == 1 and report.warnings[GAPS] == 1
    for doc, pred in zip([long_doc, partial], predicted, strict=True):
        assert [e.span for e in pred.entities] == tokenize(doc.text)
        assert all(e.label == "Disease" for e in pred.entities)


def test_long_sentences_raise_no_false_indexing_error_warning(tiny_backbone: Path, tmp_path: Path) -> None:
    tagger, _ = fit(TRAIN[:2], [], _config(tiny_backbone, "train.max_steps=1"), tmp_path)
    tagger.tokenizer.model_max_length = 4  # every test sentence is now "too long" for transformers
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("transformers").addHandler(handler)
    try:
        predicted = tagger.predict(TEST)
    finally:
        logging.getLogger("transformers").removeHandler(handler)
    assert len(predicted) == len(TEST)
    assert not [r for r in records if "sequence length is longer" in r.getMessage()]


@pytest.mark.slow
def test_one_seed_gives_the_same_scores_and_another_seed_does_not(tiny_backbone: Path, tmp_path: Path) -> None:
    def run(name: str, seed: int) -> list[dict[str, Any]]:
        config = _config(tiny_backbone, "train.epochs=2", f"train.seed={seed}")
        _, result = fit(TRAIN, DEV, config, tmp_path / name)
        return [{k: v for k, v in e.items() if k != "seconds"} for e in result.epochs]

    first = run("a", 7)
    assert run("b", 7) == first
    assert [e["train_loss"] for e in run("c", 8)] != [e["train_loss"] for e in first]


@pytest.mark.slow
def test_iobes_tags_decode_to_valid_spans(tiny_backbone: Path, tmp_path: Path) -> None:
    tagger, _ = fit(TRAIN, DEV, _config(tiny_backbone, "model.scheme=IOBES", "train.epochs=1"), tmp_path)
    assert {"S-Gene", "E-Disease"} <= set(tagger.tags)
    _check_valid(TEST, tagger.predict(TEST), {"Gene", "Disease"})
    assert load_tagger(tmp_path).predict(TEST) == tagger.predict(TEST)


@pytest.mark.slow
def test_a_roberta_backbone_with_byte_level_bpe_works(tiny_roberta: Path, tmp_path: Path) -> None:
    tagger, result = fit(TRAIN, DEV, _config(tiny_roberta, "model.max_length=32", "model.window_overlap=8"), tmp_path)
    assert result.epochs[-1]["train_loss"] < result.epochs[0]["train_loss"]
    assert tagger.settings.max_length == 32
    long_doc = Document("long", " ".join(["BRCA1 causes breast cancer in many families"] * 6))
    _check_valid([*TEST, long_doc], tagger.predict([*TEST, long_doc]), {"Gene", "Disease"})


@pytest.mark.slow
def test_the_packaged_minilm_trains_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = _config("all-MiniLM-L6-v2", "train.max_steps=1", "train.learning_rate=5e-5")
    tagger, _ = fit(TRAIN[:4], DEV[:1], config, tmp_path)
    assert tagger.settings.max_length == 512
    _check_valid(TEST, load_tagger(tmp_path).predict(TEST), {"Gene", "Disease"})


def test_resolve_backbone_serves_minilm_from_its_package() -> None:
    assert (Path(resolve_backbone("all-MiniLM-L6-v2")) / "model.safetensors").is_file()
    assert resolve_backbone("microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract") == (
        "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract"
    )


def test_bad_backbones_and_model_folders_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(BionerError, match="backbone folder /no/such/backbone does not exist"):
        fit(TRAIN, DEV, _config("/no/such/backbone"), tmp_path / "a")
    with pytest.raises(BionerError, match="cannot load backbone 'not/a/valid/name'"):
        fit(TRAIN, DEV, _config("not/a/valid/name"), tmp_path / "b")
    with pytest.raises(BionerError, match="not a bioner model folder"):
        load_tagger(tmp_path)
    with pytest.raises(BionerError, match="has no model yet"):
        EncoderTagger().predict(TEST)
    with pytest.raises(BionerError, match="hold no entities"):
        fit([d.with_entities(()) for d in TRAIN], DEV, _config("/unused"), tmp_path / "c")


def _split_by_label() -> list[Document]:
    """The training documents as two corpora that each annotate one label (as NCBI-disease and BC2GM do)."""
    genes = [with_corpus(d.with_entities([e for e in d.entities if e.label == "Gene"]), "genes") for d in TRAIN]
    diseases = [
        with_corpus(d.with_entities([e for e in d.entities if e.label == "Disease"]), "diseases") for d in TRAIN
    ]
    return genes + diseases


@pytest.mark.slow
def test_a_mixture_keeps_one_tag_set_per_corpus(tiny_backbone: Path, tmp_path: Path) -> None:
    config = _config(
        tiny_backbone,
        'data.mixture=["genes", "diseases"]',
        "data.weights=[2, 1]",
        "train.epochs=1",
        "dbr=retrieved",
        "dbr.retriever=tfidf",
    )
    report = Report()
    tagger, _ = fit(_split_by_label(), [], config, tmp_path, report=report)
    assert isinstance(tagger, EncoderTagger)
    # dense sentences are made per corpus, for its own type only: at most one per sentence of each corpus
    dense = report.warnings[f"{DENSE_ADDED} (retrieved)"]
    assert 0 < dense <= 2 * sum(len(document_sentences(d)) for d in TRAIN)
    assert [(s.corpus, s.tags) for s in tagger.tag_sets] == [
        ("genes", ("O", "B-Gene", "I-Gene")),
        ("diseases", ("O", "B-Disease", "I-Disease")),
    ]
    assert tagger.tags[3] == "diseases/O"
    saved = json.loads((tmp_path / "tags.json").read_text())
    assert saved["labels_by_corpus"] == {"genes": ["Gene"], "diseases": ["Disease"]}
    docs = [with_corpus(d, "genes") for d in TEST] + [with_corpus(d, "diseases") for d in TEST]
    predicted = tagger.predict(docs)
    assert load_tagger(tmp_path).predict(docs) == predicted
    _check_valid(docs[: len(TEST)], predicted[: len(TEST)], {"Gene"})
    _check_valid(docs[len(TEST) :], predicted[len(TEST) :], {"Disease"})


def test_each_document_is_decoded_with_its_corpus_tag_set(tiny_backbone: Path, tmp_path: Path) -> None:
    tagger, _ = fit(_split_by_label(), [], _config(tiny_backbone, "train.max_steps=1"), tmp_path)
    assert tagger.module is not None
    with torch.no_grad():  # "genes" says B-Gene for every word, "diseases" says B-Disease
        tagger.module.head.linear.weight.zero_()
        tagger.module.head.linear.bias.fill_(-10.0)
        tagger.module.head.linear.bias[tagger.tags.index("genes/B-Gene")] = 10.0
        tagger.module.head.linear.bias[tagger.tags.index("diseases/B-Disease")] = 10.0
    text = "BRCA1 mutations cause cancer."
    report = Report()
    genes, unknown = tagger.predict([with_corpus(Document("a", text), "genes"), Document("b", text)], report=report)
    words = tokenize(text)
    assert [(e.span, e.label) for e in genes.entities] == [(w, "Gene") for w in words]
    # a document from no training corpus gets every corpus's mentions, each kept with its own label
    assert sorted((e.span, e.label) for e in unknown.entities) == sorted(
        [(w, "Gene") for w in words] + [(w, "Disease") for w in words]
    )
    assert all(e.score is not None and e.score > 0.99 for e in unknown.entities)  # renormalised within each set
    assert report.warnings[UNSEEN_CORPUS] == 1


def _damaged(trained: Trained, tmp_path: Path, name: str, content: bytes) -> Path:
    import shutil

    folder = tmp_path / "damaged"
    shutil.copytree(trained.output, folder)
    (folder / name).write_bytes(content)
    return folder


def _other_tensors() -> bytes:
    from safetensors.torch import save

    return save({"something.else": torch.zeros(3)})


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("model.safetensors", lambda data: data[: len(data) // 2]),
        ("model.safetensors", lambda data: b"garbage, not safetensors"),
        ("model.safetensors", lambda data: _other_tensors()),
        ("tags.json", lambda data: b"{not json"),
        ("tags.json", lambda data: b'{"tags": 5}'),
        ("tags.json", lambda data: b"[1, 2]"),
    ],
)
def test_damaged_model_files_are_one_line_errors_naming_the_file(
    trained: Trained, tmp_path: Path, name: str, damage: Any
) -> None:
    folder = _damaged(trained, tmp_path, name, damage((trained.output / name).read_bytes()))
    with pytest.raises(BionerError) as err:
        load_tagger(folder)
    assert str(folder) in str(err.value) and "\n" not in str(err.value)


def test_resume_with_a_damaged_checkpoint_is_a_one_line_error(trained: Trained, tmp_path: Path) -> None:
    folder = _damaged(trained, tmp_path, "checkpoint.safetensors", b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    with pytest.raises(BionerError, match=r"checkpoint\.safetensors: not a readable bioner checkpoint"):
        fit(TRAIN, DEV, _config(resolve_backbone_path(trained), "train.epochs=4"), folder, resume=True)


def test_resume_with_a_changed_model_setting_is_refused_before_any_weight_is_loaded(
    trained: Trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bioner.training.loop as loop

    folder = _damaged(trained, tmp_path, "unused", b"")

    def no_loading(*_: Any) -> None:
        raise AssertionError("weights were loaded")

    monkeypatch.setattr(loop, "load_checkpoint", no_loading)
    config = _config(resolve_backbone_path(trained), "model.dropout=0.3", "train.epochs=4")
    with pytest.raises(BionerError, match=r"cannot resume: the config differs from the checkpoint's in model\.dropout"):
        fit(TRAIN, DEV, config, folder, resume=True)


def resolve_backbone_path(trained: Trained) -> str:
    """The backbone the trained fixture was made from, as its config names it."""
    return str(trained.tagger.settings.backbone)


def _built(backbone: Path, labels_by_corpus: dict[str, list[str]] | None = None, **settings: Any) -> EncoderTagger:
    from bioner.models.encoder import EncoderSettings

    tagger = EncoderTagger(EncoderSettings(backbone=str(backbone), labels=["Disease", "Gene"], **settings))
    tagger.build(labels_by_corpus or {"": ["Disease", "Gene"]}, Report())
    return tagger


def test_document_context_reads_the_neighbouring_sentences_but_tags_only_its_own(tiny_backbone: Path) -> None:
    doc = TRAIN[0]  # two sentences
    alone = _built(tiny_backbone)
    with_context = _built(tiny_backbone, context=4)
    sentences, plain = alone.featurize([doc], gold=True, report=None)
    _, widened = with_context.featurize([doc], gold=True, report=None)
    assert len(sentences) == 2 and len(plain) == len(widened) == 2
    first, second = plain
    cls, sep = first.input_ids[0], first.input_ids[-1]
    first_words, second_words = first.input_ids[1:-1], second.input_ids[1:-1]
    # sentence 1 gets the first 4 sub-tokens of sentence 2 after it, sentence 2 the last 4 of sentence 1 before it
    assert widened[0].input_ids == [cls, *first_words, *second_words[:4], sep]
    assert widened[1].input_ids == [cls, *first_words[-4:], *second_words, sep]
    assert widened[0].labels == first.labels and widened[1].labels == second.labels  # context is never trained on
    assert widened[0].word_index == first.word_index
    assert widened[1].word_index == [i + 4 for i in second.word_index]
    # predictions still cover each sentence's own words only, at valid character spans
    predicted = with_context.predict([doc])
    _check_valid([doc], predicted, {"Disease", "Gene"})


def test_corpus_prefix_puts_the_corpus_name_before_the_words(tiny_backbone: Path) -> None:
    mixture = {"genes": ["Gene"], "diseases": ["Disease"]}
    plain = _built(tiny_backbone, mixture)
    prefixed = _built(tiny_backbone, mixture, corpus_prefix=True)
    doc = with_corpus(TRAIN[0].with_entities([e for e in TRAIN[0].entities if e.label == "Disease"]), "diseases")
    segment = plain.featurize([doc], gold=True, report=None)[1][0]
    lead = prefixed.featurize([doc], gold=True, report=None)[1][0]
    name = prefixed.tokenizer(["diseases"], is_split_into_words=True, add_special_tokens=False)["input_ids"]
    cls, sep = segment.input_ids[0], segment.input_ids[-1]
    assert lead.input_ids == [cls, *name, sep, *segment.input_ids[1:]]
    assert lead.labels == segment.labels and lead.tag_range == segment.tag_range
    assert lead.word_index == [i + len(name) + 1 for i in segment.word_index]
    unseen = prefixed.featurize([TRAIN[0]], gold=False, report=None)[1][0]  # no corpus: no prefix
    assert unseen.input_ids == segment.input_ids


def test_mean_pooling_gives_each_word_its_sub_token_range(tiny_backbone: Path) -> None:
    tagger = _built(tiny_backbone, pooling="mean")
    segment = tagger.featurize([TRAIN[0]], gold=True, report=None)[1][0]
    assert len(segment.word_end) == len(segment.word_index)
    assert segment.word_end[:-1] == segment.word_index[1:]  # words are contiguous
    assert segment.word_end[-1] == len(segment.input_ids) - 1  # the last word ends before [SEP]
    assert _built(tiny_backbone).featurize([TRAIN[0]], gold=True, report=None)[1][0].word_end == []


@pytest.mark.slow
def test_a_crf_head_with_mean_pooling_trains_saves_and_loads_its_transitions(
    tiny_backbone: Path, tmp_path: Path
) -> None:
    tagger, result = fit(TRAIN, DEV, _config(tiny_backbone, "model.head=crf", "model.pooling=mean"), tmp_path)
    assert isinstance(tagger, EncoderTagger) and tagger.module is not None and tagger.module.crf is not None
    losses = [e["train_loss"] for e in result.epochs]
    assert losses[-1] < losses[0]
    transitions = tagger.module.crf.transitions.detach().clone()
    assert transitions.abs().sum() > 0  # learned, not left at zero
    loaded = load_tagger(tmp_path)
    assert isinstance(loaded, EncoderTagger) and loaded.module is not None and loaded.module.crf is not None
    assert torch.equal(loaded.module.crf.transitions, transitions)
    predicted = tagger.predict(TEST)
    assert loaded.predict(TEST) == predicted
    _check_valid(TEST, predicted, {"Disease", "Gene"})
    with pytest.raises(BionerError, match=r"model\.head must be one of softmax, crf"):
        _config(tiny_backbone, "model.head=lstm")
