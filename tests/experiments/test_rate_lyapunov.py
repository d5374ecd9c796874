"""rate-lyapunov: lambda_1 of trained ensembles, diverged members included; its sweep join."""

import math
from dataclasses import replace

import torch

from neurodyn import experiments
from neurodyn.config import to_dict
from neurodyn.experiments import rate_lyapunov
from neurodyn.experiments.rate_lyapunov import gather, max_exponents, member_rows
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.runs import RunFolder
from neurodyn.sweeps import table_rows
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


def test_a_member_whose_states_overflow_gets_nan_and_the_others_their_exponents():
    """Finite weights, but a self-excitation of 1e4 makes member 1's ReLU states overflow
    float64 within the streams (ReLU under Dale's law at large gains does): NaN for it,
    the others as measured alone; the spectrum itself raises unless told otherwise."""
    seeds = [0, 1, 2]
    network = LeakyRateNetwork(1, 8, 2, ensemble_size=3, gain=1.0, alpha=0.5)
    weights = network.init(seeds)
    options = {"trajectories": 2, "trials": 2}
    clean = max_exponents(network, weights, Romo(), seeds, **options)
    exploding = weights.recurrent.clone()
    exploding[1] = 1e4 * torch.eye(8)
    exponents = max_exponents(
        network, RateWeights(exploding, weights.inputs, weights.readout), Romo(), seeds, **options
    )
    assert math.isnan(float(exponents[1]))
    torch.testing.assert_close(exponents[[0, 2]], clean[[0, 2]], rtol=0, atol=1e-12)


def test_chunks_of_learning_rates_join_to_the_one_ensemble_run_without_measuring_again(
    tmp_path, monkeypatch
):
    """Every learning rate's chunk runs the (gain, seed) stages (initialisation, flossing);
    they join as well, and the join reads each member's lambda_1 from the chunks."""
    experiment = experiments.get("rate-lyapunov")
    config = replace(
        experiment.tiny(),
        rules=("eprop",),
        gains=(1.0,),
        learning_rates=(1e-3, 3e-3),
        iterations=10,
        test_trials=4,
    )
    whole = experiment.run(config, RunFolder(tmp_path / "whole", to_dict(config)), False)
    parts, rows = [], []
    for lr in config.learning_rates:
        chunk = replace(config, learning_rates=(lr,))
        experiment.run(chunk, RunFolder(tmp_path / f"{lr:g}", to_dict(chunk)), False)
        parts.append(RunFolder.open(tmp_path / f"{lr:g}"))
        rows += member_rows(chunk, parts[-1])
    monkeypatch.setattr(rate_lyapunov, "max_exponents", None)  # a measurement would fail
    assert gather(config, parts, RunFolder(tmp_path / "joined", to_dict(config))) == whole
    expected = member_rows(config, RunFolder.open(tmp_path / "whole"))
    assert table_rows(experiment.name, to_dict(config), rows) == table_rows(
        experiment.name, to_dict(config), expected
    )
    measured = [(row["learning_rate"], row["stage"]) for row in expected if "max_exponent" in row]
    assert measured == [
        (lr, s) for lr in (1e-3, 3e-3) for s in ("initialisation", "eprop", "flossing")
    ]
    flossing = [row["iteration"] for row in expected if row["stage"] == "flossing"]
    assert flossing == [1, 2, 3] * 2


def test_the_summary_counts_members_at_minus_infinity_and_diverged_gains():
    flossing = {
        "max_exponent_flossed": {"1": [0.0, 0.0]},
        "eprop": {"1": {"loss_200": [0.1, 0.0], "loss_final": [0.05, 0.0]}},
        "eprop after flossing": {"1": {"loss_200": [0.1, 0.0], "loss_final": [0.04, 0.0]}},
    }
    runs = {
        "max_exponent_before": {"1": [-0.5, 0.1]},
        "collapsed_before": {"1": 2},
        "max_exponent_after": {"bptt": {"1": [float("nan")] * 2}},
        "collapsed_after": {"bptt": {"1": 0}},
        "learning_rate": {"bptt": {"1": None}},  # every learning rate diverged
        "flossing": flossing,
    }
    text = rate_lyapunov.summary({"runs": {"decision": runs}, "spec_prototype_before": {}})
    assert "before -0.500+-0.100 (2 at -inf)" in text
    assert "bptt +nan+-nan (diverged at every lr)" in text
