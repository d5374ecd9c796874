"""Attractors, retrieval and orthogonality of free-energy attractor networks.

The evaluation of Spisak & Friston (arXiv 2505.22749), as in the authors'
``performance_metrics``; spec ``free-energy-attractor.md`` section 4. Every function
takes the ensemble axis E first and works on all members at once.

* :func:`free_energy` (from the network module): the VFE the authors monitor.
* :func:`find_attractors`: deterministic relaxation x <- L(precision (J x)) with zero bias
  until |delta VFE| < tolerance (the authors' stopping rule), NaN where it fails.
* :func:`count_distinct`: distinct attractors after rounding to 2 decimals.
* :func:`orthogonality`: mean |90 - angle| over attractor pairs with 1 < angle < 179
  degrees (drops self-pairs and duplicates), as coded; :func:`data_orthogonality` gives
  both the coded data reference (zero diagonal included: 29.94 for the digits) and the
  value over distinct pairs only.
* :func:`reconstruction_scores`: noisy patterns presented as biases with learning off;
  the score is the median over trials of R^2(mean state, pattern) - R^2(noisy, pattern),
  each R^2 rounded to 3 decimals; trials run one after another from the current state.
* :func:`asymmetry`, :func:`coupling_correlations`: ||J - J^T|| / ||J|| and the
  correlation of the symmetric part with the Hebbian and projector matrices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from neurodyn import rng
from neurodyn.checks import (
    check_matrices,
    check_positive_int,
    check_real,
    check_shape,
    check_tensor,
    member_values,
)
from neurodyn.networks import continuous_bernoulli as cb
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork
from neurodyn.precision import full_precision


@full_precision()
def find_attractors(
    couplings: torch.Tensor,
    starts: torch.Tensor,
    *,
    precision: float = 1.0,
    max_steps: int = 1000,
    tolerance: float = 1e-12,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Deterministic relaxation from ``starts`` (E or 1, K, N) with zero bias, in float64.

    x <- L(precision x J) until the VFE changes by less than ``tolerance``; returns the
    attractors (E, K, N), NaN rows where that never happened within ``max_steps``, and
    the steps taken (E, K). Each start keeps the state of its own first converged step,
    as the authors' ``relax`` does. With zero bias the VFE of x needs h = x J and
    m = L(h) (b_q and its mean) and m J; at precision 1, m is the next state and m J its
    input, so every step costs one product and one Langevin function.
    """
    E, N = check_matrices("couplings", couplings)
    check_tensor("starts", starts, (None, None, N), axes=f"({E} or 1, K, N)", finite=True)
    if starts.shape[0] not in (1, E) or starts.shape[1] == 0:
        raise ValueError(f"starts must have shape ({E} or 1, K >= 1, {N}), got {starts.shape}")
    check_positive_int("max_steps", max_steps)
    check_real("precision", precision, minimum=0.0)
    check_real("tolerance", tolerance, minimum=0.0)
    J = couplings.double()
    x = starts.double().expand(J.shape[0], -1, -1).clone()  # (1, K, N) serves all members
    h = torch.bmm(x, J)
    mean = cb.langevin(h)
    ahead = torch.bmm(mean, J)

    def energy(h: torch.Tensor, mean: torch.Tensor, ahead: torch.Tensor) -> torch.Tensor:
        complexity = cb.log_partition(torch.zeros_like(h)) - cb.log_partition(h) + h * mean
        return complexity.sum(-1) - (ahead * mean).sum(-1)

    previous = energy(h, mean, ahead)
    found = torch.full_like(x, torch.nan)
    done = torch.zeros(x.shape[:2], dtype=torch.bool, device=x.device)
    steps = torch.full(x.shape[:2], max_steps, dtype=torch.long, device=x.device)
    for step in range(1, max_steps + 1):
        if precision == 1.0:
            x, h = mean, ahead
        else:
            x = cb.langevin(precision * h)
            h = torch.bmm(x, J)
        mean = cb.langevin(h)
        ahead = torch.bmm(mean, J)
        current = energy(h, mean, ahead)
        now = ~done & ((current - previous).abs() < tolerance)
        found = torch.where(now.unsqueeze(-1), x, found)
        steps = torch.where(now, step, steps)
        done |= now
        previous = current
        if bool(done.all()):
            break
    return found, steps


def count_distinct(attractors: torch.Tensor) -> torch.Tensor:
    """Distinct converged attractors per member after rounding to 2 decimals: (E,)."""
    counts = []
    for member in attractors:
        rows = member[~torch.isnan(member).any(-1)]
        counts.append(torch.unique(torch.round(rows, decimals=2), dim=0).shape[0])
    return torch.tensor(counts)


