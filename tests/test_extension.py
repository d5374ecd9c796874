"""Extending neurodyn: a task, a rate rule and an experiment from a module of one's own.

The module below registers one of each and nothing else; the contract tests of tasks,
rules and experiments, run with it loaded as a pytest plugin (so that it registers
before the tests are collected), pick all three up without any other edit.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import torch

TOY = '''
"""A toy task, rate rule and experiment, registered from outside the package."""

from dataclasses import dataclass

import torch

from neurodyn import experiments, rules, tasks
from neurodyn.config import Config, option, to_dict
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.plotting import figure
from neurodyn.rules.losses import task_loss
from neurodyn.tasks import TrialBatch, TrialSampling
from neurodyn.training.rate import train_rate


@dataclass(frozen=True)
class SignRecall(TrialSampling):
    """A +-1 pulse at step 0, to be reported on the last 3 of ``steps`` steps (MSE)."""

    dt: float = 1.0
    tau: float = 2.0
    steps: int = 10
    input_size = 1
    output_size = 1
    loss = "mse"

    def generate(self, batch, draws):
        sign = (draws.uniform(batch) < 0.5).float() * 2 - 1
        t = torch.arange(self.steps)
        window = (t >= self.steps - 3).float()
        inputs = (sign[..., None] * (t == 0)).unsqueeze(-1)
        targets = (sign[..., None] * window).unsqueeze(-1)
        mask = window.expand(*sign.shape, self.steps).unsqueeze(-1).contiguous()
        return TrialBatch(inputs, targets, mask, {"sign": sign})

    def accuracy(self, outputs, batch):
        said = outputs[..., -3:, 0].mean(-1).sign()
        return {"all": (said == batch.info["sign"].to(said.device)).float().mean(-1)}


@dataclass(frozen=True)
class ReadoutOnly(rules.BatchRule):
    """Learns the readout alone (a reservoir): g(w) by autograd, W_h and W_x fixed."""

    def batch_gradients(self, network, weights, x, targets, mask, loss, *, workspace=None):
        with torch.no_grad():
            _, hidden = network.run(weights, x)
        readout = weights.readout.detach().requires_grad_(True)
        outputs = torch.matmul(network.rate(hidden), readout.unsqueeze(1))
        value = task_loss(outputs, targets, mask, loss)
        (grad,) = torch.autograd.grad(value.sum(), readout)
        zero = RateWeights(
            torch.zeros_like(weights.recurrent), torch.zeros_like(weights.inputs), grad
        )
        return zero, value.detach()


@dataclass(frozen=True)
class ToyConfig(Config):
    seeds: tuple[int, ...] = option((0, 1), "one network per seed", minimum=0, unique=True)
    iterations: int = option(20, "Adam iterations", minimum=1)


def run(config, folder, progress=True):
    task = tasks.get("toy-sign")
    network = LeakyRateNetwork(1, 8, 1, ensemble_size=len(config.seeds), alpha=task.alpha)
    seeds = list(config.seeds)
    _, losses = train_rate(
        network, network.init(seeds), task, rule=rules.get("toy-readout")(),
        iterations=config.iterations, learning_rate=1e-2, seeds=seeds, progress=progress,
    )
    folder.write_arrays({"losses": losses})
    result = {"experiment": "toy-experiment", "config": to_dict(config),
              "final_loss": losses[-1].tolist()}
    folder.write_result(result)
    return result


def summary(result):
    return "final loss " + ", ".join(f"{v:.3f}" for v in result["final_loss"])


def plot(folder):
    fig, ax = figure(size=(4, 3))
    ax.plot(folder.read_arrays()["losses"].numpy())
    folder.save_figure(fig, "losses.png")


tasks.register("toy-sign", SignRecall)
rules.register("toy-readout", ReadoutOnly)
experiments.register(experiments.Experiment(
    "toy-experiment", "a toy", ToyConfig, run, summary, plot=plot,
    tiny=lambda: ToyConfig(seeds=(0,), iterations=3),
))
'''


def test_contract_tests_pick_up_a_new_task_rule_and_experiment(tmp_path):
    (tmp_path / "toy_extension.py").write_text(textwrap.dedent(TOY))
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    contracts = [
        "tests/tasks/test_task_contract.py",
        "tests/rules/test_rate_rule_contract.py",
        "tests/test_experiment_contracts.py",
    ]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "toy_extension", "-k", "toy", "-rA"]
    done = subprocess.run(
        [*command, *contracts], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    passed = [line for line in done.stdout.splitlines() if line.startswith("PASSED")]
    for expected in (
        "test_task_contract[toy-sign]",
        "test_rate_rule_contract[toy-readout-romo]",
        "test_rate_rule_contract[toy-readout-decision]",
        "test_rate_rule_gradients_have_the_weights_shapes[toy-readout]",
        "test_config_round_trips_and_every_field_is_described[toy-experiment]",
        "test_tiny_run_plots_from_its_folder_and_resumes[toy-experiment]",
    ):
        assert any(expected in line for line in passed), (expected, passed)


def test_the_dynamics_example_of_the_extension_guide_runs():
    """docs/extending.md's own dynamics: lambda_1 per member, and fixed points of
    tanh(h W) at x* = 0 that the example's own step keeps in place, labelled by their
    eigenvalues."""
    guide = (Path(__file__).parents[1] / "docs" / "extending.md").read_text()
    section = guide.split("## Your own dynamics in the analyses")[1]
    code = section.split("```python\n")[1].split("```")[0]
    namespace = {"print": lambda *args: None}
    exec(compile(code, "docs/extending.md", "exec"), namespace)
    spectrum, found, step = namespace["spectrum"], namespace["found"], namespace["step"]
    assert spectrum.maximum.shape == (4, 8) and spectrum.maximum.isfinite().all()
    assert (found.count >= 1).all()
    points = found.points.nan_to_num(0.0)
    moved = (step(points, torch.zeros_like(points)) - points).norm(dim=-1)
    assert float(moved[found.mask].max()) < 1e-3
    unstable = (found.eigenvalues.abs() > 1 + 1e-6).sum(-1)
    assert torch.equal(unstable[found.mask], found.unstable_modes[found.mask])
