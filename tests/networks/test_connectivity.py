"""Dale's law and connectivity masks of rate RNNs: spectra against theory, the
parameterisation, per-member masks, and their argument checks."""

import math

import pytest
import torch

from neurodyn.networks import connectivity
from neurodyn.networks.rate import LeakyRateNetwork

F64 = torch.float64


def spectra(network, seeds):
    """Eigenvalues (E, N) of J = W_eff^T of the initialisation, sorted by decreasing |lambda|."""
    weights = network.init(seeds)
    values = torch.linalg.eigvals(network.recurrent_weights(weights).double().mT)
    order = values.abs().argsort(dim=-1, descending=True)
    return values.gather(-1, order)


def test_balanced_initialisation_has_its_bulk_within_the_gain_and_no_outlier():
    """Rajan & Abbott 2006: zero input sums per unit; largest |lambda| <= 1.1 g at N = 256
    (20 seeds, two gains)."""
    seeds = list(range(20))
    for gain in (0.5, 1.5):
        network = LeakyRateNetwork(
            1, 256, 1, ensemble_size=20, gain=gain, dale=True, dale_init="balanced"
        )
        weights = network.init(seeds)
        effective = network.recurrent_weights(weights).double()
        assert float(effective.sum(1).abs().max()) < 1e-5 * gain  # sum_j W[j, i] = 0
        largest = spectra(network, seeds)[:, 0].abs()
        assert float(largest.max()) <= 1.1 * gain
        assert float(largest.min()) >= 0.9 * gain  # the disk does reach g


def test_plain_initialisation_has_its_outlier_where_theory_puts_it():
    """|N(0, g^2/N)| with signs: a real outlier at g sqrt(2 N q / pi) (2 f - 1) and the rest
    within the bulk radius g sqrt(1 - 2 q / pi). Over 40 seeds at N = 256 the outlier was
    within 1.8% of theory (sd 0.8%) and the bulk within 1.06 of its radius; with a random
    mask of q = 0.5, 4.1% (sd 1.7%) and 1.14: tolerances 5% / 1.1 and 8% / 1.2."""
    seeds = list(range(10))
    for gain, probability in ((1.0, 1.0), (0.5, 1.0), (1.0, 0.5)):
        mask = connectivity.random_mask(seeds, 256, probability) if probability < 1 else None
        network = LeakyRateNetwork(1, 256, 1, ensemble_size=10, gain=gain, dale=True, mask=mask)
        values = spectra(network, seeds)
        density = 1.0 if mask is None else float(mask.mean())
        theory = connectivity.plain_outlier(256, gain, 0.8, density)
        fraction = 205 / 256  # round(0.8 N) excitatory units
        expected = gain * math.sqrt(2 * 256 * density / math.pi) * (2 * fraction - 1)
        assert theory == pytest.approx(expected)
        tolerance, bulk_tolerance = (0.05, 1.1) if mask is None else (0.08, 1.2)
        expected = torch.full((10,), theory, dtype=F64)
        torch.testing.assert_close(values[:, 0].real, expected, rtol=tolerance, atol=0)
        assert float(values[:, 0].imag.abs().max()) < 1e-9
        bulk = gain * math.sqrt(1 - 2 * density / math.pi)
        assert float(values[:, 1].abs().max()) <= bulk_tolerance * bulk


def test_signs_follow_the_presynaptic_unit_and_the_map_is_a_projection():
    network = LeakyRateNetwork(
        1,
        10,
        1,
        ensemble_size=3,
        dale=[True, True, False],
        dale_init=["plain", "balanced", "plain"],
    )
    weights = network.init([0, 1, 2])
    effective = network.recurrent_weights(weights)
    signs = connectivity.unit_signs(10, 0.8)
    assert signs.tolist() == [1.0] * 8 + [-1.0] * 2
    for e in (0, 1):
        assert bool((effective[e] * signs[:, None] > 0).all())  # row j has the sign of unit j
    torch.testing.assert_close(effective[2], weights.recurrent[2])  # no Dale: unchanged
    twice = network.recurrent_weights(network.effective(weights))
    assert torch.equal(twice, effective)
    torch.manual_seed(0)
    scrambled = type(weights)(torch.randn(3, 10, 10), weights.inputs, weights.readout)
    projected = network.recurrent_weights(scrambled)
    assert bool((projected[:2] * signs[:, None] >= 0).all())  # any W~ gives Dale weights


