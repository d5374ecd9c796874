"""Counter-based random numbers are the same on CUDA as on the CPU: the same seed gives
the same member keys and bits (integer arithmetic that wraps alike on both), hence equal
uniforms; normals apply erfinv, log and cos, whose float implementations may differ in
the last bit (relative 1e-6). ``torch.Generator`` streams (``rng.generator(seed, stream,
"cuda")``) are a different generator on CUDA: their numbers differ by design."""

from __future__ import annotations

import torch

from neurodyn import rng
from tests.cuda import ON_CUDA, assert_close

pytestmark = ON_CUDA
SEEDS = [0, 1, 7, 123456]


def keys(device: str, stream: str = "dynamics") -> torch.Tensor:
    return rng.member_keys(SEEDS, stream, device)


def test_member_keys_and_uniforms_are_bit_for_bit_the_same():
    assert_close(keys("cuda"), keys("cpu"), rtol=0, atol=0)
    for dtype in (torch.float32, torch.float64):
        on_cpu = rng.counter_uniform(keys("cpu"), 3, (5, 7), dtype)
        on_cuda = rng.counter_uniform(keys("cuda"), 3, (5, 7), dtype)
        assert_close(on_cuda, on_cpu, rtol=0, atol=0)
    levels = [rng.counter_noise_levels(keys(d), 4, 1001) for d in ("cpu", "cuda")]
    assert_close(levels[1], levels[0], rtol=0, atol=0)


def test_counter_noise_is_the_same_on_cuda():
    scale = torch.tensor([1.0, 0.5, 2.0, 0.1])
    on_cpu = rng.counter_noise(keys("cpu"), 9, (3, 100), scale=scale)
    on_cuda = rng.counter_noise(keys("cuda"), 9, (3, 100), scale=scale.cuda())
    assert_close(on_cuda, on_cpu, rtol=1e-6, atol=1e-6)
    normal = [rng.counter_normal(keys(d), 2, (50,), torch.float64) for d in ("cpu", "cuda")]
    assert_close(normal[1], normal[0], rtol=1e-12, atol=1e-12)


def test_task_trials_are_the_same_on_cuda():
    from neurodyn.tasks.romo import Romo

    on_cpu = Romo().sample_members(6, keys("cpu", "task"), 2)
    on_cuda = Romo().sample_members(6, keys("cuda", "task"), 2)
    for name in ("inputs", "targets", "mask"):
        assert_close(getattr(on_cuda, name), getattr(on_cpu, name), rtol=0, atol=0)
