"""Streaming per-layer reductions filled by the trace hooks, batch by batch.

Every recorder keeps sums (float64) over tokens, rows or parameters, never the
hidden states themselves, so memory does not grow with the number of batches,
and sums over batches equal the sums over one big batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from fuseprune.errors import ModelError


class HiddenRecorder:
    """Token statistics of each layer's input ``h_in`` and output ``h_out`` (valid tokens only).

    Attributes:
        tokens: Number of valid tokens seen by each layer ``[L]``.
        update_norm_sum: Sum over tokens of ``||h_out - h_in||_2`` ``[L]``.
        influence_sum: Sum over tokens of ``1 - cos(h_in, h_out)`` ``[L]``.
        out_mean: Per-feature mean of ``h_out`` ``[L, D]`` (Chan's parallel update).
        out_m2: Per-feature sum of squared deviations of ``h_out`` ``[L, D]``.
    """

    def __init__(self, num_layers: int) -> None:
        self.tokens = np.zeros(num_layers)
        self.update_norm_sum = np.zeros(num_layers)
        self.influence_sum = np.zeros(num_layers)
        self.out_mean: np.ndarray | None = None
        self.out_m2: np.ndarray | None = None

    def update(self, layer: int, h_in: torch.Tensor, h_out: torch.Tensor, valid: torch.Tensor) -> None:
        """Add the valid tokens of one batch for ``layer``."""
        x = h_in.detach()[valid].double()
        y = h_out.detach()[valid].double()
        if len(y) == 0:
            return
        self.update_norm_sum[layer] += float((y - x).norm(dim=-1).sum())
        self.influence_sum[layer] += float((1.0 - F.cosine_similarity(x, y, dim=-1, eps=1e-12)).sum())
        if self.out_mean is None or self.out_m2 is None:
            self.out_mean = np.zeros((len(self.tokens), y.shape[-1]))
            self.out_m2 = np.zeros((len(self.tokens), y.shape[-1]))
        n_a, n_b = self.tokens[layer], float(len(y))
        mean_b = y.mean(dim=0).cpu().numpy()
        m2_b = ((y - y.mean(dim=0)) ** 2).sum(dim=0).cpu().numpy()
        delta = mean_b - self.out_mean[layer]
        total = n_a + n_b
        self.out_mean[layer] += delta * n_b / total
        self.out_m2[layer] += m2_b + delta**2 * n_a * n_b / total
        self.tokens[layer] = total


class AttentionRecorder:
    """Entropy and maximum of each attention distribution (per head, per valid query token).

    Attributes:
        entropy_sum: Sum of ``-sum_k p log p`` (nats) over heads and valid queries ``[L]``.
        max_sum: Sum of ``max_k p`` over heads and valid queries ``[L]``.
        count: Number of (head, valid query) distributions ``[L]``.
    """

    def __init__(self, num_layers: int) -> None:
        self.entropy_sum = np.zeros(num_layers)
        self.max_sum = np.zeros(num_layers)
        self.count = np.zeros(num_layers)

    def update(self, layer: int, probs: torch.Tensor | None, valid: torch.Tensor) -> None:
        """Add one batch of attention probabilities ``[B, H, T, T]`` for ``layer``."""
        if not isinstance(probs, torch.Tensor) or probs.ndim != 4 or probs.shape[2] != valid.shape[1]:
            got = tuple(probs.shape) if isinstance(probs, torch.Tensor) else type(probs).__name__
            raise ModelError(f"layer {layer} attention must return probabilities [B, H, T, T]; got {got}.")
        p = probs.detach().permute(0, 2, 1, 3)[valid].double()  # [N, H, T_keys]
        self.entropy_sum[layer] += float(-torch.special.xlogy(p, p).sum())
        self.max_sum[layer] += float(p.max(dim=-1).values.sum())
        self.count[layer] += p.shape[0] * p.shape[1]


class GateRecorder:
    """Gradients of the loss with respect to an implicit gate on each layer's residual update.

    Writing a layer as ``h_out = h_in + a * (h_out - h_in)`` with ``a = 1``, the
    gradient of row ``r``'s summed token loss with respect to ``a`` is
    ``s_r = sum_t g_t . (h_out - h_in)_t`` with ``g_t = dLoss/dh_out``. A row's loss
    depends only on that row, so ``s_r`` does not depend on batching.

    Attributes:
        gate_sum: ``sum_r s_r`` ``[L]``.
        gate_sq_sum: ``sum_r s_r ** 2`` ``[L]``.
    """

    def __init__(self, num_layers: int) -> None:
        self.gate_sum = np.zeros(num_layers)
        self.gate_sq_sum = np.zeros(num_layers)

    def update(self, layer: int, grad: torch.Tensor | None, delta: torch.Tensor, valid: torch.Tensor) -> None:
        """Add one batch: ``grad`` and ``delta`` are ``[B, T, D]``; ``grad`` None means zero."""
        if grad is None:
            return
        per_token = (grad.detach().double() * delta.double()).sum(dim=-1)
        per_row = torch.where(valid, per_token, torch.zeros_like(per_token)).sum(dim=1)
        self.gate_sum[layer] += float(per_row.sum())
        self.gate_sq_sum[layer] += float((per_row**2).sum())


class GradientRecorder:
    """Loss gradients of every layer parameter, summed over batches (float64).

    The trace backpropagates *summed* token losses, so after dividing by the total
    number of target tokens the sum equals the gradient of the mean loss over the
    whole calibration set, however it was batched.
    """

    def __init__(self, num_layers: int) -> None:
        self.sums: list[list[torch.Tensor] | None] = [None] * num_layers

    def update(self, layer: int, params: Sequence[torch.Tensor], grads: Sequence[torch.Tensor | None]) -> None:
        """Add the gradients of one batch for ``layer`` (``None`` gradients count as zero)."""
        current = self.sums[layer]
        if current is None:
            current = [torch.zeros(p.shape, dtype=torch.float64, device=p.device) for p in params]
            self.sums[layer] = current
        for total, grad in zip(current, grads, strict=True):
            if grad is not None:
                total += grad.detach().double()

    def squared_sums(self, scale: float) -> tuple[np.ndarray, np.ndarray]:
        """Return per layer the sum of squared scaled gradients and the parameter count."""
        squares, counts = [], []
        for tensors in self.sums:
            tensors = tensors or []
            squares.append(sum(float(((t * scale) ** 2).sum()) for t in tensors))
            counts.append(sum(t.numel() for t in tensors))
        return np.asarray(squares), np.asarray(counts, dtype=np.float64)
