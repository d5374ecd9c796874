"""steering-symmetric: the tiny run is reproducible from its seed and compares both models."""

import json

from neurodyn import cli
from neurodyn.config import to_dict
from neurodyn.experiments.steering_symmetric import tiny


def test_tiny_run_is_reproducible_from_the_seed(tmp_path, capsys):
    settings = tmp_path / "tiny.json"
    settings.write_text(json.dumps(to_dict(tiny())))
    results = []
    for name in ("first", "second"):
        out = tmp_path / name
        args = ["run", "steering-symmetric", "--out", str(out), "--config", str(settings)]
        assert cli.main([*args, "--no-progress"]) == 0, capsys.readouterr().err
        results.append(json.loads((out / "result.json").read_text()))
    first, second = results
    assert first == second
    symmetric = first["models"]["symmetric"]
    assert all(p == 1.0 for p in symmetric["dynamics"][0]["convergence_probability"])
    assert first["enumeration_max_abs_z"]["symmetric"] < 4
    assert set(first["cluster_threshold"]) == {"asymmetric", "symmetric"}
    capsys.readouterr()
