#!/usr/bin/env bash
# Build the side environment of the peer: REaLTabFormer 0.2.4 with transformers 4.
#
# REaLTabFormer 0.2.4 needs transformers < 5, so it cannot share fuseprune's
# .venv (transformers 5). This builds a separate venv at ${PEER_VENV:-<repo>/.venv-peer}:
# the CPU build of torch first (an unpinned torch pulls gigabytes of CUDA), then
# REaLTabFormer with a transformers 4 pin that works with that torch.
#
#   bash bench/peer/setup.sh                 # -> .venv-peer
#   PEER_VENV=/somewhere bash bench/peer/setup.sh
#
# Rerunning it on a built environment only checks it.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PEER_VENV="${PEER_VENV:-$REPO/.venv-peer}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
RTF_SPEC="realtabformer==0.2.4"
TRANSFORMERS_SPEC="transformers>=4.46,<5"
# REaLTabFormer 0.2.4 predates pandas 3: under pandas 3 its decoding checks `dtype == "object"`
# against the new string dtype and returns numbers as text.
PANDAS_SPEC="pandas>=2,<3"
STAMP="$PEER_VENV/.installed"

if [ ! -f "$STAMP" ]; then
    "$PYTHON" -m venv "$PEER_VENV"
    "$PEER_VENV/bin/python" -m pip install --quiet --upgrade pip
    "$PEER_VENV/bin/python" -m pip install --quiet "$TORCH_SPEC"
    "$PEER_VENV/bin/python" -m pip install --quiet "$TORCH_SPEC" "$RTF_SPEC" "$TRANSFORMERS_SPEC" "$PANDAS_SPEC"
    touch "$STAMP"
fi
"$PEER_VENV/bin/python" - <<'PY'
import pandas, realtabformer, torch, transformers
print(f"peer environment ready: realtabformer {realtabformer.__version__}, "
      f"transformers {transformers.__version__}, torch {torch.__version__}, pandas {pandas.__version__}")
PY
echo "python: $PEER_VENV/bin/python"
