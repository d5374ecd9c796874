"""The Hebbian Hopfield reference keeps its patterns below ~0.14 N and loses them above."""

import torch

from neurodyn.analysis.capacity import hebbian_couplings, hebbian_retention


def test_hebbian_capacity_is_about_0_14_n():
    generator = torch.Generator().manual_seed(0)
    n = 200

    def overlap(load: float) -> float:
        k = int(load * n)
        patterns = torch.randint(0, 2, (8, k, n), generator=generator).float() * 2 - 1
        return float(hebbian_retention(patterns, generator=generator).mean())

    assert overlap(0.05) == 1.0
    assert overlap(0.10) > 0.99
    assert overlap(0.22) < 0.85


def test_hebbian_couplings_are_symmetric_with_zero_diagonal():
    patterns = torch.randint(0, 2, (2, 5, 30)).float() * 2 - 1
    couplings = hebbian_couplings(patterns)
    assert torch.equal(couplings, couplings.transpose(1, 2))
    assert torch.all(couplings.diagonal(dim1=1, dim2=2) == 0)
