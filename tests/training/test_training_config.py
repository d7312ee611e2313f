"""Training configs: TOML files, --set overrides with type coercion, clear errors, the shipped configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bioner.corpora import CORPORA
from bioner.errors import BionerError
from bioner.training.config import Config, apply_overrides, from_dict, load_config

CONFIGS = Path(__file__).parents[2] / "configs"


def test_defaults_need_no_file() -> None:
    config = load_config()
    assert config.model.backend == "encoder"
    assert config.model.backbone == "all-MiniLM-L6-v2"
    assert config.train.max_steps == 0 and config.data.limit is None


def test_overrides_are_coerced_to_the_field_types() -> None:
    config = apply_overrides(
        Config(),
        [
            "train.epochs=3",
            "train.learning_rate=1e-5",
            "train.warmup_ratio=0",  # an int where a float is wanted widens
            "model.scheme=IOBES",
            "model.labels=['Gene', 'Disease']",
            "data.limit=20",
            "data.corpus=ncbi-disease",  # not TOML: read as a plain string
        ],
    )
    assert config.train.epochs == 3 and config.train.learning_rate == 1e-5
    assert isinstance(config.train.warmup_ratio, float)
    assert config.model.scheme == "IOBES" and config.model.labels == ["Gene", "Disease"]
    assert config.data.limit == 20 and config.data.corpus == "ncbi-disease"
    assert apply_overrides(config, ["data.limit=none"]).data.limit is None
    llm = apply_overrides(Config(), ["model.backend=llm-tagger", "model.quantize=none"])
    assert llm.model.quantize == "none"  # a value, not a clearing


def test_a_key_of_another_backend_is_named_as_such() -> None:
    with pytest.raises(
        BionerError, match=r"model.quantize is a setting of the generative and llm-tagger backends, not of 'encoder'"
    ):
        apply_overrides(Config(), ["model.quantize=none"])
    with pytest.raises(
        BionerError, match=r"model.scheme is a setting of the encoder and generative backends, not of 'llm-tagger'"
    ):
        from_dict({"model": {"backend": "llm-tagger", "scheme": "IOBES"}})
    switched = apply_overrides(Config(), ["model.scheme=IOBES"])
    with pytest.raises(BionerError, match=r"model.scheme is a setting of the encoder and generative backends"):
        apply_overrides(switched, ["model.backend=llm-tagger"])  # a changed key the new backend lacks
    kept = apply_overrides(Config(), ["model.max_length=64", "model.window_overlap=16", "model.backend=llm-tagger"])
    assert kept.model.backend == "llm-tagger" and kept.model.max_length == 64


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_non_finite_numbers_and_huge_integers_are_refused(value: str) -> None:
    with pytest.raises(BionerError, match=r"'train.learning_rate' must be a finite number"):
        apply_overrides(Config(), [f"train.learning_rate={value}"])
    with pytest.raises(BionerError, match=r"'train.seed' is out of range"):
        apply_overrides(Config(), [f"train.seed={2**64}"])


def test_overrides_do_not_touch_the_original() -> None:
    original = Config()
    apply_overrides(original, ["train.epochs=1", "model.labels=['X']"])
    assert original.train.epochs == 20 and original.model.labels == []


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.epoch=3", "unknown config key 'train.epoch'.*epochs"),
        ("trian.epochs=3", "unknown config key 'trian.epochs'"),
        ("train.epochs=three", "'train.epochs' must be an integer, got 'three'"),
        ("train.epochs=2.5", "'train.epochs' must be an integer"),
        ("train.seed=none", "'train.seed' cannot be empty"),
        ("model.scheme=BIO", "unknown tag scheme .BIO.; schemes are: IOB2, IOBES"),
        ("model.backend=crf", "unknown backend .crf.; known backends: encoder, generative, llm-tagger, prompted, span"),
        ("train.epochs=0", "train.epochs must be at least 1"),
        ("epochs", "expected key=value"),
    ],
)
def test_bad_overrides_are_one_line_errors(override: str, message: str) -> None:
    with pytest.raises(BionerError, match=message) as err:
        apply_overrides(Config(), [override])
    assert "\n" not in str(err.value)


def test_unknown_tables_and_conflicting_data_are_errors() -> None:
    with pytest.raises(BionerError, match=r"unknown config table \[optim\]"):
        from_dict({"optim": {"lr": 1}})
    with pytest.raises(BionerError, match=r"either data\.corpus or data\.train"):
        from_dict({"data": {"corpus": "bc5cdr", "train": "x.jsonl"}})


def test_file_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text('[data]\ntrain = "data/train.jsonl"\n\n[train]\nepochs = 2\n')
    config = load_config(path, ["train.batch_size=4"])
    assert config.data.train == str(tmp_path / "data" / "train.jsonl")
    assert config.train.epochs == 2 and config.train.batch_size == 4


def test_bad_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(BionerError, match="no such config file"):
        load_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[train\n")
    with pytest.raises(BionerError, match="invalid TOML"):
        load_config(broken)


def test_saved_config_loads_back_equal(tmp_path: Path) -> None:
    config = apply_overrides(Config(), ["model.labels=['Gene']", "train.epochs=2", "data.train=/x/train.jsonl"])
    loaded = load_config(config.save(tmp_path / "config.toml"))
    assert loaded == config


@pytest.mark.parametrize(
    "path", [CONFIGS / "quickstart.toml", *sorted(CONFIGS.glob("encoder/*.toml"))], ids=lambda p: p.stem
)
def test_shipped_configs_load_and_name_known_corpora(path: Path) -> None:
    config = load_config(path, ["train.max_steps=5", "data.limit=20"])
    assert config.data.corpus in CORPORA or (config.data.mixture and set(config.data.mixture) <= set(CORPORA))
    assert config.train.max_steps == 5 and config.data.limit == 20


def test_every_corpus_of_the_issue_has_a_full_config() -> None:
    wanted = {"ncbi-disease", "bc5cdr", "bc2gm", "jnlpba", "linnaeus", "s800", "biored", "chemprot", "pharmaconer"}
    assert {p.stem for p in (CONFIGS / "encoder").glob("*.toml")} >= wanted
    for name in wanted:
        assert load_config(CONFIGS / "encoder" / f"{name}.toml").data.corpus == name
