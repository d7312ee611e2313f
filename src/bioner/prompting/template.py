"""Prompt templates in TOML files: the GenoVarDis structure (task, labels, format, examples, no-entity answer)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bioner.errors import BionerError

Message = dict[str, str]
"""One chat message: ``{"role": ..., "content": ...}``."""
FIELDS = ("task", "labels_header", "output", "no_entity", "examples_header", "example", "query")


@dataclass(frozen=True)
class Example:
    """A few-shot example: a text and the mentions (text, label) it holds, in text order."""

    text: str
    mentions: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Template:
    """The parts of a prompt; ``{text}`` and ``{answer}`` are filled per example and query."""

    task: str
    labels_header: str
    output: str
    no_entity: str
    examples_header: str
    example: str
    query: str
    definitions: dict[str, str] = field(default_factory=dict)

    def messages(
        self,
        labels: Sequence[str],
        text: str,
        examples: Sequence[Example] = (),
        definitions: Mapping[str, str] | None = None,
    ) -> list[Message]:
        """One user message: task, labels with definitions, output format, no-entity answer, examples, query."""
        known = {**self.definitions, **(definitions or {})}
        lines = [f"- {label}: {known[label]}" if label in known else f"- {label}" for label in labels]
        parts = [self.task, "\n".join([self.labels_header, *lines]), self.output, self.no_entity]
        if examples:
            shown = [self.example.format(text=e.text, answer=answer_json(e.mentions)) for e in examples]
            parts.append("\n\n".join([self.examples_header, *shown]))
        parts.append(self.query.format(text=text))
        return [{"role": "user", "content": "\n\n".join(parts)}]


def answer_json(mentions: Sequence[tuple[str, str]]) -> str:
    """The answer the template asks for, as the examples show it."""
    return json.dumps({"entities": [{"text": t, "label": label} for t, label in mentions]}, ensure_ascii=False)


def answer_schema(labels: Sequence[str]) -> dict[str, Any]:
    """The JSON schema of an answer (for servers that constrain output to a schema)."""
    mention = {
        "type": "object",
        "properties": {"text": {"type": "string"}, "label": {"type": "string", "enum": list(labels)}},
        "required": ["text", "label"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"entities": {"type": "array", "items": mention}},
        "required": ["entities"],
        "additionalProperties": False,
    }


def load_template(name_or_path: str) -> Template:
    """A packaged template by name (``genovardis``) or a TOML file; a bad file is a one-line error."""
    path = Path(name_or_path).expanduser()
    if path.suffix == ".toml":
        if not path.is_file():
            raise BionerError(f"prompt template {path} does not exist")
        raw = path.read_bytes()
        source = str(path)
    else:
        packaged = resources.files(__package__).joinpath("templates", f"{name_or_path}.toml")
        if not packaged.is_file():
            raise BionerError(f"unknown prompt template {name_or_path!r} (a packaged name or a .toml file)")
        raw = packaged.read_bytes()
        source = f"template {name_or_path}"
    try:
        table = tomllib.loads(raw.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise BionerError(f"{source}: invalid TOML: {err}") from None
    missing = [key for key in FIELDS if not isinstance(table.get(key), str)]
    if missing:
        raise BionerError(f"{source}: template needs the text key {missing[0]!r}")
    definitions = table.get("definitions", {})
    if not isinstance(definitions, dict) or not all(isinstance(v, str) for v in definitions.values()):
        raise BionerError(f"{source}: [definitions] maps labels to one-line strings")
    for key in ("example", "query"):
        if "{text}" not in table[key]:
            raise BionerError(f"{source}: {key} must hold {{text}}")
    return Template(**{key: table[key] for key in FIELDS}, definitions=dict(definitions))
