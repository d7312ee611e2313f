"""The ``prompted`` backend: a generative LLM asked for mentions, offsets recovered from its answer.

No training: a config with ``[model] backend = "prompted"`` is a ready model (``bioner predict
CONFIG.toml IN OUT``). Each document is cut into passages of whole sentences (``chunk_chars``),
each passage becomes one prompt (:mod:`bioner.prompting.template`, with ``shots`` examples from
the training split of ``shots_corpus``), the answers come from an OpenAI-compatible server or
local transformers generation through an on-disk cache, and :mod:`bioner.prompting.parse` and
:mod:`bioner.prompting.align` turn them into character spans of the input. Every problem
(broken JSON, stray labels, mentions not in the text, failed requests) and the token use and
cost go to the :class:`~bioner.errors.Report`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from bioner.backbones import DEFAULT_DECODER
from bioner.errors import BionerError, Report
from bioner.files import cache_dir
from bioner.models.base import BackendSettings, Runtime
from bioner.models.registry import read_model_config, register, settings_from
from bioner.prompting.align import align
from bioner.prompting.cache import Completion, ResponseCache
from bioner.prompting.chunks import chunk_spans
from bioner.prompting.clients import Client, OpenAIClient, TransformersClient
from bioner.prompting.grammar import AnswerGrammar
from bioner.prompting.parse import parse_answer
from bioner.prompting.shots import ShotSelector, candidate_examples
from bioner.prompting.template import Example, Message, answer_schema, load_template
from bioner.types import Document

REQUESTS = "LLM requests sent"
CACHED = "LLM answers read from the cache"
FAILED = "LLM requests failed after retries (their passages got no mentions)"
PROMPT_TOKENS = "LLM prompt tokens"
COMPLETION_TOKENS = "LLM completion tokens"
COST = "LLM cost in micro-dollars (at model.price_input / price_output)"
PASSAGES = "passages prompted"


@dataclass
class PromptedSettings(BackendSettings):
    """``[model]`` of the ``prompted`` backend."""

    client: str = "transformers"
    """``transformers`` (local generation) or ``openai`` (any OpenAI-compatible server)."""
    model: str = DEFAULT_DECODER
    """The model: a server's model name, or for local generation a folder or packaged name."""
    base_url: str = ""
    """The server's ``/v1`` URL (``openai`` client); empty: ``OPENAI_BASE_URL`` or OpenAI's."""
    api_key_env: str = "OPENAI_API_KEY"
    """The environment variable holding the key (never the key itself in a config)."""
    template: str = "genovardis"
    """A packaged template name or a ``.toml`` file."""
    definitions: list[str] = field(default_factory=list)
    """``"LABEL=one-line definition"`` items, over the template's own."""
    shots: int = 0
    """Few-shot examples per prompt, from ``shots_corpus``'s training split."""
    shots_corpus: str = ""
    """The corpus whose training split gives the examples (needed when ``shots`` > 0)."""
    selection: str = "random"
    """``random`` (the same examples for every prompt, chosen with ``seed``) or ``nearest`` (MiniLM embedding)."""
    seed: int = 13
    max_new_tokens: int = 256
    temperature: float = 0.0
    json_schema: bool = True
    """Ask the server for JSON of the answer's schema (``response_format``) where it supports one."""
    constrained: bool = True
    """Local generation only: every token must keep the answer inside the template's JSON, with mentions
    copied from the passage and labels from the set (:mod:`bioner.prompting.grammar`)."""
    chunk_chars: int = 1500
    """Longest passage in one prompt, in characters (whole sentences; a longer sentence is cut at spaces)."""
    concurrency: int = 4
    """Requests in flight at once (local generation runs one at a time)."""
    timeout: float = 120.0
    """Seconds per request before it is retried."""
    retries: int = 3
    """Retries with exponential backoff (the ``openai`` package's) before a request counts as failed."""
    cache: str = ""
    """Folder of the response cache; empty: bioner's cache folder (``prompted``)."""
    price_input: float = 0.0
    """Dollars per million prompt tokens, for the cost in the report."""
    price_output: float = 0.0
    """Dollars per million completion tokens."""

    def problems(self) -> list[str]:
        problems = []
        if self.client not in {"transformers", "openai"}:
            problems.append(f"model.client must be 'transformers' or 'openai', got {self.client!r}")
        if self.selection not in {"random", "nearest"}:
            problems.append(f"model.selection must be 'random' or 'nearest', got {self.selection!r}")
        if self.shots < 0:
            problems.append(f"model.shots must not be negative, got {self.shots}")
        if self.shots and not self.shots_corpus:
            problems.append("model.shots needs model.shots_corpus (the corpus whose training split gives examples)")
        for name in ("max_new_tokens", "chunk_chars", "concurrency"):
            if getattr(self, name) < 1:
                problems.append(f"model.{name} must be at least 1, got {getattr(self, name)}")
        if self.timeout <= 0 or self.retries < 0 or self.temperature < 0:
            problems.append("model.timeout must be positive, model.retries and model.temperature not negative")
        if any("=" not in item for item in self.definitions):
            problems.append("model.definitions items are 'LABEL=definition'")
        return problems


