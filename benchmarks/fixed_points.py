"""Fixed points of an ensemble of 32 rate RNNs at once against one network at a time.

    python benchmarks/fixed_points.py [--iterations 500] [--rounds 4] [--training 300]
                                      [--device cpu|cuda]

32 leaky ReLU rate networks (N = 64, gain 1.5, alpha = 0.5, float32) trained on the 3-bit
flip-flop (BPTT, Adam 3e-3, batch 32, ``--training`` iterations), K = 128 candidates each
sampled from 16 of the member's trials plus noise of scale 0.1, x* = 0 (no pulse). The
ensemble runs :func:`find_fixed_points` once on all (E, K, N) candidates; the baseline
calls it for one member at a time (E = 1), the same optimisation, for the same
``--iterations`` Adam steps (``stop_q = 0``: no candidate stops early), so that both sides
do the same arithmetic. The two sides alternate in ``--rounds`` rounds (the ensemble, then
1 / rounds of the members one by one), so that both see the machine in the same states.
Prints the ratio of member-iterations per second, ensemble over loop (target >= 10), with
the range of the rounds' own ratios, and checks that both found the same thing: the final
q of every candidate (500 iterations leave most far above the 1e-8 a point needs to be
kept, so the kept points are few). Last, the time of the ensemble's two batched products
of a step alone (f(h) W' and r W'^T, ``--iterations`` times): the speed-up the ensemble
would reach were all its other passes free, a ceiling set by the machine's matmul speed.
"""

from __future__ import annotations

import argparse
import time

import torch

from _headline import headline
from neurodyn import rng, tasks
from neurodyn.analysis.lyapunov import StepDynamics
from neurodyn.analysis.slow_points import find_fixed_points, sample_initial_states
from neurodyn.networks.rate import LeakyRateNetwork, RateWeights
from neurodyn.rules import BPTT
from neurodyn.training.rate import train_rate

MEMBERS, HIDDEN, INPUTS, CANDIDATES = 32, 64, 3, 128  # INPUTS: the flip-flop's channels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=500, help="Adam steps per search")
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the two sides")
    parser.add_argument("--training", type=int, default=300, help="BPTT iterations first")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    task = tasks.get("flip-flop")
    network = LeakyRateNetwork(
        INPUTS, HIDDEN, INPUTS, ensemble_size=MEMBERS, gain=1.5, alpha=task.alpha, device=device
    )
    seeds = list(range(MEMBERS))
    weights, _ = train_rate(
        network,
        network.init(seeds),
        task,
        rule=BPTT(),
        iterations=args.training,
        learning_rate=3e-3,
        seeds=seeds,
        batch_size=32,
        progress=False,
    )
    trials = task.sample_members(16, rng.member_keys(seeds, "evaluation", device), 0)
    with torch.no_grad():
        outputs, hidden = network.run(weights, trials.inputs.to(device))
    accuracy = task.accuracy(outputs, trials)["all"]
    start = sample_initial_states(hidden, CANDIDATES, noise_scale=0.1, seed=seeds)
    drive = torch.zeros(MEMBERS, INPUTS, device=device)
    single = LeakyRateNetwork(INPUTS, HIDDEN, INPUTS, alpha=task.alpha, device=device)
    members = [
        StepDynamics.of_network(single, RateWeights(*(p[e : e + 1] for p in weights.parameters())))
        for e in range(MEMBERS)
    ]
    options = {"max_iterations": args.iterations, "stop_q": 0.0}

    def synchronise():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def ensemble():
        found = find_fixed_points(
            StepDynamics.of_network(network, weights), start, drive, **options
        )
        synchronise()
        return found

    def loop(indices):
        finals = [
            find_fixed_points(members[e], start[e : e + 1], drive[e], **options).candidate_q[0]
            for e in indices
        ]
        synchronise()
        return finals

    threads = torch.get_num_threads()
    print(
        f"torch {torch.__version__} on {device} ({threads} threads); {MEMBERS} networks x "
        f"{CANDIDATES} candidates x {args.iterations} iterations x {args.rounds} rounds"
    )
    print(f"  flip-flop accuracy after training: {float(accuracy.mean()):.3f} (mean of members)")
    ensemble()  # warm-up
    together, apart, finals = [], [], {}
    for part in range(args.rounds):
        begin = time.perf_counter()
        found = ensemble()
        together.append(time.perf_counter() - begin)
        indices = range(part, MEMBERS, args.rounds)
        begin = time.perf_counter()
        finals.update(zip(indices, loop(indices), strict=True))
        apart.append(time.perf_counter() - begin)
    apart_q = torch.stack([finals[e] for e in range(MEMBERS)])
    gap = float((apart_q.log10() - found.candidate_q.log10()).abs().max())
    labels = [label for member in found.labels for label in member]
    kinds = {kind: labels.count(kind) for kind in ("stable", "saddle", "unstable")}
    print(
        f"  final q of the {MEMBERS * CANDIDATES} candidates: median "
        f"{float(found.candidate_q.median()):.1e}; largest |log10 q| difference between the "
        f"loop and the ensemble {gap:.1e}; points kept (q < 1e-8): {len(labels)} {kinds}"
    )
    products = _products_time(network.recurrent_weights(weights), start, args.iterations)
    ratios = [a * args.rounds / t for a, t in zip(apart, together, strict=True)]
    print(f"  ensemble: {sum(together) / args.rounds:.2f} s per search of all members")
    print(f"  loop:     {sum(apart):.2f} s per search of all members, one at a time")
    print(
        f"  the ensemble's two batched products of each step alone: {products:.2f} s per "
        f"search; were all else free, the speed-up would be {sum(apart) / products:.1f}"
    )
    print(
        f"  speed-up (target >= 10): {sum(apart) * args.rounds / sum(together):.1f} "
        f"(rounds {min(ratios):.1f} ... {max(ratios):.1f})"
    )
    headline(
        f"fixed points of {MEMBERS} networks as one search",
        f"{sum(apart) * args.rounds / sum(together):.1f}x one network at a time",
        ">= 10x",
    )


def _products_time(recurrent: torch.Tensor, states: torch.Tensor, iterations: int) -> float:
    """Seconds of ``iterations`` times the two (E, K, N) x (E, N, N) products of a step."""
    recurrent = recurrent.detach()
    rates, residual = torch.empty_like(states), torch.empty_like(states)
    begin = time.perf_counter()
    for _ in range(iterations):
        torch.bmm(states, recurrent, out=rates)
        torch.bmm(rates, recurrent.mT, out=residual)
    if states.device.type == "cuda":
        torch.cuda.synchronize(states.device)
    return time.perf_counter() - begin


if __name__ == "__main__":
    main()
