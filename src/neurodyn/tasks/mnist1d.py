"""MNIST-1D (Greydanus 2020, "Scaling down deep learning", arXiv 2011.14439) as +-1 inputs.

MNIST-1D is a 1-D analogue of MNIST: ten digit templates of 12 points are padded,
sheared, scaled, translated, smoothed-noised and resampled to sequences of 40 floats,
then the whole set is centred and scaled to unit variance. The ``mnist1d`` package
(``pip install 'neurodyn[mnist1d]'``) generates it offline from its templates with
``make_dataset(get_dataset_args())``: 5 000 sequences with its own seed 42, the first
4 000 for training and the last 1 000 for testing, *the* MNIST-1D data set of the paper
(published test accuracies: logistic regression ~32%, MLP ~68%, CNN ~94%, GRU ~91%). Its
pickle is never downloaded.

:func:`mnist1d` sends the sequences x in R^40 through the front end of Entangled MNIST
(spec ``steering.md`` 4.1): x_tilde = sign(x R), R in R^{40 x N}, R_ij ~ N(0, 1), one R
for both splits, sign(0) = +1 (:mod:`neurodyn.tasks.binarised`).

``make_dataset`` seeds and draws from the process-wide ``random`` and ``numpy.random``
generators; their states are put back afterwards, so that loading the data changes no
global random state. Importing the package imports ``matplotlib.pyplot`` (its plotting
helpers); it is imported only when the data are first generated.
"""

from __future__ import annotations

import functools
import random

import numpy as np
import torch

from neurodyn import rng
from neurodyn.tasks._base import ClassificationData
from neurodyn.tasks.binarised import Split, binarised_data, sign_projection

SIZES = {"train_size": 4000, "test_size": 1000}  # the default split of make_dataset
LENGTH = 40  # floats per sequence
# Published test accuracies on MNIST-1D (Greydanus 2020).
PUBLISHED = {"logistic": 0.32, "mlp": 0.68, "cnn": 0.94, "gru": 0.91}


@functools.lru_cache(maxsize=1)
def _generated() -> tuple[np.ndarray, ...]:
    """x, y, x_test, y_test of ``make_dataset(get_dataset_args())``, read-only."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as error:
        raise ImportError(
            "MNIST-1D needs the mnist1d package: pip install 'neurodyn[mnist1d]' "
            "(or pip install mnist1d)"
        ) from error
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    arrays = tuple(np.array(data[key]) for key in ("x", "y", "x_test", "y_test"))
    for array in arrays:
        array.setflags(write=False)
    return arrays


def mnist1d_sequences() -> tuple[Split, Split]:
    """The train and test splits of MNIST-1D: sequences (P, 40) float64, labels (P,) int64
    (4 000 and 1 000 of them); generated once per process (about 2 s), then reused."""
    x, y, x_test, y_test = _generated()
    return tuple(
        (torch.tensor(features, dtype=torch.float64), torch.tensor(labels, dtype=torch.int64))
        for features, labels in ((x, y), (x_test, y_test))
    )


def mnist1d(
    bits: int = 100,
    *,
    seed: int = 17,
    train_size: int | None = None,
    test_size: int | None = None,
) -> ClassificationData:
    """MNIST-1D through the Entangled MNIST front end: x_tilde = sign(x R), R in
    R^{40 x bits}, R_ij ~ N(0, 1) drawn from ``seed``; ``train_size``/``test_size`` keep
    random subsets drawn from the same stream (default: all 4 000 / 1 000 sequences)."""
    train, test = mnist1d_sequences()
    gen = rng.generator(seed, "task")
    return binarised_data(
        "mnist1d",
        train,
        test,
        sign_projection(LENGTH, bits, gen),
        generator=gen,
        train_size=train_size,
        test_size=test_size,
    )
