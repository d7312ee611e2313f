"""An on-disk cache of answers keyed by (model, prompt): an interrupted run resumes without asking again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bioner.files import atomic_path


@dataclass(frozen=True)
class Completion:
    """A model's answer and what it cost in tokens."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ResponseCache:
    """One JSON file per answer, named by the hash of the model and the full request."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def key(self, model: str, request: Any) -> str:
        blob = json.dumps([model, request], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, key: str) -> Completion | None:
        path = self.folder / f"{key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Completion(str(data["text"]), int(data["prompt_tokens"]), int(data["completion_tokens"]))
        except (OSError, ValueError, KeyError, TypeError):  # absent or half-written: ask again
            return None

    def put(self, key: str, completion: Completion) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.folder / f"{key}.json") as tmp:
            tmp.write_text(json.dumps(asdict(completion), ensure_ascii=False), encoding="utf-8")
