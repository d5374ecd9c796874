"""Rate-RNN training: Adam per member, ensembles equal single runs, BPTT learns Romo."""

import pytest
import torch

from neurodyn import rules
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.rules import BPTT, RFLO
from neurodyn.tasks.decision import PerceptualDecision
from neurodyn.tasks.romo import Romo
from neurodyn.training.rate import AdamState, adam_update, clip_member_norms, train_rate


def test_adam_per_member_equals_torch_adam():
    gen = torch.Generator().manual_seed(0)
    shapes = [(3, 4, 4), (3, 1, 4), (3, 4, 2)]
    weights = RateWeights(*(torch.randn(s, generator=gen) for s in shapes))
    rates = torch.tensor([1e-3, 3e-3, 1e-2])
    members = [[p[e].clone().requires_grad_() for p in weights.parameters()] for e in range(3)]
    optimizers = [torch.optim.Adam(members[e], lr=float(rates[e])) for e in range(3)]
    state = AdamState.zeros_like(weights)
    for _ in range(5):
        grads = RateWeights(*(torch.randn(s, generator=gen) for s in shapes))
        weights = adam_update(weights, grads, state, rates)
        for e in range(3):
            for p, g in zip(members[e], grads.parameters(), strict=True):
                p.grad = g[e].clone()
            optimizers[e].step()
    for e in range(3):
        for ours, theirs in zip(weights.parameters(), members[e], strict=True):
            torch.testing.assert_close(ours[e], theirs.detach(), rtol=1e-6, atol=1e-7)


def test_clipping_per_member_equals_torch_clip_grad_norm():
    gen = torch.Generator().manual_seed(1)
    grads = RateWeights(*(torch.randn(s, generator=gen) for s in [(2, 5, 5), (2, 1, 5), (2, 5, 2)]))
    grads.recurrent[1] *= 1e-3  # member 1 is below the bound and stays as it is
    grads.inputs[1] *= 1e-3
    grads.readout[1] *= 1e-3
    original = RateWeights(*(p.clone() for p in grads.parameters()))
    clipped = clip_member_norms(grads, 0.5)
    assert clipped is grads  # in place
    for e in range(2):
        leaves = [torch.zeros_like(p[e], requires_grad=True) for p in grads.parameters()]
        for leaf, p in zip(leaves, original.parameters(), strict=True):
            leaf.grad = p[e].clone()
        torch.nn.utils.clip_grad_norm_(leaves, 0.5)
        for ours, leaf in zip(clipped.parameters(), leaves, strict=True):
            torch.testing.assert_close(ours[e], leaf.grad)
    assert torch.equal(clipped.recurrent[1], original.recurrent[1])


@pytest.mark.parametrize("rule", ["bptt", "eprop", "rflo"])
def test_ensemble_members_equal_their_single_runs(rule):
    gains, rates, seeds = [0.5, 1.5], [1e-3, 3e-3], [0, 1]
    net = LeakyRateNetwork(3, 16, 3, ensemble_size=2, gain=gains, alpha=0.0)
    task = PerceptualDecision()
    weights, losses = train_rate(
        net,
        net.init(seeds),
        task,
        rule=rules.get(rule)(),  # RFLO: each member draws its own feedback
        iterations=5,
        learning_rate=rates,
        seeds=seeds,
        batch_size=8,
    )
    for e in range(2):
        alone = LeakyRateNetwork(3, 16, 3, gain=gains[e], alpha=0.0)
        w1, l1 = train_rate(
            alone,
            alone.init(seeds[e]),
            task,
            rule=rules.get(rule)(),
            iterations=5,
            learning_rate=rates[e],
            seeds=[seeds[e]],
            batch_size=8,
        )
        assert torch.equal(w1.recurrent[0], weights.recurrent[e])
        assert torch.equal(l1[:, 0], losses[:, e])


def test_bptt_learns_romo():
    net = LeakyRateNetwork(1, 64, 2, gain=1.0, alpha=0.5)
    _, losses = train_rate(
        net, net.init(0), Romo(), rule=BPTT(), iterations=250, learning_rate=3e-3, seeds=[0]
    )
    assert float(losses[-10:].mean()) < 0.2 * float(losses[:10].mean())


def test_bad_training_settings_are_rejected():
    net = LeakyRateNetwork(1, 8, 2)
    cases = [
        ("rule must be a rate rule object", Romo(), {"rule": "bptt"}),
        ("feedback must have shape", Romo(), {"rule": RFLO(torch.zeros(1, 2, 9))}),
        ("clip_norm", Romo(), {"clip_norm": 0.0}),
        ("inputs", PerceptualDecision(), {}),
    ]
    for message, task, settings in cases:
        settings = {"rule": BPTT(), **settings}
        with pytest.raises(ValueError, match=message):
            train_rate(
                net, net.init(0), task, iterations=1, learning_rate=1e-3, seeds=[0], **settings
            )
