"""Which capacity protocol gives the thesis's slopes? (issue 19, part 4a)

``steering-capacity`` finds slopes of P_max against H that rise with depth as in the
thesis (Scardecchia 2025, arXiv 2510.11984: "slope 0.38 for L = 2 to 0.86 for L = 7") but
are about five times larger. The thesis's protocol is not available (spec ``steering.md``
4.3), so this experiment measures the slopes under the plausible alternatives, each
changed alone from the base protocol of ``steering-capacity`` (its module docstring):

* **units**: P_max per hidden unit of one layer (dP_max / dH, the base) or per neuron of
  the whole network (dP_max / d(L H) = slope / L): both are reported for every variant;
* **recall**: all P associations recalled (the base) or a fraction ``recall_thresholds``;
* **input size**: N = H, growing with the width (the base), or a fixed N
  (``fixed_input_sizes``, e.g. the 100 bits of Entangled MNIST);
* **epoch budget**: 100 epochs (the base) or ``epoch_budgets``.

Every variant runs the same batched search over the same widths, depths and seeds (each
seed fixes the patterns and the initial weights). Reported per variant and depth: the
slope +- its standard error over seeds, the slope per neuron of L H, the log-log exponent,
whether a P_max reached the search ceiling (then the slope is a lower bound), and the
ratio of each slope to the thesis's at L = 2 and 7. Figure ``capacity_protocols.png``:
both slopes vs depth per variant, the thesis's two values marked.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from tqdm.auto import tqdm

from neurodyn.config import option, to_dict
from neurodyn.experiments import Experiment, register
from neurodyn.experiments._stages import Stages
from neurodyn.experiments._steering_capacity_report import PAPER
from neurodyn.experiments.steering_capacity import (
    SteeringCapacityConfig,
    search,
    summarise,
)
from neurodyn.experiments.steering_capacity import (
    tiny as capacity_tiny,
)
from neurodyn.plotting import colormap, figure
from neurodyn.runs import RunFolder

BASE = "base"


def _capacity_fields(config: SteeringCapacityConfig) -> dict:
    """The ``steering-capacity`` fields of ``config`` (of either config class)."""
    return {f.name: getattr(config, f.name) for f in fields(SteeringCapacityConfig)}


@dataclass(frozen=True)
class SteeringCapacityProtocolsConfig(SteeringCapacityConfig):
    """The ``steering-capacity`` fields (the base protocol), then the alternatives, each a
    variant that changes one field of the base."""

    recall_thresholds: tuple[float, ...] = option(
        (0.95,),
        "variants: recall thresholds in place of the base's recall_threshold",
        above=0.0,
        maximum=1.0,
        unique=True,
        allow_empty=True,
    )
    fixed_input_sizes: tuple[int, ...] = option(
        (100,),
        "variants: a fixed input size N for every H in place of N = input_ratio x H",
        minimum=1,
        unique=True,
        allow_empty=True,
    )
    epoch_budgets: tuple[int, ...] = option(
        (10, 30),
        "variants: epoch budgets in place of the base's epochs",
        minimum=1,
        unique=True,
        allow_empty=True,
    )

    def base(self) -> SteeringCapacityConfig:
        return SteeringCapacityConfig(**_capacity_fields(self))

    def variants(self) -> dict[str, SteeringCapacityConfig]:
        """{label: the base with one field changed}, the base first."""
        base = self.base()
        changes = [
            *((f"recall >= {r:g}", {"recall_threshold": r}) for r in self.recall_thresholds),
            *((f"N = {n}", {"fixed_input_size": n}) for n in self.fixed_input_sizes),
            *((f"{e} epochs", {"epochs": e}) for e in self.epoch_budgets),
        ]
        variants = {BASE: base} | {label: replace(base, **change) for label, change in changes}
        return {label: v for label, v in variants.items() if label == BASE or v != base}


def run(config: SteeringCapacityProtocolsConfig, folder: RunFolder, progress: bool = True) -> dict:
    """Every variant's search at every (L, H) in turn; result.json and metrics.csv after each
    search: {"variants": {label: {"changes", "capacities", "slopes"}}}."""
    stages = Stages(folder)
    bar = tqdm(disable=not progress, unit="epoch", dynamic_ncols=True, mininterval=1.0)
    result = {"experiment": "steering-capacity-protocols", "config": to_dict(config)}
    result |= {"variants": {}, "paper": PAPER}
    rows = []
    base = to_dict(config.base())
    for label, variant in config.variants().items():
        searches = []
        for depth in variant.depths:
            for width in variant.widths:
                done = search(variant, depth, width, stages, bar, prefix=f"{label}: ")
                searches.append(done)
                rows += [
                    {"variant": label, "depth": depth, "width": width, "round": k + 1} | test
                    for k, tests in enumerate(done["rounds"])
                    for test in tests
                ]
                folder.write_metrics(rows)
                summarised = summarise(variant, searches)
                changes = {k: v for k, v in to_dict(variant).items() if base[k] != v}
                result["variants"][label] = {"changes": changes} | {
                    key: summarised[key] for key in ("capacities", "slopes")
                }
                folder.write_result(result)
    bar.close()
    return result


def _ratios(slopes: dict, key: str) -> str:
    """The slopes over the thesis's at the depths it reports."""
    parts = [
        f"L={depth} {slopes[depth][key] / value:.1f}x"
        for depth, value in PAPER["slopes"].items()
        if depth in slopes
    ]
    return ", ".join(parts) or "no thesis depth"


