"""The response cache: a second run asks nothing; a half-written entry is asked again."""

from __future__ import annotations

from pathlib import Path

from bioner.prompting.cache import Completion, ResponseCache


def test_resume_reads_answers_back(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    key = cache.key("m", {"messages": [{"role": "user", "content": "hi"}]})
    assert cache.get(key) is None
    cache.put(key, Completion("{}", 3, 1))
    assert ResponseCache(tmp_path).get(key) == Completion("{}", 3, 1)
    assert cache.key("other", {"messages": []}) != key
    (tmp_path / f"{key}.json").write_text("{broken")
    assert cache.get(key) is None
