"""Rate-RNN training: Adam per member, ensembles equal single runs, BPTT learns Romo."""

import pytest
import torch

from neurodyn.networks.rate import LeakyRateNetwork
from neurodyn.tasks.decision import PerceptualDecision
from neurodyn.tasks.romo import Romo
from neurodyn.training.rate import train_rate


@pytest.mark.parametrize("rule", ["bptt", "eprop", "rflo"])
def test_ensemble_members_equal_their_single_runs(rule):
    gains, rates, seeds = [0.5, 1.5], [1e-3, 3e-3], [0, 1]
    net = LeakyRateNetwork(3, 16, 3, ensemble_size=2, gain=gains, alpha=0.0)
    feedback = torch.randn(2, 3, 16, generator=torch.Generator().manual_seed(0))
    task = PerceptualDecision()
    weights, losses = train_rate(
        net,
        net.init(seeds),
        task,
        rule=rule,
        iterations=5,
        learning_rate=rates,
        seeds=seeds,
        batch_size=8,
        feedback=feedback,
    )
    for e in range(2):
        alone = LeakyRateNetwork(3, 16, 3, gain=gains[e], alpha=0.0)
        w1, l1 = train_rate(
            alone,
            alone.init(seeds[e]),
            task,
            rule=rule,
            iterations=5,
            learning_rate=rates[e],
            seeds=[seeds[e]],
            batch_size=8,
            feedback=feedback[e : e + 1],
        )
        assert torch.equal(w1.recurrent[0], weights.recurrent[e])
        assert torch.equal(l1[:, 0], losses[:, e])


def test_bptt_learns_romo():
    net = LeakyRateNetwork(1, 64, 2, gain=1.0, alpha=0.5)
    _, losses = train_rate(
        net, net.init(0), Romo(), rule="bptt", iterations=250, learning_rate=3e-3, seeds=[0]
    )
    assert float(losses[-10:].mean()) < 0.2 * float(losses[:10].mean())


def test_bad_training_settings_are_rejected():
    net = LeakyRateNetwork(1, 8, 2)
    with pytest.raises(ValueError, match="rule"):
        train_rate(
            net, net.init(0), Romo(), rule="hebb", iterations=1, learning_rate=1e-3, seeds=[0]
        )
    with pytest.raises(ValueError, match="feedback"):
        train_rate(
            net, net.init(0), Romo(), rule="rflo", iterations=1, learning_rate=1e-3, seeds=[0]
        )
    with pytest.raises(ValueError, match="inputs"):
        train_rate(
            net,
            net.init(0),
            PerceptualDecision(),
            rule="bptt",
            iterations=1,
            learning_rate=1e-3,
            seeds=[0],
        )
