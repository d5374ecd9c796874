"""The contract every registered rate-RNN rule meets (neurodyn.rules.rate_rule).

Parametrised over the registry when the tests are collected, so a newly registered rule
is tested without any edit here: it builds from its defaults, trains an ensemble with
train_rate on Romo and on 2AF, is deterministic, keeps every member independent of the
others, and a mismatched task is refused.
"""

import pytest
import torch

from neurodyn import rng, rules, tasks
from neurodyn.networks.rate import LeakyRateNetwork
from neurodyn.rules.unroll import Workspace
from neurodyn.training.rate import train_rate


def _train(rule, task, gains, seeds, iterations=3):
    network = LeakyRateNetwork(
        task.input_size,
        12,
        task.output_size,
        ensemble_size=len(gains),
        gain=gains,
        alpha=task.alpha,
    )
    return train_rate(
        network,
        network.init(seeds),
        task,
        rule=rule,
        iterations=iterations,
        learning_rate=3e-3,
        seeds=seeds,
        batch_size=4,
    )


# MSE and cross entropy; 2AF with a leak (tau = 2 dt) so that no Jacobian of the
# Lyapunov-based rules vanishes when every ReLU unit of these small networks is silent
TASKS = {"romo": {}, "decision": {"tau": 200.0}}


@pytest.mark.parametrize("task_name", sorted(TASKS))
@pytest.mark.parametrize("name", rules.names())
def test_rate_rule_contract(name, task_name):
    rule = rules.get(name)()
    assert isinstance(rule, rules.RateRule) and isinstance(rule.stream_salt, int)
    task = tasks.get(task_name, **TASKS[task_name])
    gains, seeds = [0.5, 1.0, 1.5], [0, 1, 2]
    weights, losses = _train(rule, task, gains, seeds)
    assert losses.shape == (3, 3) and bool(losses.isfinite().all())
    assert all(bool(p.isfinite().all()) for p in weights.parameters())
    again, losses_again = _train(rule, task, gains, seeds)
    assert torch.equal(losses, losses_again), "not deterministic from the seeds"
    alone, losses_alone = _train(rule, task, gains[1:2], seeds[1:2])
    torch.testing.assert_close(losses_alone[:, 0], losses[:, 1], rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(alone.recurrent[0], weights.recurrent[1], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", rules.names())
def test_rate_rule_gradients_have_the_weights_shapes(name):
    task = tasks.get("romo")
    network = LeakyRateNetwork(1, 10, 2, ensemble_size=2, alpha=task.alpha)
    weights = network.init([0, 1])
    keys = rng.member_keys([0, 1], "task")
    grads, loss = rules.get(name)().gradients(
        network, weights, task, batch_size=3, keys=keys, counter=0, workspace=Workspace()
    )
    assert loss.shape == (2,)
    for grad, weight in zip(grads.parameters(), weights.parameters(), strict=True):
        assert grad.shape == weight.shape and bool(grad.isfinite().all())
    with pytest.raises(ValueError, match="inputs"):  # the task does not fit the network
        train_rate(
            network,
            weights,
            tasks.get("decision"),
            rule=rules.get(name)(),
            iterations=1,
            learning_rate=1e-3,
            seeds=[0, 1],
        )


def test_unknown_rule_names_list_the_registered_ones():
    with pytest.raises(KeyError, match="eprop"):
        rules.get("e-prop")
    with pytest.raises(ValueError, match="already registered"):
        rules.register("bptt", rules.BPTT)