@register("prompted", PromptedSettings)
class PromptedTagger:
    """Zero- or few-shot extraction by prompting; any labels at prediction time."""

    def __init__(self, settings: PromptedSettings | None = None, runtime: Runtime | None = None) -> None:
        self.settings = settings or PromptedSettings()
        self.runtime = runtime or Runtime()
        self.template = load_template(self.settings.template)
        self.cache = ResponseCache(self.settings.cache or cache_dir("prompted"))
        self.client: Client | None = None
        self.examples: list[Example] | None = None

    @property
    def labels(self) -> list[str]:
        return list(self.settings.labels)

    @classmethod
    def from_pretrained(cls, name_or_folder: str | Path, *, runtime: Runtime | None = None) -> Self:
        """From a config file (or a folder holding ``config.toml``) whose ``[model]`` is a prompted one."""
        tables = read_model_config(name_or_folder)
        model = dict(tables.get("model", {}))
        model.pop("backend", None)
        settings = settings_from("prompted", model, str(name_or_folder))
        assert isinstance(settings, PromptedSettings)
        return cls(settings, runtime)

    def connect(self) -> Client:
        """The client the settings name, made on first use."""
        if self.client is None:
            s = self.settings
            if s.client == "openai":
                self.client = OpenAIClient(
                    s.base_url,
                    s.model,
                    s.api_key_env,
                    timeout=s.timeout,
                    retries=s.retries,
                    max_new_tokens=s.max_new_tokens,
                    temperature=s.temperature,
                )
            else:
                from bioner.models.device import inference_bf16, resolve_device

                bf16 = inference_bf16(self.runtime.precision, resolve_device("cpu"))
                self.client = TransformersClient(s.model, max_new_tokens=s.max_new_tokens, bf16=bf16)
        return self.client

    def selector(self, labels: Sequence[str]) -> ShotSelector | None:
        if not self.settings.shots:
            return None
        if self.examples is None:
            from bioner.corpora import load_corpus

            train = load_corpus(self.settings.shots_corpus, ["train"])["train"]
            self.examples = candidate_examples(train, labels, self.settings.chunk_chars)
        if not self.examples:
            raise BionerError(f"model.shots_corpus {self.settings.shots_corpus!r} has no training passages")
        return ShotSelector(self.examples, self.settings.shots, self.settings.selection, self.settings.seed)

    def predict(
        self,
        docs: Iterable[Document],
        *,
        labels: Sequence[str] | None = None,
        report: Report | None = None,
        progress: bool = False,
    ) -> list[Document]:
        """The documents with the mentions the model names, each aligned to a real span of the text."""
        from bioner.progress import progress_bar

        wanted = list(dict.fromkeys(labels if labels is not None else self.labels))
        if not wanted:
            raise BionerError("labels: a prompted model has no labels of its own; name the labels to tag")
        counts = Report()
        documents = list(docs)
        selector = self.selector(wanted)
        definitions = dict(item.split("=", 1) for item in self.settings.definitions)
        schema = answer_schema(wanted) if self.settings.json_schema else None
        jobs: list[tuple[int, int, str, list[Message]]] = []
        for d, doc in enumerate(documents):
            for start, end in chunk_spans(doc, self.settings.chunk_chars):
                passage = doc.text[start:end]
                shots = selector.select(passage) if selector else []
                jobs.append((d, start, passage, self.template.messages(wanted, passage, shots, definitions)))
        counts.warn(PASSAGES, len(jobs))
        client = self.connect()
        entities: list[list[Any]] = [[] for _ in documents]
        workers = 1 if isinstance(client, TransformersClient) else self.settings.concurrency
        bar = progress_bar(unit="passage", enabled=progress)
        with bar, ThreadPoolExecutor(max_workers=workers) as pool:
            task = bar.add_task("prompt", total=len(jobs), info="")
            answers = pool.map(
                lambda job: self._answer(client, job[3], schema, counts, self._grammar(job[2], wanted)), jobs
            )
            for (d, start, passage, _), answer in zip(jobs, answers, strict=True):
                if answer is not None:
                    mentions = parse_answer(answer.text, wanted, counts)
                    entities[d] += align(passage, mentions, counts, offset=start)
                bar.update(task, advance=1)
        cost = counts.warnings[PROMPT_TOKENS] * self.settings.price_input
        cost += counts.warnings[COMPLETION_TOKENS] * self.settings.price_output
        counts.warn(COST, round(cost))
        if report is not None:
            report.merge(counts)
        return [doc.with_entities(found) for doc, found in zip(documents, entities, strict=True)]

    @property
    def _constrains_locally(self) -> bool:
        """Whether local generation is held to the answer's grammar (a server constrains by the schema)."""
        return self.settings.constrained and self.settings.client == "transformers"

    def _grammar(self, passage: str, labels: list[str]) -> AnswerGrammar | None:
        """The answer's grammar for local constrained generation, else ``None``."""
        return AnswerGrammar(passage, labels) if self._constrains_locally else None

    def _answer(
        self,
        client: Client,
        messages: list[Message],
        schema: dict[str, Any] | None,
        counts: Report,
        grammar: AnswerGrammar | None,
    ) -> Completion | None:
        """The cached answer, else the client's (cached once received); ``None`` when every try failed."""
        key = self.cache.key(client.model, {"messages": messages, "schema": schema, "settings": self._request()})
        cached = self.cache.get(key)
        if cached is not None:
            counts.warn(CACHED)
            return cached
        try:
            answer = client.complete(messages, schema, grammar)
        except BionerError:
            raise
        except Exception:
            counts.lose(FAILED)
            return None
        counts.warn(REQUESTS)
        counts.warn(PROMPT_TOKENS, answer.prompt_tokens)
        counts.warn(COMPLETION_TOKENS, answer.completion_tokens)
        self.cache.put(key, answer)
        return answer

    def _request(self) -> dict[str, Any]:
        """The settings that change an answer, part of the cache key."""
        s = self.settings
        request: dict[str, Any] = {"client": s.client, "max_new_tokens": s.max_new_tokens, "temperature": s.temperature}
        if s.client == "transformers":
            request["precision"] = self.runtime.precision
        if self._constrains_locally:
            request["constrained"] = True
        return request
