"""Loss-curve panels of the rate-RNN experiments (Liu, Zhang & Liu, arXiv 2410.11164,
figures 1, 2 and 5): per initial gain, the loss at the selected learning rate, mean +- sd
over seeds, on a log axis."""

from __future__ import annotations

import numpy as np

from neurodyn.plotting import colors

LINE_STYLES = ("-", "--", ":", "-.")


def lr_text(row: dict) -> str:
    """The selected learning rate of a :func:`gain_rows` row as printed."""
    lr = row["learning_rate"]
    return "diverged at every lr" if lr is None else f"lr {lr:g}"


def plot_curve(ax, row: dict, every: int, label: str, **style) -> np.ndarray:
    """A logged loss curve of :func:`gain_rows` (``curve_mean``, ``curve_sd``): the mean over
    seeds with a +- sd band in its colour, against the iteration (``style`` goes to
    ``ax.plot``); returns the mean."""
    mean, sd = np.array(row["curve_mean"]), np.array(row["curve_sd"])
    steps = (np.arange(len(mean)) + 1) * every
    (line,) = ax.plot(steps, mean, label=label, **style)
    low = np.maximum(mean - sd, 1e-12)
    ax.fill_between(steps, low, mean + sd, alpha=0.2, color=line.get_color())
    return mean


def plot_losses(ax, series: dict[str, dict], every: int, title: str) -> None:
    """One panel of figures 1, 2 and 5: for each ``series`` {label suffix: rows of
    :func:`gain_rows`} (solid, dashed, dotted, ...) the loss curve of every gain (a colour
    each) at its selected learning rate, mean +- sd over seeds, on a log axis."""
    palette, means = colors(), []
    for styles, (suffix, per_gain) in zip(LINE_STYLES, series.items(), strict=False):
        for k, (gain, row) in enumerate(per_gain.items()):
            name = f"gain {gain} ({lr_text(row)}){suffix}"
            means.append(
                plot_curve(ax, row, every, name, color=palette[k % len(palette)], ls=styles)
            )
    finite = np.concatenate(means)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if finite.size:
        ax.set_ylim(finite.min() / 2, min(finite.max(), 100 * np.median(finite)) * 2)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss (running mean)")
    ax.set_title(f"{title} (mean +- sd over seeds)", fontsize=9)
    ax.legend(fontsize=7)


# Member axes of a sweep: the (task, rule) stages, then the members of each stage.
