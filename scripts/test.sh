#!/usr/bin/env bash
# The whole test suite: lint, format check, types, the architecture (layers, dependencies), then pytest
# (slow tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
.venv/bin/deptry src
.venv/bin/pytest -n 2 "$@"
