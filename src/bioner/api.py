"""The Python API: ``bioner.load(...)`` gives a tagger that takes a text, texts or documents.

>>> import bioner
>>> tagger = bioner.load("runs/quickstart")               # a model folder, or a hub name
>>> doc = tagger("Mutations in BRCA1 cause breast cancer.")
>>> [(e.start, e.end, e.label) for e in doc.entities]
>>> linked = bioner.load("runs/quickstart", link="runs/medic-index")  # or tagger(text, link=...)
>>> [(e.text, e.id) for e in linked("Mutations in BRCA1 cause breast cancer.").entities]

The tagger calls the same :class:`~bioner.models.base.Predictor` as ``bioner predict`` and
the server, so the three never disagree; a linker (:mod:`bioner.linking`), named with ``link=``
or by the model's ``[link]`` config table, then gives each mention a concept ID. ``read``,
``write`` and ``evaluate`` wrap the format and scoring layers with the same one-line errors
as the command line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal, overload

from bioner.errors import BionerError, Report
from bioner.evaluation.report import EvalReport
from bioner.linking.linker import Linker, LinkSource, load_linker, saved_link_config
from bioner.models.base import CONFIG_FILE, Predictor, Runtime
from bioner.models.registry import backend as backend_spec
from bioner.models.registry import load_model, saved_runtime, saved_settings
from bioner.types import Document

LinkOption = LinkSource | Literal[False] | None
"""``link=``: an index folder, a ``[link]`` config or a linker; False: no linking; None: the default."""


class Tagger:
    """A loaded model as a callable: ``tagger(text)``, ``tagger([texts])`` or ``tagger(documents)``.

    With a ``linker``, every predicted mention it covers gets a concept ID (or stays NIL).
    """

    def __init__(self, model: Predictor, linker: Linker | None = None) -> None:
        self.model = model
        self.linker = linker

    @property
    def labels(self) -> list[str]:
        return self.model.labels

    @overload
    def __call__(  # type: ignore[overload-overlap]  # a str is also an iterable of str; it comes first
        self, inputs: str | Document, *, labels: Sequence[str] | None = None, link: LinkOption = None
    ) -> Document: ...

    @overload
    def __call__(
        self,
        inputs: Iterable[str] | Iterable[Document],
        *,
        labels: Sequence[str] | None = None,
        link: LinkOption = None,
    ) -> list[Document]: ...

    def __call__(
        self,
        inputs: str | Document | Iterable[str] | Iterable[Document],
        *,
        labels: Sequence[str] | None = None,
        link: LinkOption = None,
    ) -> Document | list[Document]:
        """Documents with predicted entities; a single text or document gives a single document.

        ``link`` overrides the tagger's linker for this call (False: no linking).
        """
        if isinstance(labels, str):
            raise TypeError("labels must be a list of label names, not a string")
        if isinstance(inputs, str | Document):
            return self.predict([inputs], labels=labels, link=link)[0]
        if isinstance(inputs, bytes) or not isinstance(inputs, Iterable):
            raise TypeError(f"tag a str, a Document or a list of them, not {type(inputs).__name__}")
        return self.predict(list(inputs), labels=labels, link=link)

    def predict(
        self,
        inputs: Sequence[str | Document],
        *,
        labels: Sequence[str] | None = None,
        report: Report | None = None,
        link: LinkOption = None,
    ) -> list[Document]:
        """Like calling the tagger, for a list, with a :class:`~bioner.errors.Report` of what was counted."""
        docs = [as_document(item, i) for i, item in enumerate(inputs)]
        predicted = self.model.predict(docs, labels=labels, report=report)
        linker = self.linker if link is None else (None if link is False else load_linker(link, report))
        return linker.link(predicted, report) if linker is not None else predicted


def as_document(item: object, index: int = 0) -> Document:
    """A text as a document (id ``text-N``), a document as it is; anything else is a ``TypeError``."""
    if isinstance(item, Document):
        return item
    if isinstance(item, str):
        return Document(f"text-{index}", item)
    raise TypeError(f"item {index}: expected a str or a bioner Document, got {type(item).__name__}")


def load(
    name_or_folder: str | os.PathLike[str],
    *,
    backend: str | None = None,
    device: str = "auto",
    batch_size: int | None = None,
    link: LinkOption = None,
) -> Tagger:
    """A tagger from a model folder (``bioner train --output``) or a Hugging Face hub name.

    ``link`` names the linker run after prediction (an index folder, a ``[link]`` config or a
    linker); by default a model saved with a ``[link]`` table naming an index links with it,
    and ``link=False`` turns linking off.

    A hub name is downloaded (or found in the hub cache) with ``huggingface_hub``; a
    repository that holds a bioner model folder loads as one. ``backend`` names the backend
    for a folder or repository that is not a bioner model (a published GLiNER model with
    ``backend="span"``, say), which that backend's ``from_pretrained`` reads itself.
    """
    folder = Path(name_or_folder).expanduser()
    if backend is not None:
        spec = backend_spec(backend)
        runtime = Runtime(device=device, batch_size=batch_size or Runtime.batch_size)
        linker = None if link is None or link is False else load_linker(link)
        return Tagger(spec.cls.from_pretrained(str(name_or_folder), runtime=runtime), linker)
    if not folder.is_dir():
        folder = _from_hub(str(name_or_folder))
    if not (folder / CONFIG_FILE).is_file():
        raise BionerError(f"{folder}: not a bioner model folder (no {CONFIG_FILE}); name its backend= to load it")
    _, _, tables = saved_settings(folder)
    saved = saved_runtime(tables)
    runtime = Runtime(device=device, precision=saved.precision, batch_size=batch_size or saved.batch_size)
    return Tagger(load_model(folder, runtime=runtime), model_linker(folder, tables, link))


def model_linker(folder: Path, tables: dict[str, object], link: LinkOption = None) -> Linker | None:
    """The linker ``link`` names, else the one the model's ``[link]`` table names, else None."""
    if link is False:
        return None
    if link is not None:
        return load_linker(link)
    saved = saved_link_config(tables, str(folder / CONFIG_FILE))
    return load_linker(saved) if saved is not None else None


