"""The shared asynchronous kernel: orders, acceptance draws and sweeps against dense loops."""

import numpy as np
import pytest
import torch

from neurodyn import rng
from neurodyn.networks.spin_sweeps import acceptance_draws, asynchronous_sweep, sweep_order

MASK64 = (1 << 64) - 1


def reference_order(seed, sweep, size):
    """Fisher-Yates with SplitMix64 (rng.mix64 on an int64 tensor) of seed + (t n + k) golden."""
    golden = rng.GOLDEN & MASK64
    order, counter = list(range(size)), (seed + sweep * size * golden) & MASK64
    for i in range(size - 1, 0, -1):
        counter = (counter + golden) & MASK64
        z = int(rng.mix64(torch.tensor(rng.signed64(counter)))) & MASK64
        j = z % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**62 - 1, 2**63 + 5, MASK64])
def test_orders_are_splitmix64_fisher_yates_shuffles(seed):
    for size, sweep in ((1, 0), (2, 3), (7, 0), (33, 1), (64, 1000)):
        assert sweep_order(seed, sweep, size).tolist() == reference_order(seed, sweep, size)


def test_acceptance_draws_are_uniform_and_differ_between_sweeps():
    draws = torch.cat([acceptance_draws(seed, 0, 1000) for seed in range(20)])
    assert 0 <= float(draws.min()) and float(draws.max()) < 1
    assert abs(float(draws.mean()) - 0.5) < 0.01
    assert abs(float((draws < 0.3).double().mean()) - 0.3) < 0.01
    assert not torch.equal(acceptance_draws(3, 0, 50), acceptance_draws(3, 1, 50))
    assert torch.equal(acceptance_draws(3, 1, 50), acceptance_draws(3, 1, 50))


def dense_fields(static, couplings, strength, spins):
    """static + sum_j s^l_j J^l_ji + lambda (s^{l-1}_i + s^{l+1}_i), one instance: (L, H)."""
    fields = static + torch.einsum("lj,lji->li", spins, couplings)
    fields[1:] += strength * spins[:-1]
    fields[:-1] += strength * spins[1:]
    return fields


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_kernel_equals_a_dense_per_unit_loop(layers):
    gen = torch.Generator().manual_seed(layers)
    G, M, H, accept, sweeps = 2, 5, 7, 0.7, 3
    couplings = torch.randn(G, layers, H, H, generator=gen, dtype=torch.float64) / H**0.5
    strength = torch.tensor([0.8, 1.3], dtype=torch.float64)
    network = torch.tensor([0, 1, 1, 0, 1])
    self_coupling = torch.tensor([0.0, 0.3, 0.6, 0.2, 0.0], dtype=torch.float64)
    static = torch.randn(M, layers, H, generator=gen, dtype=torch.float64) * 0.5
    start = torch.randint(-1, 2, (M, layers, H), generator=gen).double()  # zeros included
    seeds = torch.randint(0, 2**62, (M,), generator=gen)
    active = np.array([True, True, False, True, True])
    spins = start.clone().numpy()
    fields = torch.stack(
        [
            dense_fields(static[m], couplings[network[m]], strength[network[m]], start[m])
            for m in range(M)
        ]
    ).numpy()
    changes = np.zeros(M, dtype=np.int64)
    expected = start.clone()
    for sweep in range(sweeps):
        asynchronous_sweep(
            couplings.numpy(),
            network.numpy(),
            strength.numpy(),
            self_coupling.numpy(),
            spins,
            fields,
            seeds.numpy().view(np.uint64),
            np.uint64(sweep),
            accept,
            active,
            changes,
        )
        for m in np.flatnonzero(active):
            g, s, changed = int(network[m]), expected[m], 0
            draws = acceptance_draws(int(seeds[m]), sweep, layers * H)
            for k, unit in enumerate(sweep_order(int(seeds[m]), sweep, layers * H).tolist()):
                layer, i = divmod(unit, H)
                h = float(dense_fields(static[m], couplings[g], strength[g], s)[layer, i])
                old = float(s[layer, i])
                new = np.sign(h) if old == 0 else (-old if old * h < -self_coupling[m] else old)
                if new != old and draws[k] < accept:
                    s[layer, i], changed = new, changed + 1
            assert changes[m] == changed, (sweep, m)
    assert torch.equal(torch.from_numpy(spins), expected)
    assert torch.equal(torch.from_numpy(spins[2]), start[2])  # inactive: left alone
    for m in np.flatnonzero(active):
        exact = dense_fields(static[m], couplings[network[m]], strength[network[m]], expected[m])
        torch.testing.assert_close(torch.from_numpy(fields[m]), exact, rtol=0, atol=1e-12)
