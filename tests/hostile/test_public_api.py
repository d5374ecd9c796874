"""Hostile arguments to the library's public functions: each is refused at the boundary with
one ValueError or TypeError whose single-line message names the argument, never a silent
wrong result or an error from deep inside PyTorch (issue 17, classes 4 and 5).

Weights on the wrong device need a second device and are not tested here.
"""

from __future__ import annotations

import math

import pytest
import torch

from neurodyn import rng, rules, tasks
from neurodyn.analysis import StepDynamics, lyapunov_spectrum
from neurodyn.analysis.attractors import find_attractors, reconstruction_scores
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork
from neurodyn.networks.binary import BinarySteeringNetwork
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.rules import BPTT, FreeEnergyRule, SteeringRule
from neurodyn.rules.bptt import bptt_gradients
from neurodyn.rules.eprop import eprop_gradients
from neurodyn.rules.flossing import flossing_loss
from neurodyn.rules.rflo import rflo_gradients
from neurodyn.tasks import ClassificationData, PerceptualDecision, Romo
from neurodyn.training import (
    RandomStreams,
    evaluate,
    learn_patterns,
    train,
    train_epoch,
    train_rate,
    train_until_stored,
)

F64 = torch.float64


# ----------------------------------------------------------------- the objects under attack
def rate_net(**options) -> LeakyRateNetwork:
    settings = {"ensemble_size": 2, "gain": [0.5, 1.0]}
    settings.update(options)
    return LeakyRateNetwork(1, 8, 2, **settings)


def rate_weights(**options) -> RateWeights:
    network = rate_net(**options)
    return network.init(list(range(network.ensemble_size)))


def with_nan(weights: RateWeights, field: str = "readout") -> RateWeights:
    tensors = {k: v.clone() for k, v in weights.tensors().items()}
    tensors[field][0, 0, 0] = math.nan
    return RateWeights(**tensors)


def romo_batch(members: int = 2):
    """Inputs, targets and mask of 3 Romo trials per member, (E, 3, T, ...)."""
    trials = Romo().sample_members(3, rng.member_keys(list(range(members)), "task"), 0)
    return trials.inputs, trials.targets, trials.mask


def decision_batch():
    trials = PerceptualDecision().sample(3, torch.Generator().manual_seed(0))
    return trials.inputs, trials.targets, trials.mask


def decision_gradients(change):
    """BPTT gradients of a decision-task network with ``change(targets)`` as targets."""
    network = LeakyRateNetwork(3, 8, 3)
    inputs, targets, mask = decision_batch()
    return bptt_gradients(network, network.init(0), inputs, change(targets), mask, "cross_entropy")


def steering_net(**options) -> BinarySteeringNetwork:
    settings = {"ensemble_size": 2}
    settings.update(options)
    return BinarySteeringNetwork(6, 10, 3, **settings)


