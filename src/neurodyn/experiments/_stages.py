"""Resumable experiment stages: named results and checkpointed training in a run folder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from neurodyn.config import from_dict
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork
from neurodyn.rules.free_energy import FreeEnergyRule
from neurodyn.runs import RunFolder
from neurodyn.training.attractor import learn_patterns

CHECKPOINT_EVERY = 512  # epochs between checkpoints inside a training stage


class Stages:
    """Named results of an experiment's stages, kept in the run folder's checkpoint.

    Each stage stores tensors and JSON values; a resumed run skips finished stages and
    continues an interrupted training stage from its last checkpoint. The checkpoint may
    also hold the training state of :func:`._steering_training.train_in_folder`, kept as
    is. Finished stages are bound to the values of the folder's extendable fields
    (``epochs``): a resume that changes them is refused, since the stored stages would not
    match the new config.
    """

    def __init__(self, folder: RunFolder):
        self.folder = folder
        loaded = folder.load_checkpoint()
        self.tensors, self.state = loaded if loaded is not None else ({}, {})
        self.state.setdefault("stages", {})  # a checkpoint shared with train_in_folder
        lengths = {name: folder.config.get(name) for name in folder.extendable}
        stored = self.state.setdefault("lengths", lengths)
        if stored != lengths:
            raise ValueError(
                f"cannot resume {folder.path} with {lengths}: its stages were computed with "
                f"{stored} and this experiment cannot extend them; start again with "
                "--overwrite or use another --out"
            )

    def done(self, name: str) -> bool:
        return self.state["stages"].get(name, {}).get("done", False)

    def values(self, name: str) -> dict:
        return self.state["stages"][name]["values"]

    def tensor(self, name: str, key: str) -> torch.Tensor:
        return self.tensors[f"{name}.{key}"]

    def save(self, name: str, *, done: bool, values: dict | None = None, **tensors) -> None:
        stage = self.state["stages"].setdefault(name, {})
        stage["done"] = done
        if values is not None:
            stage["values"] = values
        for key, tensor in tensors.items():
            self.tensors[f"{name}.{key}"] = tensor.detach().cpu()
        self.folder.save_checkpoint(self.tensors, self.state)

    def learn(
        self,
        name: str,
        network: FreeEnergyAttractorNetwork,
        rule: FreeEnergyRule,
        patterns: torch.Tensor,
        *,
        evidence,
        epochs: int,
        steps_per_epoch: int,
        seeds: Sequence[int],
        order: str = "random",
        progress: bool = True,
        couplings: torch.Tensor | None = None,
        state: torch.Tensor | None = None,
        **options,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """learn_patterns from ``couplings`` (default zero) and ``state``, checkpointed every
        512 epochs under ``name``; a finished stage returns its stored result at once.
        Further ``options`` go to :func:`learn_patterns`."""
        stage = self.state["stages"].get(name, {})
        start = stage.get("epoch", 0)
        if start:
            couplings = self.tensor(name, "couplings").to(network.device)
            state = self.tensor(name, "state").to(network.device)
        elif couplings is None:
            couplings = network.init()

        def checkpoint(epoch: int, current: torch.Tensor, sigma: torch.Tensor) -> None:
            if epoch % CHECKPOINT_EVERY == 0 or epoch == epochs:
                self.state["stages"].setdefault(name, {})["epoch"] = epoch
                self.save(name, done=False, couplings=current, state=sigma)

        return learn_patterns(
            network,
            rule,
            couplings,
            patterns,
            evidence=evidence,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            seeds=seeds,
            order=order,
            state=state,
            start_epoch=start,
            on_block=checkpoint,
            progress=progress,
            **options,
        )


def join_stages(
    config, parts: Sequence[RunFolder], folder: RunFolder, members: Callable[[Any, str], list]
) -> None:
    """Write into ``folder``'s checkpoint the finished stages of the run folders ``parts``
    (chunks of a sweep over ``config``, see :class:`~neurodyn.experiments.MemberAxes`),
    joined member by member, so that ``run(config, folder)`` finds them all done and only
    computes the result. ``members(config, stage)`` lists the members of a stage (any
    hashable per member) in the order of its values: every list in the stage's values
    and the first axis of every stage tensor run over them."""
    joined: dict[str, dict] = {}
    tensors: dict[str, torch.Tensor] = {}
    for part in parts:
        part_config = from_dict(type(config), part.config)
        stages = Stages(part)
        for name, stage in stages.state["stages"].items():
            if not stage.get("done"):
                raise ValueError(f"{part.path}: stage {name!r} is not finished")
            whole = {m: i for i, m in enumerate(members(config, name))}
            index = [whole[m] for m in members(part_config, name)]
            entry = joined.setdefault(name, {"done": True, "values": {}, "covered": set()})
            entry["values"] = _place(entry["values"], stage["values"], index, len(whole), name)
            entry["covered"].update(index)
            for key, tensor in stages.tensors.items():
                if key.startswith(f"{name}."):
                    if key not in tensors:
                        tensors[key] = tensor.new_zeros(len(whole), *tensor.shape[1:])
                    tensors[key][index] = tensor
    for name, entry in joined.items():
        missing = len(members(config, name)) - len(entry.pop("covered"))
        if missing:
            raise ValueError(f"the chunks hold {missing} members of stage {name!r} too few")
    lengths = {name: folder.config.get(name) for name in folder.extendable}
    folder.save_checkpoint(tensors, {"stages": joined, "lengths": lengths})


def _place(into, values, index: list[int], size: int, stage: str):
    """``values`` of some members (lists over them, in dicts) placed at ``index`` of
    lists over ``size`` members in ``into``; anything else must agree between parts."""
    if isinstance(values, dict):
        into = into if isinstance(into, dict) else {}
        return {k: _place(into.get(k), v, index, size, stage) for k, v in values.items()}
    if isinstance(values, list):
        if len(values) != len(index):
            raise ValueError(f"stage {stage!r} holds a list that does not run over its members")
        into = into if isinstance(into, list) else [None] * size
        for position, value in zip(index, values, strict=True):
            into[position] = value
        return into
    if into is not None and into != values:
        raise ValueError(f"the chunks disagree on a value of stage {stage!r}")
    return values
