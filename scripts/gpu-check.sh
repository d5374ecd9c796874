#!/usr/bin/env bash
# The GPU checks of issues 20 and 22 on a machine with a CUDA GPU, in under 8 minutes: install
# neurodyn (scripts/install.sh; where that cannot reach a package index, the working tree
# is used through PYTHONPATH), print nvidia-smi, run the `cuda` tests (tests/cuda: CUDA
# against the CPU), then each GPU benchmark next to the same benchmark on this machine's
# CPU. Every step runs under `timeout`; its output goes to ${OUT:-gpu-check-out}/NAME.txt
# and a step that fails or times out is reported, not fatal.
#
#     bash scripts/gpu-check.sh            # OUT=folder to choose where the outputs go
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p "${OUT:-gpu-check-out}"
out=$(cd "${OUT:-gpu-check-out}" && pwd)  # absolute: the benchmarks run in benchmarks/
python=${PYTHON:-python3}
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
began=$SECONDS

step() {  # step NAME SECONDS COMMAND...: run it under timeout, keep its output
  local name=$1 limit=$2
  shift 2
  echo "== $name (at most ${limit} s)"
  local start=$SECONDS
  timeout "$limit" "$@" > "$out/$name.txt" 2>&1
  local code=$?
  tail -n 25 "$out/$name.txt"
  local verdict="ok"
  [ "$code" -eq 124 ] && verdict="TIMED OUT"
  [ "$code" -ne 0 ] && [ "$code" -ne 124 ] && verdict="FAILED (exit $code)"
  echo "$name: $verdict after $((SECONDS - start)) s" | tee -a "$out/summary.txt"
}

: > "$out/summary.txt"
step install 120 bash scripts/install.sh
step nvidia-smi 20 nvidia-smi
step torch 60 "$python" -c "import torch, neurodyn; print('torch', torch.__version__, 'CUDA',
torch.version.cuda, 'available', torch.cuda.is_available(),
torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU')"
step cuda-tests 120 "$python" -m pytest -q -rs -m cuda tests/cuda

cd benchmarks
bench() {  # bench NAME SECONDS ARGS...: the benchmark on the CPU, then on CUDA
  local name=$1 limit=$2
  shift 2
  for device in cpu cuda; do
    step "$name-$device" "$limit" "$python" "$name.py" --device "$device" "$@"
  done
}
bench steering_throughput 30 --steps 50 --repeats 1
bench steering_evaluation 35 --repeats 1
bench rate_ensemble 30 --iterations 1 --rounds 50
bench free_energy_grid 30 --epochs 200 --probe-epochs 50
bench lyapunov_spectrum 20 --steps 100
bench fixed_points 40 --training 100 --iterations 200 --rounds 2  # issue 20's 10x
cd ..
echo "gpu-check: $((SECONDS - began)) s in all; outputs in $out/" | tee -a "$out/summary.txt"