def steering_data(count: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randint(0, 2, (count, 6), generator=gen).float() * 2 - 1
    return inputs, torch.arange(count) % 3


def classification(num_classes: int = 3) -> ClassificationData:
    inputs, labels = steering_data()
    return ClassificationData("toy", inputs, labels, inputs, labels, num_classes)


def attractor_net(**options) -> FreeEnergyAttractorNetwork:
    settings = {"ensemble_size": 2}
    settings.update(options)
    return FreeEnergyAttractorNetwork(5, **settings)


def learn(**changes):
    network = attractor_net()
    arguments = {
        "couplings": network.init(),
        "patterns": torch.randn(2, 5, generator=torch.Generator().manual_seed(0)),
        "evidence": 1.0,
        "epochs": 1,
        "steps_per_epoch": 1,
        "seeds": [0, 1],
    }
    arguments.update(changes)
    couplings, patterns = arguments.pop("couplings"), arguments.pop("patterns")
    return learn_patterns(network, FreeEnergyRule(), couplings, patterns, **arguments)


def rate_training(**changes):
    network = changes.pop("network", rate_net())
    arguments = {
        "task": Romo(),
        "rule": BPTT(),
        "iterations": 1,
        "learning_rate": 1e-3,
        "seeds": [0, 1],
        "batch_size": 2,
    }
    arguments.update(changes)
    weights = arguments.pop("weights", None) or network.init(list(range(network.ensemble_size)))
    return train_rate(network, weights, arguments.pop("task"), **arguments)


def spectrum(state=None, inputs=None, weights=None, network=None):
    network = network or rate_net()
    weights = network.init([0, 1]) if weights is None else weights
    state = torch.zeros(2, 3, 8) if state is None else state
    inputs = torch.zeros(2, 3, 10, 1) if inputs is None else inputs
    return lyapunov_spectrum(StepDynamics.of_network(network, weights), state, inputs)


def steering_training(**changes):
    network = steering_net()
    arguments = {
        "weights": network.init([0, 1]),
        "data": classification(),
        "epochs": 1,
        "streams": RandomStreams.from_seeds([0, 1]),
        "batch_size": 4,
        "progress": False,
    }
    arguments.update(changes)
    weights, data = arguments.pop("weights"), arguments.pop("data")
    return train(network, weights, SteeringRule(), data, **arguments)


def steering_epoch(**changes):
    network = steering_net()
    inputs, labels = steering_data()
    arguments = {
        "weights": network.init([0, 1]),
        "inputs": inputs,
        "labels": labels,
        "batch_size": 4,
        "streams": RandomStreams.from_seeds([0, 1]),
    }
    arguments.update(changes)
    weights, inputs, labels = (arguments.pop(k) for k in ("weights", "inputs", "labels"))
    return train_epoch(network, weights, SteeringRule(), inputs, labels, **arguments)


def evaluation(**changes):
    network = steering_net()
    inputs, labels = steering_data()
    arguments = {"weights": network.init([0, 1]), "inputs": inputs, "labels": labels}
    arguments.update(changes)
    return evaluate(network, arguments.pop("weights"), arguments.pop("inputs"), **arguments)


def storage(**changes):
    network = steering_net()
    inputs, labels = steering_data()
    arguments = {
        "weights": network.init([0, 1]),
        "patterns": inputs.expand(2, -1, -1),
        "labels": labels.expand(2, -1),
        "counts": [4, 8],
        "epochs": 1,
        "streams": RandomStreams.from_seeds([0, 1]),
        "batch_size": 4,
    }
    arguments.update(changes)
    weights, patterns, labels, counts = (
        arguments.pop(k) for k in ("weights", "patterns", "labels", "counts")
    )
    return train_until_stored(
        network, weights, SteeringRule(), patterns, labels, counts, **arguments
    )


def keys(count: int = 2) -> torch.Tensor:
    return rng.member_keys(list(range(count)), "task")


def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


# ----------------------------------------------------------------- the cases
# (id, call, exception, pattern the one-line message must contain)
CASES = [
    # rate networks: the weights (issue class 5) and their entry points
    (
        "rate check_weights: wrong hidden size",
        lambda: rate_net().check_weights(LeakyRateNetwork(1, 9, 2, ensemble_size=2).init(0)),
        ValueError,
        r"weights\.recurrent must have shape \(2, 8, 8\)",
    ),
    (
        "rate check_weights: wrong ensemble size",
        lambda: rate_net().check_weights(rate_weights(ensemble_size=3, gain=1.0)),
        ValueError,
        r"weights\.recurrent must have shape \(2, 8, 8\)",
    ),
    (
        "rate check_weights: float64 weights for a float32 network",
        lambda: rate_net().check_weights(rate_weights(dtype=F64)),
        ValueError,
        r"weights\.recurrent must have dtype torch\.float32",
    ),
    (
        "rate check_weights: NaN",
        lambda: rate_net().check_weights(with_nan(rate_weights())),
        ValueError,
        r"weights\.readout contains 1 NaN",
    ),
    (
        "rate check_weights: a tuple instead of RateWeights",
        lambda: rate_net().check_weights(tuple(rate_weights().parameters())),
        TypeError,
        r"weights must be RateWeights",
    ),
    (
        "rate run: wrong hidden size",
        lambda: rate_net().run(LeakyRateNetwork(1, 9, 2, ensemble_size=2).init(0), romo_batch()[0]),
        ValueError,
        r"weights\.recurrent",
    ),
    (
        "rate run: inputs of the wrong width",
        lambda: rate_net().run(rate_weights(), torch.zeros(3, 5, 2)),
        ValueError,
        r"inputs must have shape \(2, \*, \*, 1\)",
    ),
    (
        "rate run: inputs without time steps",
        lambda: rate_net().run(rate_weights(), torch.zeros(3, 0, 1)),
        ValueError,
        r"inputs must hold at least one trial of one step",
    ),
    (
        "rate step: state of the wrong size",
        lambda: rate_net().step(rate_weights(), torch.zeros(2, 3, 9), torch.zeros(2, 3, 1)),
        ValueError,
        r"state must have shape \(2, \*, 8\)",
    ),
    (
        "rate step: inputs of another batch",
        lambda: rate_net().step(rate_weights(), torch.zeros(2, 3, 8), torch.zeros(2, 4, 1)),
        ValueError,
        r"inputs must have shape \(2, 3, 1\)",
    ),
    (
        "rate network: a mask of the wrong size",
        lambda: rate_net(mask=torch.ones(9, 9)),
        ValueError,
        r"mask must have shape \(8, 8\) or \(2, 8, 8\)",
    ),
    (
        "rate network: a mask of probabilities",
        lambda: rate_net(mask=torch.full((8, 8), 0.5)),
        ValueError,
        r"mask must hold only 0 and 1",
    ),
    (
        "rate network: Dale flags for another ensemble size",
        lambda: rate_net(dale=[True, False, True]),
        ValueError,
        r"dale must be one bool or 2 of them",
    ),
    (
        "rate network: an unknown Dale initialisation",
        lambda: rate_net(dale=True, dale_init="uniform"),
        ValueError,
        r"dale_init must be one of",
    ),
    (
        "rate network: negative recurrent noise",
        lambda: rate_net(recurrent_noise=[0.1, -0.1]),
        ValueError,
        r"recurrent_noise must be >= 0",
    ),
    (
        "rate run: noise of the wrong shape",
        lambda: rate_net().run(rate_weights(), torch.zeros(3, 5, 1), noise=torch.zeros(2, 3, 5, 9)),
        ValueError,
        r"noise must have shape \(2, 3, 5, 8\)",
    ),
    # train_rate (classes 4 and 5)
    (
        "train_rate: NaN initial weights",
        lambda: rate_training(weights=with_nan(rate_weights(), "recurrent")),
        ValueError,
        r"weights\.recurrent contains 1 NaN",
    ),
    (
        "train_rate: weights of another ensemble size",
        lambda: rate_training(weights=rate_weights(ensemble_size=3, gain=1.0)),
        ValueError,
        r"weights\.recurrent must have shape \(2, 8, 8\)",
    ),
    (
        "train_rate: float64 weights for a float32 network",
        lambda: rate_training(weights=rate_weights(dtype=F64)),
        ValueError,
        r"weights\.recurrent must have dtype",
    ),
    (
        "train_rate: a seed of 1.5",
        lambda: rate_training(seeds=[0, 1.5]),
        ValueError,
        r"seeds\[1\] must be a non-negative integer",
    ),
    (
        "train_rate: seeds for another ensemble size",
        lambda: rate_training(seeds=[0, 1, 2]),
        ValueError,
        r"seeds: got 3 seeds for an ensemble of 2",
    ),
    (
        "train_rate: nested per-member learning rates",
        lambda: rate_training(learning_rate=[[1e-3, 1e-3]]),
        ValueError,
        r"learning_rate must be one value or a flat sequence",
    ),
    (
        "train_rate: NaN learning rate",
        lambda: rate_training(learning_rate=[1e-3, math.nan]),
        ValueError,
        r"learning_rate contains 1 NaN",
    ),
    (
        "train_rate: a task of other sizes than the network",
        lambda: rate_training(task=PerceptualDecision()),
        ValueError,
        r"the task has 3 inputs and 3 outputs \(input_size, output_size\)",
    ),
    (
        "train_rate: 1.5 iterations",
        lambda: rate_training(iterations=1.5),
        ValueError,
        r"iterations must be an integer >= 1",
    ),
    (
        "train_rate: batch_size 0",
        lambda: rate_training(batch_size=0),
        ValueError,
        r"batch_size must be an integer >= 1",
    ),
    (
        "train_rate: negative clip_norm",
        lambda: rate_training(clip_norm=-1.0),
        ValueError,
        r"clip_norm must be positive",
    ),
    (
        "train_rate: a rule name instead of a rule",
        lambda: rate_training(rule="bptt"),
        ValueError,
        r"rule must be a rate rule object",
    ),
    # the rate rules' gradient functions
    (
        "bptt_gradients: weights of another hidden size",
        lambda: bptt_gradients(
            rate_net(), LeakyRateNetwork(1, 9, 2, ensemble_size=2).init(0), *romo_batch(), "mse"
        ),
        ValueError,
        r"weights\.recurrent must have shape",
    ),
    (
        "eprop_gradients: float64 weights for a float32 network",
        lambda: eprop_gradients(rate_net(), rate_weights(dtype=F64), *romo_batch(), "mse"),
        ValueError,
        r"weights\.recurrent must have dtype",
    ),
    (
        "rflo_gradients: feedback of the wrong shape",
        lambda: rflo_gradients(
            rate_net(), rate_weights(), *romo_batch(), "mse", feedback=torch.zeros(2, 8, 2)
        ),
        ValueError,
        r"feedback must have shape \(2, 2, 8\)",
    ),
    (
        "bptt_gradients: targets of another length",
        lambda: bptt_gradients(
            rate_net(),
            rate_weights(),
            romo_batch()[0],
            *(t[:, :, :5] for t in romo_batch()[1:]),
            "mse",
        ),
        ValueError,
        r"targets must have shape \(B, T, N_out\)",
    ),
    (
        "bptt_gradients: float targets for the cross entropy",
        lambda: decision_gradients(lambda targets: targets.float()),
        ValueError,
        r"targets of the cross entropy must be integer class indices",
    ),
    (
        "bptt_gradients: targets outside the outputs",
        lambda: decision_gradients(lambda targets: targets + 3),
        ValueError,
        r"targets must lie in \[0, 2\]",
    ),
    (
        "flossing_loss: NaN weights",
        lambda: flossing_loss(rate_net(), with_nan(rate_weights(), "recurrent"), romo_batch()[0]),
        ValueError,
        r"weights\.recurrent contains 1 NaN",
    ),
    # Lyapunov spectra
    (
        "lyapunov_spectrum: state of the wrong size",
        lambda: spectrum(state=torch.zeros(2, 3, 9), inputs=torch.zeros(2, 3, 10, 1)),
        ValueError,
        r"state must have shape \(2, \*, 8\)",
    ),
    (
        "lyapunov_spectrum: state of another ensemble size",
        lambda: spectrum(state=torch.zeros(3, 3, 8), inputs=torch.zeros(3, 3, 10, 1)),
        ValueError,
        r"state must have shape \(2, \*, 8\)",
    ),
    (
        "lyapunov_spectrum: inputs of the wrong width",
        lambda: spectrum(inputs=torch.zeros(2, 3, 10, 2)),
        ValueError,
        r"inputs must have shape \(2, 3, \*, 1\)",
    ),
    (
        "lyapunov_spectrum: a float64 state for float32 weights",
        lambda: spectrum(state=torch.zeros(2, 3, 8, dtype=F64), inputs=torch.zeros(2, 3, 10, 1)),
        ValueError,
        r"weights\.recurrent must have dtype torch\.float64",
    ),
    (
        "StepDynamics.of_network: weights of another ensemble size",
        lambda: StepDynamics.of_network(rate_net(), rate_weights(ensemble_size=3, gain=1.0)),
        ValueError,
        r"weights\.recurrent must have shape \(2, 8, 8\)",
    ),
    (
        "StepDynamics.of_network: NaN weights",
        lambda: StepDynamics.of_network(rate_net(), with_nan(rate_weights(), "inputs")),
        ValueError,
        r"weights\.inputs contains 1 NaN",
    ),
    (
        "lyapunov_spectrum: a list as the state",
        lambda: spectrum(state=[[0.0] * 8]),
        TypeError,
        r"state must be a torch\.Tensor",
    ),
    # steering: evaluate, train, train_epoch, train_until_stored
    (
        "evaluate: float labels",
        lambda: evaluation(labels=steering_data()[1].float()),
        ValueError,
        r"labels must be integer class indices",
    ),
    (
        "evaluate: labels outside [0, C)",
        lambda: evaluation(labels=steering_data()[1] + 1),
        ValueError,
        r"labels must lie in \[0, 2\]",
    ),
    (
        "evaluate: fewer labels than inputs",
        lambda: evaluation(labels=steering_data()[1][:5]),
        ValueError,
        r"labels must have shape \(2, 8\)",
    ),
    (
        "evaluate: inputs of the wrong width",
        lambda: evaluation(inputs=torch.ones(8, 7)),
        ValueError,
        r"inputs must have shape \(\*, 6\)",
    ),
    (
        "evaluate: weights of another hidden size",
        lambda: evaluation(weights=BinarySteeringNetwork(6, 11, 3, ensemble_size=2).init(0)),
        ValueError,
        r"weights\.couplings must have shape \(2, 1, 10, 10\)",
    ),
    (
        "evaluate: float64 weights for a float32 network",
        lambda: evaluation(weights=steering_net(dtype=F64).init(0)),
        ValueError,
        r"weights\.couplings must have dtype torch\.float32",
    ),
    (
        "evaluate: NaN weights",
        lambda: evaluation(
            weights=steering_net().init(0).replace(readout_weights=torch.full((2, 1, 10, 3), 1e400))
        ),
        ValueError,
        r"weights\.readout_weights contains 60 NaN or infinite",
    ),
    (
        "train: RandomStreams of another ensemble size",
        lambda: steering_training(streams=RandomStreams.from_seeds([0, 1, 2])),
        ValueError,
        r"streams\.data must hold one torch\.Generator per member: the ensemble has 2",
    ),
    (
        "train: data with another number of classes",
        lambda: steering_training(data=classification(num_classes=4)),
        ValueError,
        r"data have 4 classes but the network num_classes = 3",
    ),
    (
        "train: member_names of another length",
        lambda: steering_training(member_names=["only"]),
        ValueError,
        r"member_names must name each of the 2 members",
    ),
    (
        "train_epoch: RandomStreams of another ensemble size",
        lambda: steering_epoch(streams=RandomStreams.from_seeds([0])),
        ValueError,
        r"streams\.data must hold one torch\.Generator per member",
    ),
    (
        "train_epoch: float labels",
        lambda: steering_epoch(labels=steering_data()[1].double()),
        ValueError,
        r"labels must be integer class indices",
    ),
    (
        "train_until_stored: RandomStreams of another ensemble size",
        lambda: storage(streams=RandomStreams.from_seeds([0, 1, 2])),
        ValueError,
        r"streams\.data must hold one torch\.Generator per member",
    ),
    (
        "train_until_stored: fractional counts",
        lambda: storage(counts=[4.5, 8.0]),
        ValueError,
        r"counts must be integers",
    ),
    (
        "train_until_stored: labels outside [0, C)",
        lambda: storage(labels=(steering_data()[1] + 5).expand(2, -1)),
        ValueError,
        r"labels must lie in \[0, 2\]",
    ),
    (
        "SteeringRule.step: weights of another network",
        lambda: SteeringRule().step(
            steering_net(),
            BinarySteeringNetwork(6, 10, 4, ensemble_size=2).init(0),
            *steering_data(),
        ),
        ValueError,
        r"weights\.readout_weights must have shape \(2, 1, 10, 3\)",
    ),
    (
        "relax: generators of another ensemble size",
        lambda: steering_net(update_probability=0.5).relax(
            steering_net().init(0),
            steering_data()[0],
            sweeps=1,
            generators=rng.generators([0, 1, 2], "dynamics"),
        ),
        ValueError,
        r"generators must be a list of one torch\.Generator per member \(2\)",
    ),
    # seeds (class 4)
    ("generator: seed 1.5", lambda: rng.generator(1.5, "init"), ValueError, r"seed must be"),
    ("generator: seed True", lambda: rng.generator(True, "init"), ValueError, r"seed must be"),
    ("generator: seed -1", lambda: rng.generator(-1, "init"), ValueError, r"seed must be"),
    ("generator: seed '3'", lambda: rng.generator("3", "init"), ValueError, r"seed must be"),
    (
        "member_seeds: 1.5 among the seeds",
        lambda: rng.member_seeds([0, 1.5], 2),
        ValueError,
        r"seed\[1\] must be a non-negative integer, got 1\.5",
    ),
    (
        "member_seeds: True as the shared seed",
        lambda: rng.member_seeds(True, 2),
        ValueError,
        r"seed must be a non-negative integer, got True",
    ),
    (
        "member_keys: nested seeds",
        lambda: rng.member_keys([[0, 1]], "task"),
        ValueError,
        r"seeds\[0\] must be a non-negative integer",
    ),
    (
        "init: a seed of 1.5",
        lambda: rate_net().init([0, 1.5]),
        ValueError,
        r"seed\[1\] must be a non-negative integer",
    ),
    # per-member hyperparameters (class 4)
    (
        "member values: nested gains",
        lambda: rate_net(gain=[[0.5, 1.0]]),
        ValueError,
        r"gain must be one value or a flat sequence",
    ),
    (
        "member values: a 2-D tensor of self-couplings",
        lambda: steering_net(self_coupling=torch.full((2, 2), 0.5)),
        ValueError,
        r"self_coupling must be one value or a flat sequence",
    ),
    (
        "member values: strings",
        lambda: rate_net(gain=["0.5", "1"]),
        TypeError,
        r"gain must be a number or a flat sequence",
    ),
    (
        "member values: a bool",
        lambda: attractor_net(precision=True),
        TypeError,
        r"precision must be a number",
    ),
    (
        "network: an integer dtype",
        lambda: rate_net(dtype=torch.int64),
        ValueError,
        r"dtype must be a floating-point torch dtype",
    ),
    # tasks
    ("sample: batch 0", lambda: Romo().sample(0, generator()), ValueError, r"batch must be"),
    ("sample: batch 2.0", lambda: Romo().sample(2.0, generator()), ValueError, r"batch must be"),
    (
        "sample: no generator",
        lambda: Romo().sample(2),
        TypeError,
        r"generator must be a torch\.Generator",
    ),
    (
        "sample_members: float keys",
        lambda: Romo().sample_members(2, keys().double(), 0),
        ValueError,
        r"keys must have dtype torch\.int64",
    ),
    (
        "sample_members: 2-D keys",
        lambda: Romo().sample_members(2, keys().view(2, 1), 0),
        ValueError,
        r"keys must have shape \(\*\)",
    ),
    (
        "sample_members: counter 1.5",
        lambda: Romo().sample_members(2, keys(), 1.5),
        ValueError,
        r"counter must be an integer >= 0",
    ),
    (
        "sample_member_streams: no trials",
        lambda: Romo().sample_member_streams(2, 0, keys(), 0),
        ValueError,
        r"trials must be an integer >= 1",
    ),
    (
        "sample_member_streams: batch 0",
        lambda: Romo().sample_member_streams(0, 2, keys(), 0),
        ValueError,
        r"batch must be an integer >= 1",
    ),
    (
        "ClassificationData: labels outside [0, C)",
        lambda: ClassificationData("toy", *steering_data(), *steering_data(), 2),
        ValueError,
        r"train_labels must lie in \[0, 1\]",
    ),
    (
        "ClassificationData: float labels",
        lambda: ClassificationData(
            "toy", steering_data()[0], steering_data()[1].float(), *steering_data(), 3
        ),
        ValueError,
        r"train_labels must be integer class indices",
    ),
    # registries
    ("tasks.get: unknown name", lambda: tasks.get("nope"), KeyError, r"no task named 'nope'"),
    ("tasks.get: a number", lambda: tasks.get(3), TypeError, r"looked up by its name"),
    ("rules.get: unknown name", lambda: rules.get("sgd"), KeyError, r"no rate rule named 'sgd'"),
    # the free-energy attractor network
    (
        "learn_patterns: couplings of another size",
        lambda: learn(couplings=torch.zeros(2, 6, 6)),
        ValueError,
        r"couplings must have shape \(2, 5, 5\)",
    ),
    (
        "learn_patterns: NaN couplings",
        lambda: learn(couplings=torch.full((2, 5, 5), math.nan)),
        ValueError,
        r"couplings contains 50 NaN",
    ),
    (
        "learn_patterns: several chains per member",
        lambda: learn(state=torch.zeros(2, 3, 5)),
        ValueError,
        r"state must have shape \(2, 1, 5\)",
    ),
    (
        "learn_patterns: seeds of another ensemble size",
        lambda: learn(seeds=[0, 1, 2]),
        ValueError,
        r"seeds: got 3 seeds for an ensemble of 2",
    ),
    (
        "learn_patterns: fractional pattern_counts",
        lambda: learn(pattern_counts=[1, 1.5]),
        ValueError,
        r"pattern_counts must be an integer",
    ),
    (
        "attractor step: float64 couplings for a float32 network",
        lambda: attractor_net().step(
            torch.zeros(2, 5, 5, dtype=F64), torch.zeros(2, 1, 5), torch.zeros(2, 1, 5)
        ),
        ValueError,
        r"couplings must have dtype torch\.float32",
    ),
    (
        "attractor step: uniforms of another shape",
        lambda: attractor_net().step(
            torch.zeros(2, 5, 5),
            torch.zeros(2, 3, 5),
            torch.zeros(2, 1, 5),
            uniform=torch.rand(2, 1, 5),
        ),
        ValueError,
        r"uniform must have shape \(2, 3, 5\)",
    ),
    (
        "find_attractors: couplings that are not square",
        lambda: find_attractors(torch.zeros(2, 5, 4), torch.zeros(1, 3, 5)),
        ValueError,
        r"couplings must be a floating-point tensor \(E, N, N\)",
    ),
    (
        "reconstruction_scores: evidence for another ensemble size",
        lambda: reconstruction_scores(
            attractor_net(),
            torch.zeros(2, 5, 5),
            torch.zeros(2, 1, 5),
            torch.ones(2, 5),
            evidence=[1.0, 2.0, 3.0],
            seeds=[0, 1],
            sample=False,
            trials=1,
            steps=1,
        ),
        ValueError,
        r"evidence has 3 values but the ensemble has 2 members",
    ),
]


@pytest.mark.parametrize("call, error, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_argument_is_refused_with_one_line_naming_it(call, error, pattern):
    with pytest.raises(error, match=pattern) as caught:
        call()
    message = caught.value.args[0] if caught.value.args else ""
    assert isinstance(message, str) and "\n" not in message, message


def test_there_are_enough_cases():
    assert len(CASES) >= 45
    assert len({c[0] for c in CASES}) == len(CASES)


def test_a_diverging_member_keeps_nan_and_is_reported():
    """Training that diverges is not an error (experiments report such members as NaN):
    the member's weights and losses turn NaN, the others are unaffected, and a warning
    names it."""
    with pytest.warns(RuntimeWarning, match=r"1 of 2 members diverged.*\[1\]"):
        trained, losses = rate_training(iterations=3, learning_rate=[1e-3, 1e30])
    alone = LeakyRateNetwork(1, 8, 2, gain=0.5)
    single, single_losses = rate_training(network=alone, iterations=3, seeds=[0])
    assert not bool(trained.recurrent[1].isfinite().all())
    assert torch.equal(trained.recurrent[0], single.recurrent[0])
    torch.testing.assert_close(losses[:, 0], single_losses[:, 0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_weights_on_another_device_are_refused():
    with pytest.raises(ValueError, match=r"weights\.recurrent is on device cpu but must be on"):
        rate_net(device="cuda").check_weights(rate_weights())
