#!/usr/bin/env bash
# The main job: describe a corpus (statistics table, JSON and plots under outputs/).
# The encoder issue turns this into train + evaluate + annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
corpus=${1:-bc5cdr}
mkdir -p outputs/stats
.venv/bin/bioner corpus stats "$corpus" --plot "outputs/stats/$corpus"
.venv/bin/bioner corpus stats "$corpus" --json > "outputs/stats/$corpus/stats.json"
echo "statistics of $corpus: outputs/stats/$corpus/stats.json and plots in outputs/stats/$corpus/"
