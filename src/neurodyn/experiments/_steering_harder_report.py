"""Result, summary and figure of ``steering-harder`` (issue 19 part 3; Scardecchia 2025,
arXiv 2510.11984), the summary and figure from ``result.json`` alone.

Per data set and model (full, random-features, reservoir, and the backprop MLP at its
selected learning rate): mean and standard deviation over seeds (ddof 1) of the final and
best-epoch test accuracy and the final train accuracy; the margins full - other as the
difference of the means +- its standard error, sqrt(sd_a^2 / n_a + sd_b^2 / n_b).
``accuracy.png``: bars of the best-epoch test accuracy per data set and model with their
standard deviations, dots at the final one, and MNIST-1D's published accuracies (Greydanus
2020, on the raw 40-float sequences) as dashed lines over its bars.
"""

from __future__ import annotations

import math

import numpy as np

from neurodyn.config import to_dict
from neurodyn.plotting import colors, figure
from neurodyn.runs import RunFolder
from neurodyn.tasks.mnist1d import PUBLISHED

KEYS = ("final_test_accuracy", "best_test_accuracy", "final_train_accuracy")
MARGINS = ("best_test_accuracy", "final_test_accuracy")
LABELS = {"mlp": "backprop MLP (best lr)"}
REFERENCES = {
    "mnist1d": {
        "test_accuracy": PUBLISHED,
        "source": "Greydanus 2020, Scaling down deep learning: test accuracy on the raw "
        "40-float sequences (no sign projection)",
    }
}


def _spread(values: list[float]) -> list[float]:
    """[mean, standard deviation (ddof 1; 0 for one value)]."""
    array = np.asarray(values, dtype=float)
    return [float(array.mean()), float(array.std(ddof=1)) if array.size > 1 else 0.0]


def _margin(first: dict, second: dict, key: str) -> list[float]:
    """Difference of the means of ``key`` and its standard error."""
    (mean_a, sd_a), (mean_b, sd_b) = first[key], second[key]
    error = math.sqrt(sd_a**2 / first["seeds"] + sd_b**2 / second["seeds"])
    return [mean_a - mean_b, error]


def summarise_mlp(learning_rates: tuple[float, ...], accuracies: dict) -> dict:
    """Per learning rate, from the MLP's ``accuracies`` ("test", "train": per learning
    rate, seed and epoch): mean and sd over seeds of the best test accuracy over epochs,
    the final test and train ones, and each seed's best epoch (from 1); ``selected``: the
    learning rate of the highest mean best test accuracy (the first of equals)."""
    test, train = np.asarray(accuracies["test"]), np.asarray(accuracies["train"])
    rates = [
        {
            "learning_rate": rate,
            "best_test_accuracy": _spread(test[k].max(-1)),
            "final_test_accuracy": _spread(test[k, :, -1]),
            "final_train_accuracy": _spread(train[k, :, -1]),
            "best_epoch": [int(epoch) + 1 for epoch in test[k].argmax(-1)],
        }
        for k, rate in enumerate(learning_rates)
    ]
    chosen = int(np.argmax([rate["best_test_accuracy"][0] for rate in rates]))
    return {"learning_rates": rates, "selected": rates[chosen]}


def summarise(config, results: dict) -> dict:
    """The result of ``steering-harder`` from the per-data-set ``results`` (its
    ``_results``): the table per data set and model, margins, published references."""
    datasets = {}
    for dataset, entry in results.items():
        members = entry["steering"]["members"]
        models = {}
        for model in config.models:
            mine = [m for m in members if m["model"] == model]
            models[model] = {key: _spread([m[key] for m in mine]) for key in KEYS} | {
                "seeds": len(mine),
                "epochs": mine[0]["epochs"],
            }
        if "mlp" in entry:
            entry["mlp"] = summarise_mlp(config.mlp_learning_rates, entry["mlp"])
            selected = entry["mlp"]["selected"]
            models["mlp"] = {key: selected[key] for key in (*KEYS, "learning_rate")} | {
                "seeds": len(config.seeds),
                "epochs": config.mlp_epochs,
            }
        margins = {
            f"full - {other}": {key: _margin(models["full"], models[other], key) for key in MARGINS}
            for other in models
            if other != "full" and "full" in models
        }
        sizes = {key: entry[key] for key in ("input_bits", "train_size", "test_size")}
        datasets[dataset] = sizes | {
            "models": models,
            "margins": margins,
            "members": members,
            "mlp": entry.get("mlp"),
        }
    return {
        "experiment": "steering-harder",
        "config": to_dict(config),
        "datasets": datasets,
        "published": REFERENCES,
    }


