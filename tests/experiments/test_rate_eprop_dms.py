"""rate-eprop-dms: the DMS variants it trains (timings and leaks)."""

import pytest

from neurodyn.experiments.rate_eprop_dms import RateEpropDMSConfig, task, variant_name


def test_the_lab_timing_is_eight_steps_with_a_five_step_delay():
    periods = task("lab", 100.0).periods()
    assert periods == {
        "fixation": (0, 0),
        "sample": (0, 1),
        "delay": (1, 6),
        "test": (6, 7),
        "decision": (7, 8),
    }
    assert task("neurogym", 100.0).periods()["decision"] == (23, 32)  # neurogym's 32 steps


@pytest.mark.parametrize(("tau", "alpha"), [(100.0, 0.0), (200.0, 0.5), (500.0, 0.8)])
def test_tau_sets_the_leak(tau, alpha):
    assert task("neurogym", tau).alpha == pytest.approx(alpha)
    assert f"alpha {alpha:.2f}" in variant_name("neurogym", tau)


def test_bad_variants_are_refused():
    with pytest.raises(ValueError, match="timings"):
        RateEpropDMSConfig(timings=("fast",))
    with pytest.raises(ValueError, match="taus"):
        RateEpropDMSConfig(taus=(50.0,))  # tau < dt: alpha < 0
