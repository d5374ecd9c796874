"""Why e-prop learns nothing on delayed match-to-sample (issue 19, part 4).

In ``rate-gain`` e-prop stays at chance (0.50) on DMS at every gain. The suspected cause is
the leak: e-prop's eligibility trace of a recurrent weight (Bellec et al. 2020; spec
``rate-rnn-eprop-lyapunov.md`` 4.2) is the low-pass filtered presynaptic rate

    eps_{ij,t} = alpha eps_{ij,t-1} + (1 - alpha) r_{j,t-1},      alpha = 1 - dt / tau,

and with neurogym's defaults dt = tau = 100 ms (alpha = 0, the paper's setting) it holds
the previous step alone: the rule is then BPTT truncated to one step, which cannot assign
the decision's error to the sample shown a delay (10 steps) earlier. The experiment trains
the ``rate-gain`` grid (gain x learning rate x seed, the rate selected per gain by the lab
code's criterion) on DMS for every network time constant ``taus`` (alpha = 1 - dt / tau)
and every trial timing ``timings``: ``neurogym`` (fixation 300, sample 500, delay 1000,
test 500, decision 900 ms: 32 steps) and ``lab`` (the last author's code: no fixation,
sample 100, delay 500, test 100, decision 100 ms: 8 steps, a 5-step delay), under every
rule. A longer training or another learning-rate grid is a change of ``iterations`` or
``learning_rates``. Reported per (timing, tau, rule, gain): decision accuracy on fresh
trials, loss at iteration 200 and at the end (mean +- sd over seeds); figure: the loss
curves (the paper's figure 2C-D layout) per timing and tau, a column per rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from neurodyn.config import option, to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.experiments._loss_figures import lr_text, plot_losses
from neurodyn.experiments._stages import Stages
from neurodyn.experiments.rate_gain import TINY_GRID, RateGridConfig, gain_rows, train_stage
from neurodyn.plotting import figure
from neurodyn.runs import RunFolder
from neurodyn.tasks.decision import DelayMatchSample

TIMINGS: dict[str, dict[str, float]] = {
    "neurogym": {},  # DelayMatchSample's defaults, neurogym's
    "lab": {
        "fixation": 0.0,
        "sample_period": 100.0,
        "delay": 500.0,
        "test": 100.0,
        "decision": 100.0,
    },
}
DT = 100.0  # ms, neurogym's step


@dataclass(frozen=True)
class RateEpropDMSConfig(RateGridConfig):
    """The ``rate-gain`` grid fields, then the DMS variants."""

    taus: tuple[float, ...] = option(
        (100.0, 200.0, 500.0),
        "network time constants tau in ms (alpha = 1 - dt / tau, dt = 100 ms; 100: the paper)",
        minimum=DT,
        unique=True,
    )
    timings: tuple[str, ...] = option(
        ("neurogym", "lab"),
        "DMS trial timings: neurogym (its defaults, 32 steps) or lab (the authors' code, 8 steps)",
        choices=TIMINGS,
        unique=True,
    )

    def variants(self) -> list[tuple[str, float]]:
        """Every (timing, tau)."""
        return [(timing, tau) for timing in self.timings for tau in self.taus]


def task(timing: str, tau: float) -> DelayMatchSample:
    """DMS with ``timing`` (:data:`TIMINGS`) and network time constant ``tau``."""
    return DelayMatchSample(dt=DT, tau=tau, **TIMINGS[timing])


def variant_name(timing: str, tau: float) -> str:
    return f"{timing} timing, tau {tau:g} ms (alpha {1 - DT / tau:.2f})"


def run(config: RateEpropDMSConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Every (timing, tau) and rule in turn, one ensemble (stage) each; result.json grows by
    one stage at a time: {"runs": {variant: {rule: rows of gain_rows}}}."""
    stages = Stages(folder)
    result = {"experiment": "rate-eprop-dms", "config": to_dict(config), "runs": {}}
    for timing, tau in config.variants():
        name = variant_name(timing, tau)
        for rule in config.rules:
            stage = f"{timing} {tau:g} {rule}"
            values = train_stage(stages, stage, config, task(timing, tau), rule, progress)
            result["runs"].setdefault(name, {})[rule] = gain_rows(config, values)
            folder.write_result(result)
    return result


def summary(result: dict) -> str:
    lines = []
    for variant, per_rule in result["runs"].items():
        lines.append(f"{variant}:")
        for rule, per_gain in per_rule.items():
            for gain, row in per_gain.items():
                accuracy, start, final = row["accuracy"]["all"], row["loss_200"], row["loss_final"]
                lines.append(
                    f"  {rule:<6} gain {gain:>4}: {lr_text(row)}, accuracy {accuracy:.3f}, loss at "
                    f"200 {start[0]:.4f}+-{start[1]:.4f}, final {final[0]:.4f}+-{final[1]:.4f}"
                )
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """``loss_curves.png``: a row per (timing, tau), a column per rule, the loss curve of
    every gain at its selected learning rate (mean +- sd over seeds)."""
    result = folder.read_result()
    runs, every = result["runs"], result["config"]["log_every"]
    rules = list(dict.fromkeys(rule for per_rule in runs.values() for rule in per_rule))
    size = (4.6 * len(rules), 3.2 * len(runs))
    fig, axes = figure(len(runs), len(rules), size=size, squeeze=False)
    for i, (variant, per_rule) in enumerate(runs.items()):
        for j, rule in enumerate(rules):
            if rule in per_rule:
                plot_losses(axes[i][j], {"": per_rule[rule]}, every, f"{rule}: {variant}")
            else:  # a half-finished run
                axes[i][j].set_axis_off()
    fig.tight_layout()
    folder.save_figure(fig, "loss_curves.png")


register(
    Experiment(
        "rate-eprop-dms",
        "Why e-prop does not learn delayed match-to-sample: the leak alpha, trial timing, "
        "budget (issue 19)",
        RateEpropDMSConfig,
        run,
        summary,
        plot=plot,
        tiny=lambda: RateEpropDMSConfig(rules=("eprop",), taus=(100.0, 500.0), **TINY_GRID),
        defaults={"gains": (0.5, 1.0, 1.5), "seeds": (0, 1, 2)},
    )
)
