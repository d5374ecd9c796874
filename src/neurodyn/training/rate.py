"""``train_rate``: leaky rate RNNs on trial-based tasks with a rate rule + Adam.

Every iteration the rule (:mod:`neurodyn.rules.rate_rule`: BPTT, e-prop, RFLO, gradient
flossing or a registered one of the user's) draws its trials for every member in one
vectorised call from counter-based streams (the member's ``"task"`` key, split by the
rule's ``stream_salt``, and the iteration) and returns its gradients, and ``train_rate``
applies Adam with the member's own learning rate (Kingma & Ba 2015, PyTorch's defaults:
betas 0.9 / 0.999, eps 1e-8, bias correction). Both are elementwise per member, so an
ensemble member's trajectory equals its single run.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real

import torch
from tqdm.auto import tqdm

from neurodyn import rng
from neurodyn.checks import MemberValue, check_positive_int, member_values
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.precision import full_precision
from neurodyn.rules.rate_rule import RateRule
from neurodyn.rules.unroll import Workspace


@dataclass
class AdamState:
    """First and second moment estimates per weight tensor, the step count, and a scratch
    tensor per weight for the step's quotient."""

    first: list[torch.Tensor]
    second: list[torch.Tensor]
    scratch: list[torch.Tensor]
    step: int = 0

    @classmethod
    def zeros_like(cls, weights: RateWeights) -> AdamState:
        params = weights.parameters()
        return cls(*([torch.zeros_like(p) for p in params] for _ in range(3)))


def adam_update(
    weights: RateWeights,
    grads: RateWeights,
    state: AdamState,
    learning_rate: torch.Tensor,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
) -> RateWeights:
    """One Adam step with a learning rate per member (E,), in place on ``weights`` and
    ``state`` (returns ``weights``): a training loop allocates nothing per iteration, and
    fresh tensors of an ensemble's size cost more in page faults than Adam's arithmetic."""
    state.step += 1
    b1, b2 = betas
    correction1, correction2 = 1 - b1**state.step, 1 - b2**state.step
    for k, (p, g) in enumerate(zip(weights.parameters(), grads.parameters(), strict=True)):
        first = state.first[k].mul_(b1).add_(g, alpha=1 - b1)
        second = state.second[k].mul_(b2).addcmul_(g, g, value=1 - b2)
        step = torch.div(second, correction2, out=state.scratch[k]).sqrt_().add_(eps)
        step = torch.div(first, step, out=step)  # m / (sqrt(v_hat) + eps)
        rate = learning_rate.view(-1, *([1] * (p.dim() - 1))) / correction1  # m -> m_hat
        p.addcmul_(rate, step, value=-1)
    return weights


def clip_member_norms(grads: RateWeights, max_norm: float) -> RateWeights:
    """Each member's gradient times min(1, max_norm / (||g|| + 1e-6)), the norm over all its
    weight tensors, in place (returns ``grads``): ``torch.nn.utils.clip_grad_norm_`` per
    member (gradient flossing's task training clips at 0.03, spec section 6)."""
    squares = sum(g.flatten(1).square().sum(1) for g in grads.parameters())
    factor = (max_norm / (squares.sqrt() + 1e-6)).clamp(max=1.0)
    for g in grads.parameters():
        g.mul_(factor.view(-1, *([1] * (g.dim() - 1))))
    return grads


