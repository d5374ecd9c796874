"""rate-gain's learning-rate selection and its report when training diverges."""

import math

import torch

from neurodyn.experiments.rate_gain import RateGainConfig, gain_rows, selected_members, summary


def _config():
    return RateGainConfig(
        tasks=("romo",),
        rules=("bptt",),
        gains=(0.5, 2.0),
        learning_rates=(1e-3, 3e-3),
        seeds=(0, 1),
        iterations=4,
        log_every=2,
    )


def test_the_lowest_final_loss_selects_each_gains_learning_rate():
    config = _config()
    members = config.members()  # (gain, lr, seed)
    losses = torch.tensor([[1.0, 1.0, 0.5, 0.5] if m[1] == 3e-3 else [1.0] * 4 for m in members])
    losses[[i for i, m in enumerate(members) if m[0] == 2.0 and m[1] == 3e-3]] = math.nan
    selected = selected_members(config, losses.T)
    assert selected[0.5][0] == 3e-3 and selected[2.0][0] == 1e-3  # a NaN rate is never chosen
    assert all(members[i][:2] == (2.0, 1e-3) for i in selected[2.0][1])


def test_a_gain_that_diverged_at_every_learning_rate_is_reported_not_raised():
    config = _config()
    members = config.members()
    losses = [[math.nan] * 4 if m[0] == 2.0 else [1.0, 0.9, 0.8, 0.7] for m in members]
    values = {"losses": losses, "accuracy": {"all": [0.5] * len(members)}}
    rows = gain_rows(config, values)
    assert rows["2"]["learning_rate"] is None and math.isnan(rows["2"]["loss_200"][0])
    assert rows["2"]["accuracy"]["all"] == 0.5  # over all its members
    assert rows["0.5"]["learning_rate"] == 1e-3
    text = summary({"runs": {"romo bptt": rows}})
    assert "gain    2: diverged at every lr" in text and "gain  0.5: lr 0.001" in text
