"""rate-lyapunov: lambda_1 of trained ensembles, diverged members included."""

import math

import torch

from neurodyn.experiments.rate_lyapunov import max_exponents
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.tasks.romo import Romo


def test_a_member_with_diverged_weights_gets_nan_and_the_others_their_exponents():
    gains, seeds = [0.5, 2.0, 1.0], [0, 1, 2]
    network = LeakyRateNetwork(1, 8, 2, ensemble_size=3, gain=gains, alpha=0.5)
    weights = network.init(seeds)
    options = {"trajectories": 2, "trials": 2}
    clean = max_exponents(network, weights, Romo(), seeds, **options)
    broken = weights.recurrent.clone()
    broken[1, 0, 0] = float("nan")
    exponents = max_exponents(
        network, RateWeights(broken, weights.inputs, weights.readout), Romo(), seeds, **options
    )
    assert math.isnan(float(exponents[1])) and bool(clean.isfinite().all())
    torch.testing.assert_close(exponents[[0, 2]], clean[[0, 2]], rtol=0, atol=1e-12)
