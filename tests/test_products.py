"""oneDNN step products: used only where bit-identical, the caller's setting restored."""

import pytest
import torch

from neurodyn import _products
from neurodyn.networks.rate import LeakyRateNetwork
from neurodyn.rules import gradients as G
from neurodyn.tasks.romo import Romo


def test_the_mode_is_restored_after_a_block_even_on_error():
    before = torch.backends.mkldnn.matmul.fp32_precision
    with pytest.raises(RuntimeError, match="inside"), _products.Products(True):
        assert torch.backends.mkldnn.matmul.fp32_precision == "bf16"
        raise RuntimeError("inside")
    assert torch.backends.mkldnn.matmul.fp32_precision == before


def test_other_dtypes_and_the_switch_keep_the_default_path(monkeypatch):
    like = torch.zeros(1, dtype=torch.float64)
    assert not _products.onednn_products(4, 8, 8, 9, 0.5, like).onednn
    monkeypatch.setenv("NEURODYN_ONEDNN", "0")
    assert not _products.onednn_products(4, 8, 8, 9, 0.5, torch.zeros(1)).onednn


@pytest.mark.parametrize(
    "rule, alpha", [("bptt", 0.5), ("bptt", 0.3), ("eprop", 0.5), ("rflo", 0.8)]
)
def test_gradients_are_the_same_bits_on_either_path(rule, alpha, monkeypatch):
    """Whatever the probe decides on this machine, float32 gradients do not depend on it."""
    net = LeakyRateNetwork(1, 32, 2, ensemble_size=6, gain=[0.5, 1.0, 1.5] * 2, alpha=alpha)
    weights = net.init(list(range(6)))
    batch = Romo().sample(16, torch.Generator().manual_seed(2))
    feedback = torch.randn(6, 2, 32, generator=torch.Generator().manual_seed(3))
    extra = {"feedback": feedback} if rule == "rflo" else {}
    function = {"bptt": G.bptt_gradients, "eprop": G.eprop_gradients, "rflo": G.rflo_gradients}
    args = (net, weights, batch.inputs, batch.targets, batch.mask, "mse")
    chosen, loss = function[rule](*args, **extra)
    monkeypatch.setenv("NEURODYN_ONEDNN", "0")
    default, default_loss = function[rule](*args, **extra)
    for a, b in zip(chosen.parameters(), default.parameters(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(loss, default_loss)
