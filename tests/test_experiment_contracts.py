"""Contract every registered experiment meets: typed configs that round-trip and take flags."""

import argparse
import json

import pytest

from neurodyn import config, experiments


@pytest.mark.parametrize("name", sorted(experiments.REGISTRY))
def test_configs_round_trip_through_json_and_flags(name):
    experiment = experiments.get(name)
    candidates = [experiment.make_config()]
    if experiment.quick is not None:
        candidates.append(experiment.quick())
    for candidate in candidates:
        as_json = json.loads(json.dumps(config.to_dict(candidate)))
        assert config.from_dict(experiment.config, as_json) == candidate
    parser = argparse.ArgumentParser()
    config.add_arguments(parser, candidates[0])
    flags = []
    for field, value in config.to_dict(candidates[-1]).items():
        shown = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        flags += [f"--{field.replace('_', '-')}", shown]
    rebuilt = config.apply_arguments(candidates[0], parser.parse_args(flags))
    assert rebuilt == candidates[-1]
    assert experiment.description and experiment.run and experiment.summary
