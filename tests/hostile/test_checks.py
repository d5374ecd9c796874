"""check_finite: every shape and layout (0-dim, permuted dense, strided slices) and every
kind of bad value is found, with its count; integers pass."""

import pytest
import torch

from neurodyn.checks import check_finite


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_bad_values_are_counted_in_every_layout(bad):
    base = torch.randn(4, 5, 6)
    layouts = {
        "0-dim": lambda t: t[0, 0, 0],
        "dense": lambda t: t,
        "permuted": lambda t: t.permute(2, 0, 1),
        "sliced": lambda t: t[:, ::2],
    }
    for name, view in layouts.items():
        assert check_finite("x", view(base)) is not None, name
        spoiled = base.clone()
        spoiled[0, 0, 0] = bad
        spoiled[3, 4, 4] = bad  # kept by every view but the 0-dim one
        count = 1 if name == "0-dim" else 2
        with pytest.raises(ValueError, match=f"x contains {count} NaN or infinite"):
            check_finite("x", view(spoiled))
    assert check_finite("labels", torch.arange(5)) is not None
    assert check_finite("empty", torch.empty(0, 3)) is not None
