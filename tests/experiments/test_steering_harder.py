"""steering-harder: per data set the steering ensemble, its baselines and the backprop MLP;
its data-set configs, a reproducible tiny run, and a resume that keeps finished data sets."""

import dataclasses
import json
import os

import pytest

from neurodyn import cli
from neurodyn.config import to_dict
from neurodyn.experiments import steering_harder
from neurodyn.experiments.steering_harder import HarderConfig, dataset_config, tiny
from neurodyn.runs import RunFolder

pytest.importorskip("mnist1d", reason="needs pip install 'neurodyn[mnist1d]'")


def test_each_data_set_gets_its_bits_and_capped_sizes():
    config = HarderConfig(input_bits=64, train_size=10000, test_size=2000, hidden_size=50)
    one_d, pixels = (dataset_config(config, d) for d in ("mnist1d", "mnist-pixels"))
    assert (one_d.input_bits, one_d.train_size, one_d.test_size) == (64, 4000, 1000)
    assert (pixels.input_bits, pixels.train_size, pixels.test_size) == (784, 10000, 2000)
    assert one_d.hidden_size == pixels.hidden_size == 50 and one_d.models == config.models
    assert (one_d.dataset, pixels.dataset) == ("mnist1d", "mnist-pixels")
    with pytest.raises(ValueError, match="'train_sweeps' must exceed num_layers"):
        HarderConfig(train_sweeps=1)
    with pytest.raises(ValueError, match="'datasets' must not repeat a value"):
        HarderConfig(datasets=("mnist1d", "mnist1d"))
    with pytest.raises(ValueError, match="'mlp_batch_size' must be at most the 200 training"):
        dataclasses.replace(tiny(), mlp_batch_size=201)


def run_tiny(tmp_path, name: str, config: HarderConfig, *extra: str) -> dict:
    settings = tmp_path / f"{name}.json"
    settings.write_text(json.dumps(to_dict(config)))
    out = tmp_path / name
    args = ["run", "steering-harder", "--out", str(out), "--config", str(settings), *extra]
    assert cli.main([*args, "--no-progress"]) == 0
    return json.loads((out / "result.json").read_text())


def test_tiny_run_is_reproducible_and_complete(tmp_path, capsys):
    first = run_tiny(tmp_path, "first", tiny())
    assert run_tiny(tmp_path, "second", tiny()) == first
    assert list(first["datasets"]) == ["mnist1d", "prototypes"]
    entry = first["datasets"]["mnist1d"]
    assert (entry["input_bits"], entry["train_size"], entry["test_size"]) == (20, 200, 100)
    assert list(entry["models"]) == ["full", "random-features", "reservoir", "mlp"]
    assert entry["models"]["mlp"]["learning_rate"] in (0.001, 0.01)
    assert len(entry["mlp"]["learning_rates"]) == 2 and entry["models"]["full"]["seeds"] == 2
    full, features = entry["models"]["full"], entry["models"]["random-features"]
    margin = entry["margins"]["full - random-features"]["best_test_accuracy"]
    assert margin[0] == pytest.approx(
        full["best_test_accuracy"][0] - features["best_test_accuracy"][0]
    )
    best = [m["best_test_accuracy"] for m in entry["members"] if m["model"] == "full"]
    assert full["best_test_accuracy"][0] == pytest.approx(sum(best) / 2)
    assert first["published"]["mnist1d"]["test_accuracy"]["mlp"] == 0.68
    assert "prototypes" not in first["published"]
    capsys.readouterr()


def test_a_failed_run_resumes_without_training_finished_data_sets_again(tmp_path, monkeypatch):
    config = dataclasses.replace(tiny(), seeds=(0,))
    whole = steering_harder.run(config, RunFolder(tmp_path / "whole", to_dict(config)), False)
    calls, train = [], steering_harder.train_mlp

    def failing_on_prototypes(data, **options):
        calls.append(data.name)
        if data.name == "prototypes" and len(calls) == 2:
            raise RuntimeError("killed")
        return train(data, **options)

    monkeypatch.setattr(steering_harder, "train_mlp", failing_on_prototypes)
    folder = tmp_path / "resumed"
    with pytest.raises(RuntimeError, match="killed"):
        steering_harder.run(config, RunFolder(folder, to_dict(config)), False)
    partial = json.loads((folder / "result.json").read_text())
    assert "mlp" in partial["datasets"]["mnist1d"]["models"]
    assert "mlp" not in partial["datasets"]["prototypes"]["models"]
    resumed = steering_harder.run(config, RunFolder(folder, to_dict(config), resume=True), False)
    assert calls == ["mnist1d", "prototypes", "prototypes"]  # mnist1d not trained again
    assert resumed == whole


@pytest.mark.skipif(not os.environ.get("NEURODYN_DATA"), reason="needs MNIST in $NEURODYN_DATA")
def test_mnist_pixels_reads_784_bits(tmp_path, capsys):
    config = dataclasses.replace(tiny(), datasets=("mnist-pixels",), epochs=1, mlp_epochs=1)
    result = run_tiny(tmp_path, "pixels", config)
    entry = result["datasets"]["mnist-pixels"]
    assert (entry["input_bits"], entry["train_size"], entry["test_size"]) == (784, 200, 100)
    assert result["config"]["input_bits"] == 20  # the projected data sets' N, unused here
    capsys.readouterr()
