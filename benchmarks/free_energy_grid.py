"""Speed of the free-energy attractor simulations: one network vs the 380-network grid.

    python benchmarks/free_energy_grid.py [--epochs 5000] [--probe-epochs 200]

Prints, in one run: learning steps per second of one simulation-2 configuration alone
and of the 20 x 19 evidence x precision grid as one ensemble (network-steps per second),
then the wall time of the whole grid, training and evaluation, as ``neurodyn run
free-energy-regimes`` does it (target: <= 120 s on 2 cores; the authors' numpy code
needs about 7 minutes per configuration here, their JAX version about 0.9 s).
"""

from __future__ import annotations

import argparse
import time

import torch

from _headline import headline
from neurodyn.analysis.attractors import evaluate_network
from neurodyn.experiments.free_energy_regimes import PRECISIONS
from neurodyn.networks.attractor import FreeEnergyAttractorNetwork
from neurodyn.rules.free_energy import FreeEnergyRule
from neurodyn.tasks.digits import digit_patterns
from neurodyn.training.attractor import learn_patterns
from steering_throughput import synchronize


def grid_members() -> tuple[list[float], list[float]]:
    pairs = [(float(e), p) for e in range(1, 21) for p in PRECISIONS]
    return [e for e, _ in pairs], [p for _, p in pairs]


def steps_per_second(evidence, precision, epochs: int, train: torch.Tensor) -> float:
    network = FreeEnergyAttractorNetwork(
        64, ensemble_size=len(evidence), precision=precision, device=train.device
    )
    start = time.perf_counter()
    learn_patterns(
        network,
        FreeEnergyRule(0.001),
        network.init(),
        train,
        evidence=torch.tensor(evidence),
        epochs=epochs,
        steps_per_epoch=10,
        seeds=[0] * len(evidence),
    )
    synchronize(network.device)
    return epochs * 10 * len(evidence) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5000, help="epochs of the full grid run")
    parser.add_argument("--probe-epochs", type=int, default=200, help="epochs of the rate probes")
    parser.add_argument("--device", default="cpu", help="torch device of the networks")
    args = parser.parse_args()
    train, test = (patterns.to(args.device) for patterns in digit_patterns()[:2])
    evidence, precision = grid_members()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    one = steps_per_second([11.0], [0.1668], args.probe_epochs, train)
    many = steps_per_second(evidence, precision, args.probe_epochs, train)
    print(f"one configuration:        {one:10.0f} steps/s")
    print(f"380-network ensemble:     {many:10.0f} network-steps/s ({many / one:.1f}x)")
    headline("free-energy grid: 380 networks as one ensemble", f"{many / one:.1f}x one network")

    network = FreeEnergyAttractorNetwork(
        64, ensemble_size=len(evidence), precision=precision, device=args.device
    )
    began = time.perf_counter()
    couplings, state = learn_patterns(
        network,
        FreeEnergyRule(0.001),
        network.init(),
        train,
        evidence=torch.tensor(evidence),
        epochs=args.epochs,
        steps_per_epoch=10,
        seeds=[0] * len(evidence),
    )
    synchronize(network.device)
    trained = time.perf_counter()
    evaluate_network(
        network,
        couplings,
        state,
        train,
        test,
        evidence=torch.tensor(evidence),
        seeds=[0] * len(evidence),
    )
    synchronize(network.device)
    done = time.perf_counter()
    print(
        f"whole grid ({args.epochs} epochs x 10 steps): training {trained - began:.1f} s, "
        f"evaluation {done - trained:.1f} s, total {done - began:.1f} s (target <= 120 s)"
    )
    headline(
        f"free-energy grid, whole run ({args.epochs} epochs x 10 steps)",
        f"{done - began:.1f} s ({trained - began:.1f} s training)",
        "<= 120 s",
    )


if __name__ == "__main__":
    main()
