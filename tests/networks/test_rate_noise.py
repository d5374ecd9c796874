"""Recurrent and input noise of rate RNNs (Yang & Wang 2020): the scaling against the
Ornstein-Uhlenbeck variance, counter seeding (reproducible, independent across members,
an ensemble member equal to its lone run), and noise off by default."""

import math

import pytest
import torch

from neurodyn import rng, rules
from neurodyn.networks import rate_noise
from neurodyn.networks.rate import LeakyRateNetwork
from neurodyn.rules import rate_rule
from neurodyn.tasks.decision import PerceptualDecision
from neurodyn.tasks.romo import Romo
from neurodyn.training.rate import train_rate


def test_counter_noise_is_standard_normal_and_per_member():
    keys = rng.member_keys([0, 1, 2], "task")
    z = rng.counter_noise(keys, 5, (400, 251))  # an odd count
    assert z.shape == (3, 400, 251) and z.dtype == torch.float32
    flat = z.double().flatten(1)
    torch.testing.assert_close(
        flat.mean(1), torch.zeros(3, dtype=torch.float64), atol=0.005, rtol=0
    )
    torch.testing.assert_close(flat.std(1), torch.ones(3, dtype=torch.float64), atol=0.005, rtol=0)
    kurtosis = (flat**4).mean(1) / flat.var(1) ** 2
    torch.testing.assert_close(
        kurtosis, torch.full((3,), 3.0, dtype=torch.float64), atol=0.05, rtol=0
    )
    assert abs(float(torch.corrcoef(flat[:2])[0, 1])) < 0.01  # members independent
    assert torch.equal(rng.counter_noise(keys[1:2], 5, (400, 251))[0], z[1])
    assert not torch.equal(rng.counter_noise(keys, 6, (400, 251)), z)
    split = rng.split_keys(keys, "dynamics")
    assert torch.equal(split[1:2], rng.split_keys(keys[1:2], "dynamics"))
    assert not bool((split == keys).any())


@pytest.mark.parametrize("shape", [(32, 56, 64), (3, 5, 7), (1, 1, 1)])
def test_the_numba_path_gives_the_numbers_of_counter_noise(shape):
    """Exactly, in any layout (here also a time-major buffer seen as (E, B, T, N)), for
    either dtype."""
    keys = rng.member_keys([0, 1, 7, 123456789], "task")
    scale = torch.tensor([0.5, 1.0, 2.0, 3.0])
    for counter in (0, 5, 2**40):
        expected = rng.counter_noise(keys, counter, shape, scale=scale)
        for dtype in (torch.float32, torch.float64):
            out = torch.empty(4, *shape, dtype=dtype)
            rate_noise._normals_into(keys, counter, scale, out)
            torch.testing.assert_close(out, expected.to(dtype), rtol=0, atol=0)
        B, T, N = shape
        steps = torch.empty(T, 4, B, N).permute(1, 2, 0, 3)
        rate_noise._normals_into(keys, counter, scale, steps)
        torch.testing.assert_close(steps, expected, rtol=0, atol=0)


def test_members_without_noise_get_zeros_and_the_others_their_own_numbers():
    """One hashing pass over all members, runs of drawn members in any order: a drawn
    member's rows are its counter_noise, an undrawn member's are zero (the buffer held
    garbage), in a time-major layout too."""
    keys = rng.member_keys(list(range(6)), "task")
    scale = torch.tensor([0.0, 0.5, 1.0, 0.0, 0.0, 2.0])
    expected = rng.counter_noise(keys, 3, (4, 5, 7), scale=scale)
    expected[scale == 0] = 0
    steps = torch.full((5, 6, 4, 7), math.nan).permute(1, 2, 0, 3)
    assert rate_noise._member_noise(keys, 3, scale, steps) is steps
    torch.testing.assert_close(steps, expected, rtol=0, atol=0)
    assert rate_noise._member_noise(keys, 3, torch.zeros(6), steps) is None


def test_every_bit_pattern_gives_a_finite_normal_number_inside_the_tails():
    """All 2^23 values of the low bits (and high bits ignored): finite, symmetric about 0,
    increasing, the extremes at +-5.29 (u = 2^-24); 24 bits rounded the largest to 1 and
    erfinv(1) = inf (a real NaN in a quick rate-gain-dale run)."""
    low = torch.arange(1 << 23, dtype=torch.int32)
    z = (
        math.sqrt(2) * rng.levels_from_bits(low | (1 << 30), out=torch.empty(1 << 23)).erfinv()
    )  # high bits masked
    assert bool(z.isfinite().all()) and bool((z.diff() > 0).all())
    assert torch.equal(z, -z.flip(0))
    assert abs(float(z[-1]) - 5.2947) < 1e-3


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.9])
def test_recurrent_noise_gives_the_leak_its_stationary_variance(alpha):
    """With W = 0 and no input, h_t = alpha h_{t-1} + sqrt(2 (1 - alpha)) sigma xi_t: the
    stationary variance is 2 sigma^2 / (1 + alpha), sigma^2 as dt / tau -> 0."""
    sigma = 0.3
    network = LeakyRateNetwork(1, 50, 1, ensemble_size=2, alpha=alpha, recurrent_noise=sigma)
    weights = network.init([0, 1])
    weights.recurrent.zero_()
    x = torch.zeros(2, 40, 200, 1)
    x, noise = network.sample_noise(x, rng.member_keys([0, 1], "task"), 0)
    _, hidden = network.run(weights, x, noise=noise)
    variance = hidden[:, :, 100:].var()
    assert float(variance) == pytest.approx(2 * sigma**2 / (1 + alpha), rel=0.03)


