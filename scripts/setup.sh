#!/usr/bin/env bash
# Create or reuse .venv and install bioner with everything it needs.
# torch is installed first and pinned so pip takes the CPU wheel on disk, not a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
# The web page's browser test drives Debian's headless Chromium (never a browser downloaded by playwright).
if ! command -v chromium > /dev/null; then
    if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
    DEBIAN_FRONTEND=noninteractive $apt_get install -y -q chromium > /dev/null \
        || { DEBIAN_FRONTEND=noninteractive $apt_get update -q > /dev/null \
             && DEBIAN_FRONTEND=noninteractive $apt_get install -y -q chromium > /dev/null; }
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.bioner-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q torch==2.13.0
    .venv/bin/python -m pip install -q -e ".[all,dev]"
    echo "$want" > "$stamp"
fi