def _from_hub(name: str) -> Path:
    """The local snapshot of hub repository ``name`` (the cache only, when ``HF_HUB_OFFLINE`` is set)."""
    if name.startswith(("/", "./", "../", "~")) or name.count("/") > 1:
        raise BionerError(f"{name}: no such model folder")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id=name))
    except LocalEntryNotFoundError:
        raise BionerError(f"{name}: not a model folder, and not in the hub cache (the hub is unreachable)") from None
    except (HfHubHTTPError, OSError, ValueError) as err:
        raise BionerError(f"{name}: cannot download it from the hub: {str(err).splitlines()[0]}") from None


def read(path: str | os.PathLike[str], format: str | None = None, report: Report | None = None) -> list[Document]:
    """The documents of a file (or folder) in any format bioner reads, plain text included."""
    from bioner.formats.plain import read_input

    return read_input(Path(path), format, report if report is not None else Report())


def write(docs: Iterable[Document], path: str | os.PathLike[str], format: str | None = None) -> Report:
    """Write documents in any format (from the file name by default); returns the report of what it lost."""
    from bioner.formats import write_documents

    return write_documents(list(docs), Path(path), format)


def evaluate(
    gold: Iterable[Document], predicted: Iterable[Document], *, labels: Sequence[str] | None = None
) -> EvalReport:
    """Strict/exact/partial/type scores on character spans, per label and by length (``bioner evaluate``)."""
    from bioner.evaluation.evaluate import evaluate as score

    gold_docs, predicted_docs = list(gold), list(predicted)
    for name, docs in (("gold", gold_docs), ("predicted", predicted_docs)):
        for doc in docs:
            if not isinstance(doc, Document):
                raise TypeError(f"{name}: expected bioner Documents, got {type(doc).__name__}")
    return score(gold_docs, predicted_docs, labels=labels)
