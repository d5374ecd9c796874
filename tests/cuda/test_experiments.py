"""Every registered experiment's tiny run with ``--device cuda`` against the same run on
the CPU, through the command (``neurodyn run NAME --config tiny.json --device cuda``).

How close the two results must be depends on where the experiment's random numbers come
from (docs/guarantees.md, "Devices"):

* the rate experiments draw everything from counter-based streams or CPU generators, so
  both devices train on the same trials from the same weights in float32 with full
  precision: every number of result.json agrees within 0.05 absolute or 5 % (a test
  accuracy over 20 trials moves by 0.05 per trial; learning-rate choices, fixed-point
  counts and argmaxes could flip on a near tie, hence not bit for bit);
* the steering experiments draw their stochastic dynamics from ``torch.Generator``
  streams on the device, which differ on CUDA by design, and the free-energy
  experiments iterate stochastic sampling thousands of times in float32, where rounding
  differences grow: for both only the same result layout and finite numbers wherever
  the CPU's are finite are required (``rate-fixed-points`` too: its slow-point counts
  follow an optimisation whose stopping step can move).
"""

from __future__ import annotations

import json
import math

import pytest

from neurodyn import cli, config, experiments
from tests.cuda import ON_CUDA

pytestmark = ON_CUDA
CLOSE = {"rate-gain", "rate-gain-dale", "rate-lyapunov"}  # see the module's docstring
TIMINGS = ("seconds", "time")  # wall-clock entries are never compared


def run(name: str, device: str, folder, *extra: str) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    settings = folder / "tiny.json"
    settings.write_text(json.dumps(config.to_dict(experiments.get(name).tiny())))
    out = folder / f"run-{device}"
    args = ["run", name, "--out", out, "--config", settings, "--device", device, *extra]
    assert cli.main([str(a) for a in [*args, "--no-progress"]]) == 0
    return json.loads((out / "result.json").read_text())


def numbers(value, path=()):
    """(path, number) of every number in a JSON value (None for JSON's null)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not any(word in str(key) for word in TIMINGS):
                yield from numbers(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from numbers(item, (*path, index))
    elif value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        yield path, value


def finite(value) -> bool:
    return value is not None and math.isfinite(value)


@pytest.mark.parametrize("name", experiments.names())
def test_the_tiny_run_on_cuda_agrees_with_the_cpu(name, tmp_path):
    on_cpu, on_cuda = run(name, "cpu", tmp_path), run(name, "cuda", tmp_path)
    assert on_cuda["config"] == on_cpu["config"] | {"device": "cuda"}
    assert set(on_cuda) == set(on_cpu)
    cpu_numbers = dict(numbers({k: v for k, v in on_cpu.items() if k != "config"}))
    cuda_numbers = dict(numbers({k: v for k, v in on_cuda.items() if k != "config"}))
    if name in CLOSE:
        assert cuda_numbers.keys() == cpu_numbers.keys()
    for path, value in cuda_numbers.items():
        expected = cpu_numbers.get(path)
        if finite(expected):
            assert finite(value), (path, value, expected)
        if name in CLOSE and finite(expected):
            assert value == pytest.approx(expected, rel=0.05, abs=0.05), path


def test_a_deterministic_run_on_cuda_repeats_bit_for_bit(tmp_path):
    """rate-gain with --deterministic: two runs give the same result.json (timings aside),
    and the marker records it; an operation without a deterministic CUDA implementation
    would fail the run."""
    first = run("rate-gain", "cuda", tmp_path / "first", "--deterministic")
    second = run("rate-gain", "cuda", tmp_path / "second", "--deterministic")
    assert dict(numbers(first)) == dict(numbers(second))
    marker = json.loads((tmp_path / "first" / "run-cuda" / "neurodyn-run.json").read_text())
    assert marker["deterministic"] is True and marker["float32_matmul_precision"] == "highest"
