"""The contract of rate-RNN learning rules and their registry.

A rate rule is a configuration object that :func:`neurodyn.training.rate.train_rate`
follows: every iteration it asks the rule for the gradients of its objective for every
ensemble member and applies Adam with the member's own learning rate. A rule has

* ``stream_salt`` (int): which split of each member's counter-based task stream its
  trials come from (0 for task training; a rule that must not see the training trials,
  such as gradient flossing, takes another);
* ``gradients(network, weights, task, *, batch_size, keys, counter, workspace)`` ->
  ``(gradients, loss)``: a :class:`~neurodyn.networks.rate.RateWeights` of gradients
  (E, ...) and the loss per member (E,) on draw ``counter`` of the member ``keys``
  (:func:`neurodyn.rng.member_keys`); ``workspace`` holds buffers the rule may reuse from
  call to call (:class:`~neurodyn.rules.unroll.Workspace`), and returned gradients may
  live in it until the next call.

Every gradient function checks that the weights fit the network (shapes, dtype, device:
:meth:`~neurodyn.networks.rate.LeakyRateNetwork.check_weights`) but not that they are
finite: a member whose training diverged gets NaN gradients and loss, its own, and the
other members are unaffected (``train_rate`` refuses non-finite initial weights and warns
about members that diverge; gradient flossing refuses NaN weights outright).

Rules that learn from one batch of trials subclass :class:`BatchRule` and write
``batch_gradients``. ``register(name, factory)`` adds a rule under a name that configs and
the command line use; ``get(name)`` returns the factory (a class whose defaults are the
paper's setting), and the contract tests in ``tests/rules/test_rate_rule_contract.py`` run
over every registered rule.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import ClassVar, Protocol, runtime_checkable

import torch

from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.registry import Registry
from neurodyn.rules.unroll import Workspace


@runtime_checkable
class RateRule(Protocol):
    stream_salt: int

    def gradients(
        self,
        network: LeakyRateNetwork,
        weights: RateWeights,
        task,
        *,
        batch_size: int,
        keys: torch.Tensor,
        counter: int,
        workspace: Workspace,
    ) -> tuple[RateWeights, torch.Tensor]: ...


def training_batch(
    network: LeakyRateNetwork, task, batch_size: int, keys, counter: int, workspace=None
):
    """Draw ``counter`` of every member's trials as the gradient rules take them: inputs
    and mask in the network's dtype and device, targets too for ``mse`` (class indices for
    ``cross_entropy``), each (E, B, T, ...), and the network's noise for them
    (:meth:`LeakyRateNetwork.sample_noise` on the same keys and counter): returns
    (inputs with their noise, targets, mask, recurrent noise (E, B, T, N) or None). With a
    ``workspace`` the recurrent noise is its time-major buffer ``"noise"`` (T, E, B, N),
    viewed as (E, B, T, N)."""
    trials = task.sample_members(batch_size, keys, counter)  # (E, B, T, ...) at once
    x = trials.inputs.to(network.device, network.dtype)
    targets = trials.targets.to(network.device)
    mask = trials.mask.to(network.device, network.dtype)
    if task.loss == "mse":
        targets = targets.to(network.dtype)
    out = None
    if workspace is not None and network.noisy:  # time-major, as the unrolls step through it
        E, B, T, _ = x.shape
        out = workspace.get("noise", (T, E, B, network.hidden_size), x).permute(1, 2, 0, 3)
    x, noise = network.sample_noise(x, keys, counter, out=out)
    return x, targets, mask, noise


class BatchRule:
    """A rule whose gradients come from one batch of task trials per member."""

    stream_salt: ClassVar[int] = 0

    def gradients(self, network, weights, task, *, batch_size, keys, counter, workspace):
        """:meth:`batch_gradients` on the members' batch of draw ``counter``, with the
        recurrent noise as ``noise=`` where the network has any."""
        batch = training_batch(network, task, batch_size, keys, counter, workspace)
        x, targets, mask, noise = batch
        extra = {}
        if noise is not None:
            if "noise" not in inspect.signature(self.batch_gradients).parameters:
                raise ValueError(
                    f"{type(self).__name__}.batch_gradients takes no noise= argument, so it "
                    "cannot train a network with recurrent_noise > 0: add noise=None to it "
                    "and pass it on to network.run"
                )
            extra["noise"] = noise
        return self.batch_gradients(
            network, weights, x, targets, mask, task.loss, workspace=workspace, **extra
        )

    def batch_gradients(
        self,
        network: LeakyRateNetwork,
        weights: RateWeights,
        x: torch.Tensor,
        targets: torch.Tensor,
        mask: torch.Tensor,
        loss: str,
        *,
        workspace: Workspace | None = None,
        noise: torch.Tensor | None = None,
    ) -> tuple[RateWeights, torch.Tensor]:
        """Gradients and loss (E,) of one batch; ``noise`` the recurrent noise (E, B, T, N)
        to pass to ``network.run`` (None: none). Optional: a rule without it trains
        networks without recurrent noise only."""
        raise NotImplementedError


RULES: Registry[Callable[[], RateRule]] = Registry("rate rule")
register, get, names = RULES.register, RULES.get, RULES.names
