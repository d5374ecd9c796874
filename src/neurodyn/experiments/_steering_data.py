"""The data sets of the steering experiments: config fields and loading.

Every data set is +-1 input bits and ten classes (spec ``steering.md`` 1.1, 4): Entangled
MNIST (MNIST through a random projection and a sign, spec 4.1; Scardecchia 2025, arXiv
2510.11984), MNIST-1D through the same front end (Greydanus 2020), full-resolution MNIST
with its 784 pixels thresholded, and noisy synthetic prototypes (spec 4.2, for tests).
"""

from __future__ import annotations

import dataclasses

import torch

from neurodyn import rng
from neurodyn.config import Config, option
from neurodyn.tasks import mnist1d
from neurodyn.tasks._base import ClassificationData
from neurodyn.tasks.mnist import entangled_mnist, mnist_pixels, pixel_permutation
from neurodyn.tasks.patterns import prototype_patterns

DATASETS = ("entangled-mnist", "prototypes", "mnist1d", "mnist-pixels")
MNIST_SIZES = {"train_size": 60000, "test_size": 10000}  # all MNIST images
# The examples each data set holds (prototypes are drawn, as many as asked).
SIZES = {
    "entangled-mnist": MNIST_SIZES,
    "mnist-pixels": MNIST_SIZES,
    "mnist1d": mnist1d.SIZES,
}
PIXELS = 28 * 28  # the input bits of mnist-pixels
# The data of the tiny configs: 100 / 50 synthetic prototype patterns of 20 bits (seconds).
TINY_DATA = {"dataset": "prototypes", "input_bits": 20, "train_size": 100, "test_size": 50}


def data_dir_option():
    """The config field ``data_dir``: the folder of the MNIST files (MNIST data sets)."""
    return option(
        "",
        "folder holding the MNIST IDX files (empty: $NEURODYN_DATA, then the user cache)",
        unbounded=True,
    )


@dataclasses.dataclass(frozen=True)
class EntangledMNISTFields(Config):
    """Config fields of the data set (:func:`load_data`); defaults: Entangled MNIST of
    100 bits on all 60 000 / 10 000 images, data seed 17 (spec 4.1)."""

    dataset: str = option(
        "entangled-mnist",
        "entangled-mnist (MNIST through a random 784 x N projection and sign, spec 4.1), "
        "mnist1d (MNIST-1D's 40-float sequences through a random 40 x N projection and sign), "
        "mnist-pixels (the 784 MNIST pixels thresholded at 1/2; N = 784) or prototypes "
        "(noisy +-1 class prototypes, no files needed; for tests)",
        choices=DATASETS,
    )
    input_bits: int = option(100, "N, input bits per pattern (spec 4.1: N = 100)", minimum=1)
    train_size: int = option(
        60000,
        "training patterns (entangled-mnist, mnist-pixels: 60000 is the whole MNIST training "
        "set; mnist1d: at most 4000)",
        minimum=10,
    )
    test_size: int = option(
        10000,
        "test patterns (entangled-mnist, mnist-pixels: 10000 is the whole MNIST test set; "
        "mnist1d: at most 1000)",
        minimum=10,
    )
    data_seed: int = option(
        17,
        "seed of the example subset and the projection R (or of the prototypes); spec: 17",
        minimum=0,
    )
    data_dir: str = data_dir_option()

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, available in SIZES.get(self.dataset, {}).items():
            if getattr(self, name) > available:
                raise ValueError(
                    f"config field {name!r} must be <= {available} (all the {self.dataset} "
                    f"examples) for {self.dataset}, got {getattr(self, name)}"
                )
        if self.dataset == "mnist-pixels" and self.input_bits != PIXELS:
            raise ValueError(
                f"config field 'input_bits' must be {PIXELS} for mnist-pixels (one bit per "
                f"pixel), got {self.input_bits}; set input_bits = {PIXELS}"
            )


def load_data(config, permutation_seed: int | None = None) -> ClassificationData:
    """The data of a config with fields ``dataset``, ``input_bits``, ``train_size``,
    ``test_size``, ``data_seed`` and ``data_dir`` (see :data:`DATASETS`); a size equal to
    the data set's (:data:`SIZES`) means all of its examples, a smaller one a random subset.

    With ``permutation_seed`` the same examples come permuted by one fixed bijection drawn
    from it: for Entangled MNIST the pixels of every image before the projection (permuted
    MNIST, :func:`~neurodyn.tasks.mnist.pixel_permutation`), else the input bits of every
    pattern (for mnist-pixels, again its pixels).
    """
    if config.dataset == "entangled-mnist":
        return entangled_mnist(
            config.input_bits,
            seed=config.data_seed,
            data_dir=config.data_dir or None,
            **_subsets(config),
            permutation=None if permutation_seed is None else pixel_permutation(permutation_seed),
        )
    if config.dataset == "prototypes":
        data = prototype_patterns(
            input_size=config.input_bits,
            train_per_class=config.train_size // 10,
            test_per_class=config.test_size // 10,
            seed=config.data_seed,
        )
    elif config.dataset == "mnist1d":
        data = mnist1d.mnist1d(config.input_bits, seed=config.data_seed, **_subsets(config))
    else:
        data = mnist_pixels(
            seed=config.data_seed, data_dir=config.data_dir or None, **_subsets(config)
        )
    if permutation_seed is None:
        return data
    gen = rng.generator(permutation_seed, "permutation")
    bits = torch.randperm(data.input_size, generator=gen)
    return dataclasses.replace(
        data, train_inputs=data.train_inputs[:, bits], test_inputs=data.test_inputs[:, bits]
    )


def _subsets(config) -> dict[str, int | None]:
    """``train_size`` and ``test_size`` for the loaders: None where the config asks for
    every example of its data set."""
    return {
        name: None if getattr(config, name) >= available else getattr(config, name)
        for name, available in SIZES[config.dataset].items()
    }