def _cell(pair: list[float]) -> str:
    return f"{pair[0]:.3f} +- {pair[1]:.3f}"


def summary(result: dict) -> str:
    lines = ["mean +- sd over seeds; margins: difference of means +- standard error"]
    header = f"{'model':<22}{'final test':>18}{'best test':>18}{'final train':>18}  seeds  epochs"
    for dataset, entry in result["datasets"].items():
        lines += [
            "",
            f"{dataset}: N = {entry['input_bits']}, {entry['train_size']} train / "
            f"{entry['test_size']} test",
            header,
        ]
        for model, values in entry["models"].items():
            name = model if model != "mlp" else f"mlp (lr {values['learning_rate']:g})"
            cells = "".join(f"{_cell(values[key]):>18}" for key in KEYS)
            lines.append(f"{name:<22}{cells}  {values['seeds']:>5}  {values['epochs']:>6}")
        for name, margin in entry["margins"].items():
            lines.append(
                f"  {name}: best test {margin['best_test_accuracy'][0]:+.3f} +- "
                f"{margin['best_test_accuracy'][1]:.3f}, final test "
                f"{margin['final_test_accuracy'][0]:+.3f} +- {margin['final_test_accuracy'][1]:.3f}"
            )
        if entry["mlp"] is not None:
            rates = ", ".join(
                f"{r['learning_rate']:g}: {_cell(r['best_test_accuracy'])}"
                for r in entry["mlp"]["learning_rates"]
            )
            lines.append(f"  mlp best test per learning rate: {rates}")
        if dataset in result["published"]:
            published = result["published"][dataset]["test_accuracy"]
            shown = ", ".join(f"{name} {value:.2f}" for name, value in published.items())
            lines.append(f"  published (raw sequences, Greydanus 2020): {shown}")
    return "\n".join(lines)


def plot(folder: RunFolder) -> None:
    """``accuracy.png`` (see the module's docstring)."""
    result = folder.read_result()
    datasets = result["datasets"]
    names = list(dict.fromkeys(model for entry in datasets.values() for model in entry["models"]))
    palette = dict(zip(names, colors(), strict=False))
    width = 0.8 / len(names)
    fig, ax = figure(1, 1, size=(2.2 + 2.4 * len(datasets), 4.5))
    labelled = set()
    for group, (dataset, entry) in enumerate(datasets.items()):
        for k, model in enumerate(names):
            if model not in entry["models"]:
                continue
            values = entry["models"][model]
            x = group - 0.4 + (k + 0.5) * width
            best, final = values["best_test_accuracy"], values["final_test_accuracy"]
            label = None if model in labelled else LABELS.get(model, model)
            labelled.add(model)
            ax.bar(
                x, best[0], width * 0.9, yerr=best[1], capsize=3, color=palette[model], label=label
            )
            ax.errorbar(
                x, final[0], yerr=final[1], fmt="o", mfc="white", mec="black", ecolor="black"
            )
        for name, value in result["published"].get(dataset, {}).get("test_accuracy", {}).items():
            label = None if "published" in labelled else "published (raw MNIST-1D)"
            labelled.add("published")
            ax.hlines(
                value, group - 0.45, group + 0.45, colors="gray", linestyles="--", label=label
            )
            ax.text(group + 0.46, value, f"{name} {value:.2f}", fontsize=7, va="center")
    ax.set_xticks(range(len(datasets)))
    ax.set_xticklabels(
        [
            f"{d}\nN={e['input_bits']}, {e['train_size']}/{e['test_size']}"
            for d, e in datasets.items()
        ]
    )
    ax.set_xlim(-0.55, len(datasets) - 0.25)
    ax.set_ylim(0, 1)
    ax.set_ylabel("test accuracy")
    hidden = result["config"]["hidden_size"]
    ax.set_title(
        f"test accuracy at H = {hidden}: best epoch (bars) and final (dots), +- sd over seeds",
        fontsize=9,
    )
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    folder.save_figure(fig, "accuracy.png")