def _angles(vectors: torch.Tensor) -> torch.Tensor:
    """Pairwise angles in degrees (E, K, K) with a zero diagonal, as the authors' code."""
    unit = vectors / vectors.norm(dim=-1, keepdim=True)
    cosine = torch.bmm(unit, unit.transpose(1, 2)).clamp(-1.0, 1.0)
    angles = torch.rad2deg(torch.arccos(cosine))
    return angles * (1 - torch.eye(vectors.shape[1], dtype=angles.dtype, device=angles.device))


def orthogonality(attractors: torch.Tensor) -> torch.Tensor:
    """Mean |90 - angle| over attractor pairs with 1 < angle < 179 degrees: (E,).

    NaN for a member with fewer than two distinct attractors (as coded).
    """
    angles = _angles(attractors.double())
    keep = (angles > 1) & (angles < 179)
    deviation = (90 - angles).abs()
    total = (deviation * keep).sum((1, 2))
    count = keep.sum((1, 2))
    return torch.where(count > 0, total / count.clamp(min=1), torch.nan)


def data_orthogonality(patterns: torch.Tensor) -> tuple[float, float]:
    """(coded reference including the zero diagonal, mean over distinct pairs) in degrees."""
    angles = _angles(patterns.double().unsqueeze(0))[0]
    deviation = (90 - angles).abs()
    off = ~torch.eye(patterns.shape[0], dtype=torch.bool)
    return float(deviation.mean()), float(deviation[off].mean())


def _squared_correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson r^2 along the last axis, rounded to 3 decimals as in the authors' code."""
    a = a - a.mean(-1, keepdim=True)
    b = b - b.mean(-1, keepdim=True)
    r = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
    return torch.round(r**2, decimals=3)


def reconstruction_scores(
    network: FreeEnergyAttractorNetwork,
    couplings: torch.Tensor,
    state: torch.Tensor,
    patterns: torch.Tensor,
    *,
    evidence: torch.Tensor | float,
    seeds: Sequence[int],
    sample: bool,
    trials: int = 100,
    steps: int = 100,
    signal: float = 0.1,
    snr: float = 1.0,
    precision: float = 1.0,
    salt: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Median R^2 gain of the mean stochastic state over the noisy input, per member.

    Trial t shows orig = signal * evidence * pattern (pattern t mod K, or a random one when
    ``sample``) plus N(0, std(orig) / snr) noise as the bias for ``steps`` stochastic steps
    at ``precision`` without learning, continuing from the state left by the previous
    trial. Returns (median gains (E,), the state after the last trial, per-trial gains
    (E, trials)). Different ``salt`` values give independent random draws.
    """
    E, N = network.ensemble_size, network.size
    network.check_couplings(couplings)
    network.check_state("state", state)
    check_shape("state", state, (E, 1, N), "(E, 1, N): one chain per member")
    check_positive_int("trials", trials)
    check_positive_int("steps", steps)
    check_real("signal", signal)
    check_real("snr", snr, minimum=0.0)
    check_real("precision", precision, minimum=0.0)
    patterns = network.member_patterns(patterns)
    K = patterns.shape[1]
    scale = member_values("evidence", evidence, E, dtype=network.dtype, device=network.device)
    seeds = rng.member_seeds(seeds, E, name="seeds")
    choice_keys, noise_keys, sample_keys = (
        rng.member_keys(seeds, "evaluation", network.device, salt=3 * salt + k) for k in range(3)
    )
    counters = torch.arange(trials)
    if sample:
        draws = rng.counter_uniform(choice_keys, counters, (), torch.float64)
        chosen = (draws * K).long().clamp(max=K - 1)
    else:
        chosen = (counters % K).expand(E, -1).to(network.device)
    members = torch.arange(E, device=network.device)
    noise = rng.counter_normal(noise_keys, counters, (N,), network.dtype)
    beta = torch.full((E,), precision, dtype=network.dtype, device=network.device)
    gains = []
    for t in range(trials):
        original = signal * scale[:, None] * patterns[members, chosen[:, t]]  # (E, N)
        noisy = original + original.std(-1, correction=0, keepdim=True) / snr * noise[:, t]
        bias = noisy.unsqueeze(1)
        uniforms = rng.counter_uniform(sample_keys, t, (steps, 1, N), network.dtype)
        total = torch.zeros_like(state)
        for k in range(steps):
            state, _ = network.step(couplings, state, bias, uniform=uniforms[:, k], precision=beta)
            total += state
        mean = (total / steps)[:, 0]
        gains.append(_squared_correlation(mean, original) - _squared_correlation(noisy, original))
    gains = torch.stack(gains, dim=1)
    return gains.median(dim=1).values, state, gains


def asymmetry(couplings: torch.Tensor) -> torch.Tensor:
    """||J - J^T|| / ||J|| per member: 0 symmetric, sqrt(2) unrelated."""
    check_matrices("couplings", couplings)
    return (couplings - couplings.transpose(1, 2)).norm(dim=(1, 2)) / couplings.norm(dim=(1, 2))


def hebbian_matrix(patterns: torch.Tensor) -> torch.Tensor:
    """Zero-diagonal outer-product (Hebbian) matrix X^T X of the patterns (K, N)."""
    x = patterns.double()
    matrix = x.T @ x
    return matrix - torch.diag(torch.diag(matrix))


def projector_matrix(patterns: torch.Tensor) -> torch.Tensor:
    """Zero-diagonal projector (pseudo-inverse) matrix X^T (X X^T)^+ X onto the patterns."""
    x = patterns.double()
    matrix = x.T @ torch.linalg.pinv(x @ x.T) @ x
    return matrix - torch.diag(torch.diag(matrix))


def coupling_correlations(
    couplings: torch.Tensor, patterns: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Correlation of the off-diagonal symmetric part of J with the Hebbian and projector."""
    _, N = check_matrices("couplings", couplings)
    check_tensor("patterns", patterns, (None, N), axes="(K, N)", finite=True)
    symmetric = 0.5 * (couplings + couplings.transpose(1, 2)).double()
    off = ~torch.eye(couplings.shape[-1], dtype=torch.bool)
    learned = symmetric[:, off]
    out = {}
    for name, reference in (
        ("hebbian", hebbian_matrix(patterns)),
        ("projector", projector_matrix(patterns)),
    ):
        ref = reference[off]
        a = learned - learned.mean(-1, keepdim=True)
        b = ref - ref.mean()
        # a row-wise product sum, not a @ b: a matrix-vector product orders its sums by
        # the number of members, so that a member's value would depend on its ensemble
        out[name] = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm() + 1e-300)
    return out