def test_unconstrained_networks_are_untouched():
    network = LeakyRateNetwork(1, 6, 1, ensemble_size=2)
    weights = network.init([0, 1])
    assert network.constraints is None and network.effective(weights) is weights
    assert network.recurrent_weights(weights) is weights.recurrent


def test_random_masks_are_per_member_and_have_their_density():
    masks = connectivity.random_mask([0, 1, 2], 200, [0.2, 0.5, 1.0])
    density = masks.mean((1, 2))
    torch.testing.assert_close(density, torch.tensor([0.2, 0.5, 1.0]), atol=0.01, rtol=0)
    alone = connectivity.random_mask([1], 200, 0.5)
    assert torch.equal(alone[0], masks[1])  # a member's mask depends on its seed alone
    assert not torch.equal(connectivity.random_mask([3], 200, 0.5)[0], alone[0])
    network = LeakyRateNetwork(1, 200, 1, ensemble_size=3, mask=masks)
    weights = network.init([0, 1, 2])
    assert bool((weights.recurrent[masks == 0] == 0).all())
    kept = weights.recurrent[0][masks[0] == 1]  # scaled by 1 / sqrt(q): variance g^2 / N
    assert float(kept.std() * math.sqrt(200 * 0.2)) == pytest.approx(1.0, rel=0.05)


def test_block_and_area_probabilities():
    table = connectivity.block_probabilities([3, 2], [[0.1, 0.2], [0.3, 0.4]])
    assert table.shape == (5, 5)
    assert table[0, 0] == 0.1 and table[2, 4] == 0.2 and table[3, 1] == 0.3 and table[4, 4] == 0.4
    areas = connectivity.area_probabilities([2, 2, 1], 1.0, [[0, 0.5, 0], [0, 0, 0.5], [0, 0, 0]])
    assert areas[0, 1] == 1.0 and areas[0, 2] == 0.5 and areas[2, 0] == 0.0 and areas[4, 4] == 1.0
    masks = connectivity.random_mask([0, 1], 5, areas)
    assert bool((masks[:, areas == 0] == 0).all()) and bool((masks[:, areas == 1] == 1).all())


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"dale": "yes"}, TypeError, "dale must be one bool"),
        ({"dale": [True]}, ValueError, "dale must be one bool or 2 of them"),
        ({"dale": True, "dale_init": "sparse"}, ValueError, "dale_init"),
        ({"excitatory_fraction": 1.5}, ValueError, r"excitatory_fraction must lie in \[0, 1\]"),
        ({"excitatory_fraction": math.nan}, ValueError, "excitatory_fraction must be a finite"),
        ({"mask": torch.ones(3, 3)}, ValueError, r"mask must have shape \(4, 4\) or \(2, 4, 4\)"),
        ({"mask": torch.full((4, 4), 0.5)}, ValueError, "mask must hold only 0 and 1"),
        ({"mask": [[1]]}, TypeError, "mask must be a torch.Tensor"),
        ({"recurrent_noise": -0.1}, ValueError, "recurrent_noise must be >= 0"),
        ({"input_noise": [0.1, 0.1, 0.1]}, ValueError, "input_noise has 3 values"),
    ],
)
def test_bad_constraint_arguments_are_refused(options, error, message):
    with pytest.raises(error, match=message):
        LeakyRateNetwork(1, 4, 1, ensemble_size=2, **options)


def test_bad_mask_arguments_are_refused():
    with pytest.raises(ValueError, match=r"probability must lie in \[0, 1\]"):
        connectivity.random_mask([0], 4, 1.5)
    with pytest.raises(ValueError, match="probability has 2 values"):
        connectivity.random_mask([0], 4, [0.5, 0.5])
    with pytest.raises(ValueError, match="probabilities must be \\(2, 2\\)"):
        connectivity.block_probabilities([2, 2], [0.5, 0.5])
    with pytest.raises(ValueError, match="sizes must be positive integers"):
        connectivity.block_probabilities([2, 0], [[1, 1], [1, 1]])
    with pytest.raises(ValueError, match="a balanced initialisation needs excitatory and"):
        LeakyRateNetwork(1, 4, 1, dale=True, dale_init="balanced", excitatory_fraction=1.0).init(0)
