"""rate-gain-dale's statistics: lambda_1 at -inf counted apart, Spearman split by its sign."""

import math

import pytest
import torch

from neurodyn.experiments._statistics import FLOOR, exponent_mean_sd, exponent_text
from neurodyn.experiments.rate_gain_dale import RateGainDaleConfig, correlations


def test_members_whose_trajectories_reached_a_zero_jacobian_are_counted_not_averaged():
    trajectories = 4
    exponent = torch.tensor([-0.5, -0.3, FLOOR / trajectories - 1.0, FLOOR / 2, 0.1])
    stats, collapsed = exponent_mean_sd(exponent, {1.0: [0, 1, 2], 2.0: [3], 3.0: [4]}, 4)
    assert stats["1"] == pytest.approx([-0.4, 0.1]) and collapsed == {"1": 1, "2": 1, "3": 0}
    assert all(math.isnan(v) for v in stats["2"])  # every member at -inf
    assert exponent_text(stats["1"], 1) == "-0.400+-0.100 (1 at -inf)"
    assert exponent_text(stats["3"], 0) == "+0.100+-0.000"


def test_spearman_is_split_at_lambda_1_zero_and_by_dale_initialisation():
    # ordered cells: the more negative lambda_1, the slower (the paper's explanation);
    # chaotic cells: the larger, the slower; a NaN loss (diverged) is left out
    gains = {"0.2": -0.9, "0.5": -0.5, "1": -0.2, "1.5": 0.1, "2": 0.4}
    loss = {"0.2": 0.3, "0.5": 0.2, "1": 0.1, "1.5": 0.5, "2": 0.9}

    def row(dale, shift):
        return {
            "dale": dale,
            "max_exponent_before": {g: [x + shift, 0.0] for g, x in gains.items()},
            "gains": {g: {"loss_200": [y, 0.0]} for g, y in loss.items()},
        }

    rows = {"a": row("off", 0.0), "b": row("balanced", 0.01)}
    rows["b"]["gains"]["2"]["loss_200"] = [math.nan, math.nan]
    config = RateGainDaleConfig(dale=("off", "balanced"))
    rho = correlations(config, rows)
    assert set(rho) == {"all", "dale off", "dale balanced"}
    assert rho["dale off"]["ordered"] == pytest.approx(-1.0)
    assert rho["dale off"]["chaotic"] is None  # two cells: undefined
    # by hand: ranks (1, 3, 2) vs (1.5, 3, 1.5), and (1 ... 6) vs (5.5, 5.5, 3.5, 3.5, 1.5, 1.5)
    assert rho["all"]["chaotic"] == pytest.approx(math.sqrt(3) / 2)
    assert rho["all"]["ordered"] == pytest.approx(-16 / math.sqrt(17.5 * 16))
