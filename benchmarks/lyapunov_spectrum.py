"""Lyapunov spectra of an ensemble of rate RNNs at once, against a per-network loop.

    python benchmarks/lyapunov_spectrum.py [--networks 32] [--hidden-size 128]
        [--exponents 64] [--steps 1000] [--trajectories 1]

The ensemble (gains spread over 0.5 ... 1.5, alpha = 0.5, ReLU, Romo input streams) goes
through :func:`neurodyn.analysis.lyapunov.lyapunov_spectrum`: per step one batched
Jacobian product and one batched ``torch.linalg.qr`` over every network and trajectory
(also timed with ``qr="cholesky"``, CholeskyQR2, the route meant for GPUs).
The baseline is what a user writes without neurodyn: for each network, a Python loop
over steps that forms J_t = alpha I + (1 - alpha) W^T diag(f'(h)), multiplies, and calls
``torch.linalg.qr``. Both run in one process on the same inputs; the printed ratio is
network-steps per second of the ensemble over the loop, and the largest difference of
their exponents checks that they computed the same thing. With many exponents the QR
itself dominates both, so a last line shows the ensemble re-orthonormalising only every
``--every`` steps (Engelken et al.'s t_ONS), and how little that changes the exponents.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from _headline import headline
from neurodyn import rng
from neurodyn.analysis.lyapunov import StepDynamics, initial_basis, lyapunov_spectrum
from neurodyn.networks.rate import LeakyRateNetwork
from neurodyn.tasks.romo import Romo
from steering_throughput import synchronize


def plain_loop(recurrent, inputs_weights, x, basis, alpha) -> torch.Tensor:
    """One network, one trajectory x (T, N_in): Benettin's QR loop in plain PyTorch."""
    size = recurrent.shape[0]
    h = torch.zeros(size)
    eye = torch.eye(size)
    total = torch.zeros(basis.shape[1])
    for x_t in x:
        jacobian = alpha * eye + (1 - alpha) * recurrent.T * (h > 0).float()
        basis, triangle = torch.linalg.qr(jacobian @ basis)
        total += triangle.diagonal().abs().log()
        h = alpha * h + (1 - alpha) * (torch.relu(h) @ recurrent + x_t @ inputs_weights)
    return total / x.shape[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--networks", type=int, default=32)
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--exponents", type=int, default=64)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--trajectories", type=int, default=1)
    parser.add_argument("--every", type=int, default=4)
    parser.add_argument("--device", default="cpu", help="the ensemble's device (loop: CPU)")
    args = parser.parse_args()
    E, N, k, T, B = args.networks, args.hidden_size, args.exponents, args.steps, args.trajectories
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; {E} networks, N = {N}, "
        f"k = {k}, {T} steps, {B} trajectories each; ensemble on {args.device}"
    )
    gains = torch.linspace(0.5, 1.5, E).tolist()
    network = LeakyRateNetwork(1, N, 2, ensemble_size=E, gain=gains, alpha=0.5, device=args.device)
    seeds = list(range(E))
    weights = network.init(seeds)
    task = Romo()
    streams = task.sample_member_streams(
        B, math.ceil(T / task.steps), rng.member_keys(seeds, "evaluation", network.device), 0
    )
    x = streams[:, :, :T].contiguous()
    dynamics = StepDynamics.of_network(network, weights)
    state = torch.zeros(E, B, N, device=network.device)
    lyapunov_spectrum(dynamics, state, x[:, :, :10], exponents=k)  # warm the kernels up

    def timed_ensemble(every: int, qr: str = "householder") -> tuple[torch.Tensor, float]:
        synchronize(network.device)
        start = time.perf_counter()
        spectrum = lyapunov_spectrum(
            dynamics, state, x, exponents=k, reorthonormalise_every=every, qr=qr
        ).exponents
        synchronize(network.device)
        return spectrum.cpu(), time.perf_counter() - start

    together, ensemble_time = timed_ensemble(1)
    sparse, sparse_time = timed_ensemble(args.every)
    cholesky, cholesky_time = timed_ensemble(1, "cholesky")

    basis = initial_basis(N, k, seed=0)
    weights, x = [p.cpu() for p in weights.parameters()], x.cpu()
    start = time.perf_counter()
    apart = torch.stack(
        [
            torch.stack(
                [plain_loop(weights[0][e], weights[1][e], x[e, b], basis, 0.5) for b in range(B)]
            )
            for e in range(E)
        ]
    )
    loop_time = time.perf_counter() - start

    total = E * B * T
    difference = float((together - apart).abs().max())
    print(f"  one ensemble:           {total / ensemble_time:9.0f} network-steps/s")
    print(f"  plain per-network loop: {total / loop_time:9.0f} network-steps/s")
    print(f"  speed-up: {loop_time / ensemble_time:.1f} (exponents differ by {difference:.1e})")
    headline(
        f"Lyapunov spectra of {args.networks} networks as one ensemble",
        f"{loop_time / ensemble_time:.1f}x a per-network loop",
    )
    print(
        f"  one ensemble, QR every {args.every} steps: {total / sparse_time:9.0f} "
        f"network-steps/s, {loop_time / sparse_time:.1f} x the loop (exponents change by "
        f"{float((sparse - together).abs().max()):.1e})"
    )
    print(
        f"  one ensemble, CholeskyQR2:   {total / cholesky_time:9.0f} network-steps/s, "
        f"{ensemble_time / cholesky_time:.2f} x Householder QR (exponents differ by "
        f"{float((cholesky - together).abs().max()):.1e})"
    )
    headline(
        f"Lyapunov spectra on {args.device}: CholeskyQR2 against Householder QR",
        f"{ensemble_time / cholesky_time:.2f}x as fast",
    )


if __name__ == "__main__":
    main()
