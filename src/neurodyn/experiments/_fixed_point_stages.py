"""Stages shared by the fixed-point experiments (``steering-phase-transition``,
``steering-symmetric``; Scardecchia, arXiv 2510.11984, chapter 3, spec ``steering.md`` 6).

Each stage computes one part for one N and one coupling model, stores its tensors with
:class:`~neurodyn.experiments._stages.Stages` (a finished stage is read back on resume)
and returns its JSON summary. The config needs the fields ``seed``, ``device``,
``self_couplings``, ``networks``, ``initial_states``, ``max_sweeps`` and
``enumeration_networks`` (plus the focusing-BP fields for :func:`focusing`). Symmetric
stages are named with the prefix ``symmetric-``; their couplings are the symmetrised
draws of the asymmetric ones (``random_couplings(..., symmetric=True)``), so both models
are compared on common random numbers.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from neurodyn.analysis import fixed_points as fp
from neurodyn.analysis.asynchronous_dynamics import relax_asynchronous
from neurodyn.analysis.focusing_bp import focusing_bp
from neurodyn.analysis.symmetric_fixed_points import (
    expected_symmetric_fixed_points,
    symmetric_fixed_point_entropy,
)
from neurodyn.analysis.threshold_fits import threshold_error
from neurodyn.experiments._stages import Stages

PURPOSES = (
    "couplings",
    "dynamics",
    "focusing-bp",
    "enumeration",
    "local-entropy",
    "local-entropy-draws",
)


def generator(config, size: int, purpose: str) -> torch.Generator:
    """An independent stream per (seed, size, purpose); dynamics and BP share the couplings."""
    state = np.random.SeedSequence([config.seed, size, PURPOSES.index(purpose)])
    return torch.Generator().manual_seed(int(state.generate_state(1, np.uint64)[0]))


def stage_name(part: str, size: int, symmetric: bool) -> str:
    return f"{'symmetric-' if symmetric else ''}{part}-{size}"


def couplings(
    config,
    size: int,
    *,
    symmetric: bool = False,
    purpose: str = "couplings",
    count: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``count`` (default ``config.networks``) networks drawn from the purpose's stream."""
    return fp.random_couplings(
        size,
        ensemble_size=config.networks if count is None else count,
        generator=generator(config, size, purpose),
        symmetric=symmetric,
        dtype=dtype,
        device=config.device,
    )


def margins_and_energies(weights: torch.Tensor, state: torch.Tensor, grid) -> tuple:
    """Stability margin min_i s_i h_i = min_i u_i + J_D and energy per spin
    -sum_i u_i / (2N) (u_i = s_i sum_{j != i} J_ij s_j) of (E, B, N) states: two (E, B)."""
    stabilities = state * fp.local_fields(weights, state.to(weights.dtype))
    threshold = fp.instance_self_coupling(grid, weights, state.shape[1])
    return stabilities.amin(-1) + threshold, -stabilities.sum(-1) / (2 * state.shape[-1])


def dynamics(config, size: int, stages: Stages, progress: bool, symmetric: bool = False) -> dict:
    """Asynchronous dynamics from random starts at every (network, J_D): the convergence
    probability, the (lower) median sweeps, J_a(N) with its bootstrap standard error over
    the networks, and over the converged runs the median
    stability margin and energy per spin of the fixed points reached."""
    name = stage_name("dynamics", size, symmetric)
    if not stages.done(name):
        draws = generator(config, size, "dynamics")
        grid = torch.tensor(config.self_couplings).repeat_interleave(config.initial_states)
        start = fp.random_spins(
            (config.networks, grid.numel(), size), generator=draws, device=config.device
        )
        weights = couplings(config, size, symmetric=symmetric)
        relaxation = relax_asynchronous(
            weights, grid, start, max_sweeps=config.max_sweeps, generator=draws, progress=progress
        )
        margin, energy = margins_and_energies(weights, relaxation.state, grid)
        stages.save(
            name,
            done=True,
            converged=relaxation.converged,
            sweeps=relaxation.sweeps,
            margin=margin,
            energy=energy,
        )
    converged, sweeps, margin, energy = (
        per_self_coupling(config, stages.tensor(name, key))
        for key in ("converged", "sweeps", "margin", "energy")
    )
    censored = torch.where(converged, sweeps.double(), math.inf)  # lower median below
    probability = converged.double().mean(1).tolist()

    def reached(values: torch.Tensor) -> list:
        kept = torch.where(converged, values.double(), math.nan)
        return [finite(v) for v in kept.nanmedian(1).values.tolist()]

    return {
        "convergence_probability": probability,
        "median_sweeps": [finite(v) for v in censored.median(1).values.tolist()],
        "threshold": finite(fp.crossing_point(config.self_couplings, probability)),
        "threshold_error": finite(
            threshold_error(
                config.self_couplings,
                converged.reshape(len(config.self_couplings), config.networks, -1),
                seed=config.seed,
            )
        ),
        "median_margin": reached(margin),
        "median_energy": reached(energy),
    }


def per_self_coupling(config, values: torch.Tensor) -> torch.Tensor:
    """(E, G R) instance values -> (G, E R): one row per J_D of the grid."""
    grid = len(config.self_couplings)
    return values.reshape(values.shape[0], grid, -1).transpose(0, 1).reshape(grid, -1)


def focusing(config, size: int, stages: Stages, progress: bool) -> dict:
    """Focusing BP (asymmetric couplings only): success probability and its 1/2 crossing."""
    name = f"focusing-bp-{size}"
    if not stages.done(name):
        result = focusing_bp(
            couplings(config, size),
            torch.tensor(config.self_couplings),
            settings=config.bp_settings(),
            generator=generator(config, size, "focusing-bp"),
            progress=progress,
        )
        stages.save(name, done=True, success=result.success, iterations=result.iterations)
    probability = stages.tensor(name, "success").double().mean(0).tolist()
    return {
        "success_probability": probability,
        "threshold": finite(fp.crossing_point(config.self_couplings, probability)),
    }


def enumeration(config, size: int, stages: Stages, symmetric: bool = False) -> dict:
    """Exact counts of ``enumeration_networks`` networks: mean and standard error next to
    the model's finite-N expectation and its large-N form."""
    name = stage_name("enumeration", size, symmetric)
    if not stages.done(name):
        weights = couplings(
            config,
            size,
            symmetric=symmetric,
            purpose="enumeration",
            count=config.enumeration_networks,
            dtype=torch.float64,
        )
        counts = fp.count_fixed_points(weights, torch.tensor(config.self_couplings))
        stages.save(name, done=True, counts=counts)
    counts = stages.tensor(name, "counts").double()
    grid = np.asarray(config.self_couplings)
    if symmetric:
        expected = expected_symmetric_fixed_points(size, grid)
        large = np.exp(size * symmetric_fixed_point_entropy(grid))
    else:
        expected = fp.expected_fixed_points(size, grid)
        large = np.exp(size * fp.fixed_point_entropy(grid))
    return {
        "size": size,
        "mean_count": counts.mean(0).tolist(),
        "standard_error": (counts.std(0) / math.sqrt(counts.shape[0])).tolist(),
        "expected": expected.tolist(),
        "large_size_expected": large.tolist(),
    }


def finite(value: float) -> float | None:
    """JSON-friendly: NaN and infinities (undefined thresholds and medians) become None."""
    return float(value) if value is not None and math.isfinite(value) else None
