import json
from pathlib import Path
from typing import Any

import pytest

from bioner.errors import InputError, Report
from bioner.formats import jsonl
from bioner.types import Document

GOOD: dict[str, Any] = {"id": "d1", "text": "Aspirin hurts.", "entities": []}
ENTITY: dict[str, Any] = {"start": 0, "end": 7, "label": "Chemical", "text": "Aspirin"}


def read_lines(tmp_path: Path, *records: Any, report: Report | None = None) -> list[Document]:
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return list(jsonl.read(path, report))


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({**GOOD, "text": 5}, "'id' and 'text' must be strings"),
        ({**GOOD, "meta": []}, "'meta' must be an object, got list"),
        ({**GOOD, "meta": "x"}, "'meta' must be an object, got str"),
        ({**GOOD, "entities": {}}, "'entities' must be a list, got dict"),
        ({**GOOD, "entities": ["Aspirin"]}, "an entity must be an object, got str"),
        ({**GOOD, "entities": [{**ENTITY, "attrs": []}]}, "entity 'attrs' must be an object, got list"),
        ({**GOOD, "entities": [{**ENTITY, "label": 3}]}, "entity 'label' must be a string, got int"),
        ({**GOOD, "entities": [{**ENTITY, "score": "high"}]}, "entity 'score' must be a number"),
        ({**GOOD, "entities": [{**ENTITY, "id": ["a"]}]}, "entity 'id' must be a string, got list"),
        ({**GOOD, "passages": ["x"]}, "a passage must be an object, got str"),
        ({**GOOD, "passages": [{"offset": "0", "text": "Aspirin"}]}, "passage 'offset' must be an integer"),
        ({**GOOD, "sentences": [[0]]}, "a sentence must be a [start, end] pair"),
        ({**GOOD, "sentences": 3}, "'sentences' must be a list, got int"),
        ([GOOD], "expected a JSON object per line, got list"),
    ],
)
def test_wrong_types_are_one_line_errors_naming_file_and_line(tmp_path: Path, record: Any, message: str) -> None:
    with pytest.raises(InputError) as err:
        read_lines(tmp_path, GOOD, record)
    assert str(err.value).startswith(f"{tmp_path / 'docs.jsonl'}:2: ") and message in str(err.value)


def test_numeric_ids_are_read_as_text_and_counted(tmp_path: Path) -> None:
    report = Report()
    [doc] = read_lines(tmp_path, {**GOOD, "id": 17, "entities": [{**ENTITY, "id": 2244}]}, report=report)
    assert doc.id == "17" and doc.entities[0].id == "2244"
    assert report.warnings == {
        "document ids that are numbers (read as text)": 1,
        "entity ids that are numbers (read as text)": 1,
    }


def test_deeply_nested_json_is_an_error_not_a_recursion_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"docs\.jsonl:1: JSON nested too deeply"):
        read_lines(tmp_path, "[" * 100_000 + "]" * 100_000)


def test_an_error_quotes_only_an_excerpt_of_a_huge_line(tmp_path: Path) -> None:
    huge = "x" * 5_000_000
    with pytest.raises(InputError) as err:
        read_lines(tmp_path, {**GOOD, "entities": [{**ENTITY, "text": huge}]})
    assert len(str(err.value)) < 1500
