#!/usr/bin/env bash
# Install neurodyn (editable) with its test tools. Where no PyTorch is installed yet, the
# CPU build is installed first, so that the requirement torch>=2.4 does not pull a
# multi-GB CUDA build: on machines whose pip is configured with a local wheel folder
# (find-links) `torch==2.13.0` comes from there; elsewhere set NEURODYN_TORCH_INDEX to
# PyTorch's CPU index (https://download.pytorch.org/whl/cpu) or install torch yourself.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if ! "$python" -c "import torch" 2>/dev/null; then
  if [ -n "${NEURODYN_TORCH_INDEX:-}" ]; then
    "$python" -m pip install --quiet torch --index-url "$NEURODYN_TORCH_INDEX"
  else
    "$python" -m pip install --quiet "torch==2.13.0"
  fi
fi
# mnist1d generates MNIST-1D offline for steering-harder (and its tests).
"$python" -m pip install --quiet -e ".[dev,slurm,mnist1d]"
# The neurogym adapter's tests need neurogym. neurogym 2.3.1 pins numpy==2.2.* and
# matplotlib==3.10.* exactly yet runs on the newer ones installed here, so it is installed
# without its pins, followed by its other requirements.
"$python" -m pip install --quiet --no-deps "neurogym==2.3.1" "gymnasium==0.29.1"
"$python" -m pip install --quiet pydantic-settings loguru tomlkit natsort cloudpickle \
  farama-notifications