def relax_starts(patterns: torch.Tensor, evidence: torch.Tensor | float) -> torch.Tensor:
    """Starting points L(0.1 * evidence * pattern) of the authors' attractor search.

    ``patterns`` (E, K, N) or (K, N); ``evidence`` one value or one per member.
    """
    scale = torch.as_tensor(evidence, dtype=torch.float64, device=patterns.device)
    scale = scale.reshape(-1, 1, 1)
    return cb.langevin(0.1 * scale * patterns.double())


@dataclass(frozen=True)
class AttractorMetrics:
    """The authors' ``performance_metrics`` per member, each (E,), plus the attractors."""

    retrieval: torch.Tensor
    generalization: torch.Tensor
    attractor_count: torch.Tensor
    orthogonality: torch.Tensor
    asymmetry: torch.Tensor
    attractors: torch.Tensor

    def as_lists(self) -> dict[str, list[float]]:
        names = ("retrieval", "generalization", "attractor_count", "orthogonality", "asymmetry")
        return {name: [float(v) for v in getattr(self, name)] for name in names}


def evaluate_network(
    network: FreeEnergyAttractorNetwork,
    couplings: torch.Tensor,
    state: torch.Tensor,
    train: torch.Tensor,
    test: torch.Tensor,
    *,
    evidence: torch.Tensor | float,
    seeds: Sequence[int],
    trials: int = 100,
    steps: int = 100,
) -> AttractorMetrics:
    """Retrieval (training patterns in turn), one-shot generalisation (random test
    images), then the deterministic attractors from L(0.1 evidence pattern): spec 4.
    Orthogonality is NaN for a member with fewer than two distinct attractors.

    Retrieval and generalisation run at precision 1 with noise SNR 1 and signal 0.1,
    the state carrying over from training to retrieval to generalisation, as coded.
    """
    scores = []
    for salt, (patterns, sample) in enumerate(((train, False), (test, True))):
        score, state, _ = reconstruction_scores(
            network,
            couplings,
            state,
            patterns,
            evidence=evidence,
            seeds=seeds,
            sample=sample,
            trials=trials,
            steps=steps,
            salt=salt,
        )
        scores.append(score)
    retrieval, generalization = scores
    scale = member_values("evidence", evidence, network.ensemble_size, dtype=torch.float64)
    found, _ = find_attractors(couplings, relax_starts(network.member_patterns(train), scale))
    count = count_distinct(found)
    return AttractorMetrics(
        retrieval=retrieval.cpu(),
        generalization=generalization.cpu(),
        attractor_count=count,
        orthogonality=torch.where(count > 1, orthogonality(found).cpu(), torch.nan),
        asymmetry=asymmetry(couplings).cpu(),
        attractors=found.cpu(),
    )
