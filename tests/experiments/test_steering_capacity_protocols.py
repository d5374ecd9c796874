"""Capacity protocols (issue 19, 4a): each variant changes one field of the base, runs the
same search as steering-capacity with that field, and reports slopes per H and per L H."""

from dataclasses import replace

import pytest

from neurodyn.config import to_dict
from neurodyn.experiments import steering_capacity, steering_capacity_protocols
from neurodyn.runs import RunFolder

CONFIG = replace(
    steering_capacity_protocols.tiny(),
    depths=(2,),
    recall_thresholds=(0.9, 1.0),  # 1.0 is the base's: no variant of its own
    fixed_input_sizes=(20,),
    epoch_budgets=(2,),
)


def test_each_variant_changes_one_field_of_the_base():
    variants = CONFIG.variants()
    assert list(variants) == ["base", "recall >= 0.9", "N = 20", "2 epochs"]
    base = to_dict(variants["base"])
    assert base == to_dict(steering_capacity.tiny()) | {"depths": [2]}
    changed = {
        label: {k for k, v in to_dict(v).items() if base[k] != v} for label, v in variants.items()
    }
    assert changed == {
        "base": set(),
        "recall >= 0.9": {"recall_threshold"},
        "N = 20": {"fixed_input_size"},
        "2 epochs": {"epochs"},
    }
    assert variants["N = 20"].input_size(16) == variants["N = 20"].input_size(24) == 20


def test_a_variant_gives_what_steering_capacity_gives_with_its_field(tmp_path):
    result = steering_capacity_protocols.run(
        CONFIG, RunFolder(tmp_path / "protocols", to_dict(CONFIG)), False
    )
    for label, variant in CONFIG.variants().items():
        alone = steering_capacity.run(variant, RunFolder(tmp_path / label, to_dict(variant)), False)
        mine = result["variants"][label]
        assert mine["capacities"] == alone["capacities"], label
        fit = mine["slopes"]["2"]
        assert fit["total_slope"] == pytest.approx(fit["slope"] / 2)
    assert result["variants"]["2 epochs"]["changes"] == {"epochs": 2}
    text = steering_capacity_protocols.summary(result)
    assert "thesis: slope L=2: 0.38" in text and "over the thesis: per H L=2" in text
