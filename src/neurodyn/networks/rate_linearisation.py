"""The linearisation of a leaky rate RNN's step (:mod:`neurodyn.networks.rate`).

For h_t = F(h_{t-1}) = alpha h_{t-1} + (1 - alpha) (f(h_{t-1}) W_eff + W_x x_t) in the
stored layout (weights presynaptic x postsynaptic), the Jacobian J = dh_t / dh_{t-1} =
alpha I + (1 - alpha) W_eff^T diag(f'(h)), as a matrix, as products J V with tangent
vectors (Lyapunov spectra, gradient flossing) without forming J, and as the residual
F(h) - h and the gradient (J - I)^T (F(h) - h) of a fixed-point search.
"""

from __future__ import annotations

import torch


class RateLinearisation:
    """Jacobian methods of :class:`~neurodyn.networks.rate.LeakyRateNetwork`, which
    provides ``alpha``, ``hidden_size``, ``rate``, ``rate_derivative``, ``rate_backward``
    and ``recurrent_weights``."""

    def jacobian(self, weights, h: torch.Tensor) -> torch.Tensor:
        """dh_t / dh_{t-1} at h = h_{t-1} (E, B, N): alpha I + (1 - alpha) diag(f'(h)) W_h.

        In the stored layout (h_t = ... + f(h) @ W) the matrix is returned as
        J[e, b, i, j] = d h_{t,i} / d h_{t-1,j}: (E, B, N, N).
        """
        N = self.hidden_size
        slope = self.rate_derivative(h)  # (E, B, N), indexed by the presynaptic j
        coupled = self.recurrent_weights(weights).transpose(1, 2).unsqueeze(1) * slope.unsqueeze(2)
        eye = torch.eye(N, dtype=h.dtype, device=h.device)
        return self.alpha * eye + (1 - self.alpha) * coupled

    def speed_gradient(self, weights, x: torch.Tensor):
        """The writer of a fixed-point search (Sussillo & Barak 2013) at the constant input
        x (E, K, N_in): ``write(h, residual, gradient)`` puts F(h) - h and the gradient of
        q(h) = |F(h) - h|^2 / 2, (J - I)^T (F(h) - h), into the two (E, K, N) tensors for
        states h (E, K, N), allocating no tensor.

        With W' = (1 - alpha) W_eff and c = (1 - alpha) W_x x, computed here once:
        F(h) - h = f(h) W' + c - (1 - alpha) h and (J - I)^T u = f'(h) * (u W'^T) -
        (1 - alpha) u in the stored layout: two batched products per member and four
        elementwise passes, f'(h) read from the rates f(h) of the first product.
        """
        leak = 1 - self.alpha
        recurrent = leak * self.recurrent_weights(weights).detach()
        drive = leak * self.input_drive(weights, x).detach()
        rates = torch.empty_like(drive)

        def write(h: torch.Tensor, residual: torch.Tensor, gradient: torch.Tensor) -> None:
            self.rate(h, out=rates)
            torch.baddbmm(drive, rates, recurrent, out=residual).add_(h, alpha=-leak)
            torch.bmm(residual, recurrent.mT, out=gradient)
            self.rate_backward(gradient, rates, out=gradient).add_(residual, alpha=-leak)

        return write

    def jacobian_product(self, weights, h: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
        """J(h) @ vectors for h = h_{t-1} (E, B, N) and vectors (E, B, N, k), without forming J.

        J v = alpha v + (1 - alpha) W_h^T (f'(h) * v) in the stored layout: one fused
        batched product per member over all its trajectories and vectors, and an autograd
        graph that keeps (E, B, N, k) per step instead of (E, B, N, N) (Lyapunov spectra
        and gradient flossing, spec sections 5.1 and 6). Works on the vectors as rows
        (E, B * k, N); the result is column-major, the layout ``torch.linalg.qr`` takes
        and returns, so a QR loop copies nothing.
        """
        E, B, N, k = vectors.shape
        rows = vectors.mT.reshape(E, B * k, N)  # a view when vectors are column-major
        scaled = (vectors.mT * self.rate_derivative(h).unsqueeze(-2)).reshape(E, B * k, N)
        pushed = torch.baddbmm(
            rows, scaled, self.recurrent_weights(weights), beta=self.alpha, alpha=1 - self.alpha
        )
        return pushed.view(E, B, k, N).mT
