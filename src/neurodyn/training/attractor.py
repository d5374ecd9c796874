"""``learn_patterns``: present patterns as biases while the network infers and learns.

The protocol of the authors' ``run_network`` (Spisak & Friston 2025; spec
``free-energy-attractor.md`` section 4): each epoch picks one pattern (uniformly at random,
or in cyclic order for sequences), sets the bias b = evidence x pattern, and runs
``steps_per_epoch`` stochastic steps of inference and learning; the state carries over
from epoch to epoch and the bias is removed afterwards.

Randomness is counter-based (:func:`neurodyn.rng.counter_uniform`): the pattern
choice and the samples of epoch k of a member depend only on its seed and k, so members
of a 380-network ensemble equal their single runs, and a run resumes from any epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from tqdm.auto import tqdm

from neurodyn import rng
from neurodyn.checks import (
    MemberValue,
    check_choice,
    check_integer,
    check_positive_int,
    check_shape,
    member_values,
)
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork, free_energy
from neurodyn.precision import full_precision
from neurodyn.rules.free_energy import FreeEnergyRule

ORDERS = ("random", "cyclic")
BLOCK = 64  # epochs whose random numbers are drawn in one vectorised call


@full_precision()
def learn_patterns(
    network: FreeEnergyAttractorNetwork,
    rule: FreeEnergyRule,
    couplings: torch.Tensor,
    patterns: torch.Tensor,
    *,
    evidence: MemberValue,
    epochs: int,
    steps_per_epoch: int,
    seeds: Sequence[int],
    order: str = "random",
    state: torch.Tensor | None = None,
    start_epoch: int = 0,
    pattern_counts: Sequence[int] | None = None,
    reset_state: bool = False,
    on_block: Callable[[int, torch.Tensor, torch.Tensor], None] | None = None,
    free_energies: list[torch.Tensor] | None = None,
    progress: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Epochs ``start_epoch .. epochs - 1``; returns (couplings, state (E, 1, N)).

    ``evidence`` scales the patterns (one value or one per member). ``on_block`` is called
    with (epochs done, couplings, state) after every block of 64 epochs and at the end.
    A given ``free_energies`` list receives, per epoch, the mean over its steps of the VFE
    of the state under the bias shown (E,), the monitor of the authors' figures.
    ``pattern_counts`` lets member e draw only from its first K_e patterns (ensembles over
    the number of stored patterns); ``reset_state`` starts every epoch from sigma = 0, as
    the authors' later JAX version does.
    """
    check_positive_int("epochs", epochs, minimum=0)
    check_positive_int("steps_per_epoch", steps_per_epoch)
    check_positive_int("start_epoch", start_epoch, minimum=0)
    check_choice("order", order, ORDERS)
    E, N = network.ensemble_size, network.size
    network.check_couplings(couplings)
    if state is not None:
        network.check_state("state", state)
        check_shape("state", state, (E, 1, N), "(E, 1, N): one chain per member")
    patterns = network.member_patterns(patterns)
    K = patterns.shape[1]
    counts = torch.full((E,), K, dtype=torch.float64, device=network.device)
    if pattern_counts is not None:
        if isinstance(pattern_counts, torch.Tensor):
            pattern_counts = pattern_counts.tolist()
        if not isinstance(pattern_counts, Sequence):
            raise ValueError(f"pattern_counts must list one count per member, got {pattern_counts}")
        values = [check_integer("pattern_counts", k) for k in pattern_counts]
        counts = torch.tensor(values, dtype=torch.float64, device=network.device)
        if counts.shape != (E,) or bool((counts < 1).any() | (counts > K).any()):
            raise ValueError(f"pattern_counts needs {E} values in [1, {K}], got {values}")
    scale = member_values("evidence", evidence, E, dtype=network.dtype, device=network.device)
    seeds = rng.member_seeds(seeds, E, name="seeds")
    choice_keys = rng.member_keys(seeds, "task", network.device)
    sample_keys = rng.member_keys(seeds, "dynamics", network.device)
    sigma = network.zero_state(1) if state is None else state
    couplings = couplings.clone()  # learned in place below; the caller's tensor stays
    rates = rule.rates(network)
    members = torch.arange(E, device=network.device)
    bar = tqdm(total=epochs - start_epoch, disable=not progress, unit="epoch", mininterval=2.0)
    for block_start in range(start_epoch, epochs, BLOCK):
        counters = torch.arange(block_start, min(block_start + BLOCK, epochs))
        if order == "random":
            draws = rng.counter_uniform(choice_keys, counters, (), torch.float64)
            chosen = torch.minimum((draws * counts[:, None]).long(), counts[:, None].long() - 1)
        else:
            chosen = counters.to(network.device)[None, :] % counts[:, None].long()
        uniforms = rng.counter_uniform(
            sample_keys, counters, (steps_per_epoch, 1, N), network.dtype
        )
        for t in range(counters.numel()):
            bias = (scale[:, None] * patterns[members, chosen[:, t]]).unsqueeze(1)
            if reset_state:
                sigma = torch.zeros_like(sigma)
            monitor = 0.0
            for step in range(steps_per_epoch):
                couplings, sigma = rule.step(
                    network,
                    couplings,
                    sigma,
                    bias,
                    uniform=uniforms[:, t, step],
                    learning_rate=rates,
                    inplace=True,
                )
                if free_energies is not None:
                    monitor = monitor + free_energy(couplings, sigma, bias)[:, 0]
            if free_energies is not None:
                free_energies.append(monitor / steps_per_epoch)
        bar.update(counters.numel())
        if on_block is not None:
            on_block(int(counters[-1]) + 1, couplings, sigma)
    bar.close()
    return couplings, sigma