@full_precision()
def train_rate(
    network: LeakyRateNetwork,
    weights: RateWeights,
    task,
    *,
    rule: RateRule,
    iterations: int,
    learning_rate: MemberValue,
    seeds: Sequence[int],
    batch_size: int = 32,
    clip_norm: float | None = None,
    progress: bool = False,
) -> tuple[RateWeights, torch.Tensor]:
    """Train for ``iterations``; returns the weights and the loss per iteration (I, E).

    ``rule`` is a rate rule (:mod:`neurodyn.rules.rate_rule`): :class:`~neurodyn.rules.BPTT`,
    :class:`~neurodyn.rules.EProp`, :class:`~neurodyn.rules.RFLO`,
    :class:`~neurodyn.rules.GradientFlossing` (whose loss is L_flossing) or any registered
    one (``neurodyn.rules.get(name)()``). ``task`` has ``sample_members(batch, keys,
    counter)``, ``input_size``, ``output_size`` and ``loss``. ``clip_norm`` rescales each
    member's gradient to at most that norm before Adam (:func:`clip_member_norms`; off by
    default, as in the paper).

    The initial weights must fit the network and be finite
    (:meth:`~neurodyn.networks.rate.LeakyRateNetwork.check_weights`). Training itself is not
    stopped when a member diverges: its weights and losses become NaN from then on, the
    other members are unaffected (the experiments report such members as NaN), and a
    ``RuntimeWarning`` at the end names the members and the first non-finite iteration.
    """
    if not isinstance(network, LeakyRateNetwork):
        raise TypeError(f"network must be a LeakyRateNetwork, got {type(network).__name__}")
    if not isinstance(rule, RateRule):
        raise ValueError(
            f"rule must be a rate rule object such as BPTT() or neurodyn.rules.get('eprop')(), "
            f"got {rule!r}"
        )
    network.check_weights(weights)
    check_positive_int("iterations", iterations)
    check_positive_int("batch_size", batch_size)
    number = isinstance(clip_norm, Real) and not isinstance(clip_norm, bool)
    if clip_norm is not None and not (number and 0 < clip_norm < math.inf):
        raise ValueError(f"clip_norm must be positive (or None for no clipping), got {clip_norm}")
    sizes = tuple(getattr(task, name, None) for name in ("input_size", "output_size"))
    if sizes != (network.input_size, network.output_size):
        raise ValueError(
            f"the task has {sizes[0]} inputs and {sizes[1]} outputs (input_size, output_size), "
            f"the network {network.input_size} and {network.output_size}"
        )
    rates = member_values(
        "learning_rate",
        learning_rate,
        network.ensemble_size,
        minimum=0.0,
        dtype=network.dtype,
        device=network.device,
    )
    keys = rng.member_keys(
        rng.member_seeds(seeds, network.ensemble_size, name="seeds"),
        "task",
        network.device,
        salt=rule.stream_salt,
    )
    weights = RateWeights(*(p.clone() for p in weights.parameters()))  # trained in place
    state = AdamState.zeros_like(weights)
    workspace = Workspace()
    losses = []
    bar = tqdm(range(iterations), disable=not progress, unit="it", mininterval=2.0)
    for iteration in bar:
        grads, loss = rule.gradients(
            network,
            weights,
            task,
            batch_size=batch_size,
            keys=keys,
            counter=iteration,
            workspace=workspace,
        )
        if clip_norm is not None:
            clip_member_norms(grads, clip_norm)
        adam_update(weights, grads, state, rates)
        losses.append(loss)
        if progress and (iteration + 1) % 50 == 0:  # median over members of the last 50
            recent = torch.stack(losses[-50:]).mean(0)  # diverged members (NaN) left out
            bar.set_postfix(loss=f"{float(recent.nanmedian()):.4f}")
    losses = torch.stack(losses)
    warn_diverged(weights, losses)
    return weights, losses


def warn_diverged(weights: RateWeights, losses: torch.Tensor) -> None:
    """A ``RuntimeWarning`` naming the members whose final weights or losses (I, E) are not
    finite, with the first iteration of a non-finite loss."""
    finite = torch.stack([p.flatten(1).isfinite().all(1) for p in weights.parameters()]).all(0)
    bad_loss = ~losses.isfinite()
    diverged = (~finite.cpu() | bad_loss.any(0).cpu()).nonzero().flatten().tolist()
    if diverged:
        first = bad_loss.any(1).nonzero()
        when = f" (first non-finite loss at iteration {int(first[0])})" if len(first) else ""
        warnings.warn(
            f"train_rate: {len(diverged)} of {losses.shape[1]} members diverged{when}: "
            f"{diverged}; their weights and losses are not finite from then on",
            RuntimeWarning,
            stacklevel=3,
        )
