"""Reading what a model really returns: fences, trailing text, broken JSON, stray labels, duplicates.

Nothing here raises on model output: every problem is counted in a :class:`~bioner.errors.Report`
under one of the names below and the answer yields what could be read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bioner.errors import Report

FENCED = "answers wrapped in a code fence"
TRAILING = "answers with text around the JSON (ignored)"
BROKEN = "answers with broken JSON (complete mentions salvaged)"
UNREADABLE = "answers with no readable JSON (no mentions)"
NOT_MENTION = "answer items that are not a mention object"
OUTSIDE = "mentions with a label outside the label set (dropped)"
EMPTY = "mentions with an empty text (dropped)"
DUPLICATE = "duplicate mentions in one answer (kept once)"

_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)(?:```|$)", re.DOTALL)
_OBJECT = re.compile(r"\{[^{}\[\]]*\}")
TEXT_KEYS = ("text", "mention", "entity", "span", "name")
LABEL_KEYS = ("label", "type", "entity_type", "category", "class")


@dataclass(frozen=True)
class Mention:
    """A mention as the model wrote it; ``occurrence`` (1-based) when the answer says which one."""

    text: str
    label: str
    occurrence: int | None = None


def parse_answer(answer: str, labels: Sequence[str], report: Report) -> list[Mention]:
    """The mentions of ``answer`` whose label is in ``labels`` (matched case-insensitively), once each."""
    value = _json_value(answer, report)
    canonical = {label.casefold(): label for label in labels}
    mentions: list[Mention] = []
    seen: set[Mention] = set()
    for item in _items(value, report):
        text, label, occurrence = item
        if not text.strip():
            report.lose(EMPTY)
            continue
        known = canonical.get(label.strip().casefold())
        if known is None:
            report.lose(OUTSIDE)
            continue
        mention = Mention(text, known, occurrence)
        if mention in seen:
            report.warn(DUPLICATE)
            continue
        seen.add(mention)
        mentions.append(mention)
    return mentions


def _json_value(answer: str, report: Report) -> Any:
    """The first JSON value of the answer, fences and trailing text removed; broken JSON salvaged."""
    text = answer.strip()
    fence = _FENCE.search(text)
    if fence:
        report.warn(FENCED)
        text = fence.group(1).strip()
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        report.warn(UNREADABLE)
        return None
    start = min(starts)
    try:
        value, end = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError:
        salvaged = []
        for match in _OBJECT.finditer(text, start):
            try:
                salvaged.append(json.loads(match.group(0)))
            except json.JSONDecodeError:
                continue
        report.warn(BROKEN if salvaged else UNREADABLE)
        return salvaged
    if start > 0 or text[end:].strip():
        report.warn(TRAILING)
    return value


def _items(value: Any, report: Report) -> list[tuple[str, str, int | None]]:
    """(text, label, occurrence) of every mention-shaped item: ``{"entities": [...]}``, a list, or label -> texts."""
    if isinstance(value, dict):
        inner = next((value[k] for k in ("entities", "mentions", "results") if k in value), None)
        if inner is not None:
            value = inner
        elif _mention_of(value) is not None:
            value = [value]
        else:  # {"Gene": ["BRCA1", ...], ...}
            pairs: list[tuple[str, str, int | None]] = []
            for label, texts in value.items():
                for text in texts if isinstance(texts, list) else [texts]:
                    if isinstance(text, str):
                        pairs.append((text, str(label), None))
                    else:
                        report.warn(NOT_MENTION)
            return pairs
    if not isinstance(value, list):
        if value is not None:
            report.warn(NOT_MENTION)
        return []
    out = []
    for item in value:
        mention = _mention_of(item) if isinstance(item, dict) else None
        if mention is None:
            report.warn(NOT_MENTION)
        else:
            out.append(mention)
    return out


def _mention_of(item: dict[str, Any]) -> tuple[str, str, int | None] | None:
    text = next((item[k] for k in TEXT_KEYS if isinstance(item.get(k), str)), None)
    label = next((item[k] for k in LABEL_KEYS if isinstance(item.get(k), str)), None)
    if text is None or label is None:
        return None
    occurrence = item.get("occurrence")
    valid = isinstance(occurrence, int) and not isinstance(occurrence, bool) and occurrence >= 1
    return text, label, occurrence if valid else None
