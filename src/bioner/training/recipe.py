"""The training recipe every trainable backend shares, written once.

From a config and its documents: the seed; the documents grouped by corpus, each corpus with
the labels it is trained on (all of ``model.labels`` for a single corpus, or those of them the
corpus annotates in a mixture: a corpus never teaches a type it leaves unannotated as ``O``);
knowledge-injection samples per corpus (VANER's DBR); the mixture sampled by its weights; then
the backend's :meth:`~bioner.models.base.Trainable.prepare`, the shared loop
(:mod:`bioner.training.loop`) with dev scoring on strict F1 and the best model saved, the best
model put back, and a model card. A backend sees only :class:`~bioner.models.base.TrainingData`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from bioner.corpora.naming import group_by_corpus
from bioner.errors import BionerError, Report
from bioner.knowledge.dense import training_samples
from bioner.models.base import Runtime, Trainable, TrainingData
from bioner.models.quantize import Int8Calibrated
from bioner.models.registry import backend
from bioner.training.card import write_card
from bioner.training.checkpoint import checkpoint_state
from bioner.training.config import Config
from bioner.training.data import load_splits
from bioner.training.loop import TrainResult, check_output, check_resumable
from bioner.training.loop import fit as run_loop
from bioner.training.mixture import corpus_weights, weighted_sample
from bioner.types import Document


def prepare_data(train: Sequence[Document], config: Config, report: Report) -> TrainingData:
    """The training documents grouped, labelled, knowledge-injected and sampled as ``config`` says."""
    by_corpus = group_by_corpus(train, config.data.corpus)
    labels_by_corpus = corpus_labels(by_corpus, list(config.model.labels), report)
    if not labels_by_corpus:
        raise BionerError("the training documents hold no entities: nothing to learn")
    documents: list[Document] = []
    groups: list[str] = []
    dense = {}
    for name, labels in labels_by_corpus.items():
        docs = [only_labels(d, labels, report) for d in by_corpus[name]]
        documents += docs
        groups += [name] * len(docs)
        samples = training_samples(docs, labels, config.dbr, report=report)
        if samples:
            dense[name] = samples
    if config.data.mixture:
        chosen = weighted_sample(groups, corpus_weights(config.data), config.train.seed)
        documents = [documents[i] for i in chosen]
    return TrainingData(documents, labels_by_corpus, dense, config.train.seed)


def corpus_labels(by_corpus: dict[str, list[Document]], wanted: list[str], report: Report) -> dict[str, list[str]]:
    """The labels each training corpus is trained on, sorted: ``wanted`` (all of them for one corpus, else
    those the corpus annotates) or every label it annotates. A corpus with none is left out, and reported.

    Sorted whatever order ``model.labels`` gives, so that the tag sets, the saved config and the model's
    ``labels`` all have one order (a saved model is checked against it when it loads)."""
    found: dict[str, list[str]] = {}
    for name, docs in by_corpus.items():
        seen = {e.label for d in docs for e in d.entities}
        asked = sorted(set(wanted)) or sorted(seen)
        labels = asked if len(by_corpus) == 1 else [label for label in asked if label in seen]
        if labels:
            found[name] = labels
        else:
            report.lose(f"training documents of {name or 'unnamed'} (no entities of the labels to learn)", len(docs))
    return found


def only_labels(doc: Document, labels: Sequence[str], report: Report) -> Document:
    """``doc`` with only the entities of ``labels``; the others are counted as lost."""
    kept = [e for e in doc.entities if e.label in labels]
    report.lose("training entities with a label outside model.labels", len(doc.entities) - len(kept))
    return doc if len(kept) == len(doc.entities) else doc.with_entities(kept)


def new_model(config: Config) -> Trainable:
    """An untrained model of the configured backend, with the run's device, precision and batch size."""
    spec = backend(config.model.backend)
    train = config.train
    runtime = Runtime(device=train.device, precision=train.precision, batch_size=train.eval_batch_size)
    model = spec.cls(dataclasses.replace(config.model), runtime)  # type: ignore[call-arg]
    if not isinstance(model, Trainable):
        raise BionerError(f"the {spec.name} backend is not trainable: use it with bioner predict")
    return model


def fit(
    train: Sequence[Document],
    dev: Sequence[Document],
    config: Config,
    output: str | Path,
    *,
    resume: bool = False,
    progress: bool = False,
    report: Report | None = None,
) -> tuple[Trainable, TrainResult]:
    """Train the configured backend on ``train``, stopping early on ``dev`` strict F1; the best model is saved
    in ``output`` and is the model returned."""
    import torch

    from bioner.evaluation.evaluate import evaluate as score

    report = report if report is not None else Report()
    out = Path(output)
    checkpoint = check_output(out, resume)
    data = prepare_data(train, config, report)
    requested = dataclasses.replace(config, model=dataclasses.replace(config.model, labels=data.labels))
    if resume:  # before any weight is loaded: a changed setting makes the checkpoint meaningless
        saved = checkpoint_state(checkpoint).get("requested")
        if saved is not None:
            check_resumable(saved, requested.to_dict())
    model = new_model(requested)
    torch.manual_seed(config.train.seed)  # the fresh head (and LoRA adapters) start from the seed
    task = model.prepare(data, report)
    resolved = dataclasses.replace(config, model=model.settings)
    model.provenance = resolved.to_dict()
    labels = data.labels
    dev_docs = list(dev)

    def evaluate() -> dict[str, float] | None:
        if not dev_docs:
            return None
        strict = score(dev_docs, model.predict(dev_docs), labels=labels).overall["strict"]
        return {"precision": strict.precision, "recall": strict.recall, "f1": strict.f1}

    result = run_loop(
        task,
        resolved,
        out,
        evaluate=evaluate,
        save_best=lambda: model.save(out),
        requested=requested.to_dict(),
        resume=resume,
        progress=progress,
    )
    model.restore(out)
    if isinstance(model, Int8Calibrated):  # int8 prediction's smoothing, from the training documents as given
        model.calibrate_int8(train)
        model.save_int8_calibration(out)  # the weights saved at the best epoch stay as they are
    write_card(out, resolved, result.summary())
    return model, result


def train(
    config: Config, output: str | Path, *, resume: bool = False, progress: bool = False, report: Report | None = None
) -> tuple[Trainable, TrainResult]:
    """:func:`fit` on the training and dev splits the config names."""
    report = report if report is not None else Report()
    check_output(Path(output), resume)  # before the slow part: reading data, loading the backbone
    splits = load_splits(config.data, ("train", "dev"), report)
    return fit(splits["train"], splits["dev"], config, output, resume=resume, progress=progress, report=report)
