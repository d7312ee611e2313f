"""The code's shape: no module reaches into another's private names, and benchmarks use public entry points."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _private_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bioner"):
            found += [f"{path.name}:{node.lineno} {alias.name}" for alias in node.names if alias.name.startswith("_")]
    return found


def _private_attributes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.name}:{node.lineno} .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
    ]


def test_no_module_imports_a_private_name_of_another() -> None:
    files = [*(ROOT / "src" / "bioner").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py")]
    assert len(files) > 50
    assert [hit for path in files for hit in _private_imports(path)] == []


def test_benchmarks_touch_no_private_attribute() -> None:
    files = list((ROOT / "benchmarks").glob("*.py"))
    assert files
    assert [hit for path in files for hit in _private_attributes(path)] == []