def test_input_noise_and_its_members():
    network = LeakyRateNetwork(2, 5, 1, ensemble_size=3, input_noise=[0.0, 0.2, 0.2])
    keys = rng.member_keys([0, 1, 1], "task")
    x, recurrent = network.sample_noise(torch.ones(100, 30, 2), keys, 3)
    assert recurrent is None and x.shape == (3, 100, 30, 2)
    assert torch.equal(x[0], torch.ones(100, 30, 2))  # a member without noise draws none
    assert float((x[1] - 1).std()) == pytest.approx(0.2, rel=0.03)
    assert torch.equal(x[1], x[2])  # the same seed, the same noise
    again, _ = network.sample_noise(torch.ones(100, 30, 2), keys, 3)
    assert torch.equal(again, x)
    other, _ = network.sample_noise(torch.ones(100, 30, 2), keys, 4)
    assert not torch.equal(other, x)


def test_noise_is_off_by_default():
    network = LeakyRateNetwork(1, 5, 1, ensemble_size=2)
    x = torch.randn(2, 3, 4, 1)
    noisy, recurrent = network.sample_noise(x, rng.member_keys([0, 1], "task"), 0)
    assert not network.noisy and recurrent is None and torch.equal(noisy, x)


@pytest.mark.parametrize("rule", ["bptt", "eprop", "rflo"])
def test_noisy_ensemble_members_equal_their_lone_runs(rule):
    gains, seeds = [0.5, 1.5, 1.0], [0, 1, 2]
    options = {"recurrent_noise": [0.05, 0.1, 0.0], "input_noise": [0.01, 0.0, 0.0]}
    net = LeakyRateNetwork(3, 16, 3, ensemble_size=3, gain=gains, alpha=0.5, **options)
    task = PerceptualDecision(tau=200.0)
    arguments = {"iterations": 4, "learning_rate": 3e-3, "batch_size": 8}
    weights, losses = train_rate(
        net, net.init(seeds), task, rule=rules.get(rule)(), seeds=seeds, **arguments
    )
    for e in range(3):
        member = {k: v[e] for k, v in options.items()}
        alone = LeakyRateNetwork(3, 16, 3, gain=gains[e], alpha=0.5, **member)
        w1, l1 = train_rate(
            alone, alone.init(seeds[e]), task, rule=rules.get(rule)(), seeds=[seeds[e]], **arguments
        )
        assert torch.equal(w1.recurrent[0], weights.recurrent[e])
        assert torch.equal(l1[:, 0], losses[:, e])
    quiet = LeakyRateNetwork(3, 16, 3, gain=gains[2], alpha=0.5)
    w2, l2 = train_rate(
        quiet, quiet.init(seeds[2]), task, rule=rules.get(rule)(), seeds=[2], **arguments
    )
    assert torch.equal(l2[:, 0], losses[:, 2])  # the noiseless member is the noiseless network


def test_noise_changes_the_gradients_and_a_rule_without_noise_is_refused():
    net = LeakyRateNetwork(1, 8, 2, ensemble_size=2, recurrent_noise=0.1)
    quiet = LeakyRateNetwork(1, 8, 2, ensemble_size=2)
    weights, keys = net.init([0, 1]), rng.member_keys([0, 1], "task")
    options = {"batch_size": 3, "keys": keys, "counter": 0, "workspace": None}
    noisy, _ = rules.BPTT().gradients(net, weights, Romo(), **options)
    clean, _ = rules.BPTT().gradients(quiet, weights, Romo(), **options)
    assert not torch.allclose(noisy.recurrent, clean.recurrent)

    class Deaf(rate_rule.BatchRule):
        def batch_gradients(self, network, weights, x, targets, mask, loss, *, workspace=None):
            raise AssertionError("not reached")

    with pytest.raises(ValueError, match="Deaf.batch_gradients takes no noise= argument"):
        Deaf().gradients(net, weights, Romo(), **options)


def test_bad_noise_arguments_are_refused():
    net = LeakyRateNetwork(1, 8, 2, ensemble_size=2, recurrent_noise=0.1)
    weights, keys = net.init([0, 1]), rng.member_keys([0, 1], "task")
    x = torch.zeros(2, 3, 5, 1)
    with pytest.raises(ValueError, match=r"noise must have shape \(2, 3, 5, 8\)"):
        net.run(weights, x, noise=torch.zeros(2, 3, 5, 7))
    bad = torch.zeros(2, 3, 5, 8)
    bad[0, 0, 0, 0] = math.nan
    with pytest.raises(ValueError, match="noise contains 1 NaN"):
        net.run(weights, x, noise=bad)
    with pytest.raises(ValueError, match="keys must hold one key per member"):
        net.sample_noise(x, keys[:1], 0)
    with pytest.raises(ValueError, match="counter must be"):
        net.sample_noise(x, keys, -1)