def summary(result: dict) -> str:
    thesis = ", ".join(f"L={d}: {v}" for d, v in PAPER["slopes"].items())
    lines = [f"thesis: slope {thesis}"]
    for label, variant in result["variants"].items():
        lines.append(f"{label}:")
        for depth, fit in variant["slopes"].items():
            error = "" if fit["standard_error"] is None else f" +- {fit['standard_error']:.2f}"
            exponent = "-" if fit["exponent"] is None else f"{fit['exponent']:.2f}"
            censored = any(variant["capacities"][depth]["at_ceiling"])
            lines.append(
                f"  L={depth}: dP_max/dH {fit['slope']:.2f}{error}, per neuron of L H "
                f"{fit['total_slope']:.2f}, log-log exponent {exponent}"
                + (" (a P_max at the ceiling: lower bounds)" if censored else "")
            )
        slopes = variant["slopes"]
        lines.append(
            f"  over the thesis: per H {_ratios(slopes, 'slope')}; per L H "
            f"{_ratios(slopes, 'total_slope')}"
        )
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """``capacity_protocols.png``: slope per H and per neuron of L H vs depth, a line per
    variant (+- standard error over seeds), the thesis's values as black stars."""
    result = folder.read_result()
    fig, axes = figure(1, 2, size=(12, 4.5))
    variants = result["variants"]
    shades = colormap("tab10")(np.arange(len(variants)) % 10)
    for color, (label, variant) in zip(shades, variants.items(), strict=True):
        depths = [int(d) for d in variant["slopes"]]
        fits = list(variant["slopes"].values())
        errors = np.array([f["standard_error"] or 0.0 for f in fits])
        for ax, key, scale in ((axes[0], "slope", 1), (axes[1], "total_slope", np.array(depths))):
            values = np.array([f[key] for f in fits])
            ax.errorbar(depths, values, yerr=errors / scale, fmt="o-", color=color, label=label)
    thesis = [(int(d), v) for d, v in PAPER["slopes"].items()]
    titles = ("per hidden unit of one layer", "per neuron of all L layers")
    for ax, ylabel, title in zip(axes, ("dP_max / dH", "dP_max / d(L H)"), titles, strict=True):
        ax.plot(*zip(*thesis, strict=True), "k*", markersize=14, label="thesis")
        ax.set(xlabel="depth L", ylabel=ylabel, yscale="log", title=f"capacity slope {title}")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    folder.save_figure(fig, "capacity_protocols.png")


def tiny() -> SteeringCapacityProtocolsConfig:
    """Seconds: ``steering-capacity``'s tiny grid with one variant of each kind."""
    return SteeringCapacityProtocolsConfig(
        **_capacity_fields(capacity_tiny()),
        recall_thresholds=(0.9,),
        fixed_input_sizes=(20,),
        epoch_budgets=(2,),
    )


register(
    Experiment(
        "steering-capacity-protocols",
        "Capacity slopes under alternative protocols (units, recall, input size, epochs) "
        "against the thesis's 0.38 -> 0.86 (issue 19)",
        SteeringCapacityProtocolsConfig,
        run,
        summary,
        plot=plot,
        tiny=tiny,
        defaults={
            "widths": (24, 32, 48, 64),
            "depths": (2, 7),
            "load_ceiling": 10.0,
            "resolution": 0.05,
        },
    )
)
