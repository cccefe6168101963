"""The training and evaluation loss of a tabular model: next-token NLL under the codec's masks.

Logits at each position are restricted to the tokens allowed there, exactly
as the sampler restricts them, so the loss is the negative log-likelihood of a
row under the distribution the model actually samples from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import nn

from fuseprune.tabular.interface import Codec


def masked_token_nll(logits: torch.Tensor, ids: torch.Tensor, codec: Codec) -> torch.Tensor:
    """Per-token NLL (rows, sequence_length - 1) of full rows ``ids``.

    Args:
        logits: (rows, sequence_length - 1, vocab) from the model run on ``ids[:, :-1]``.
        ids: (rows, sequence_length) token ids.
        codec: The codec whose masks restrict each position.
    """
    bias = codec.logit_bias(ids).to(logits.device)
    logp = torch.log_softmax(logits.float() + bias, dim=-1)
    return -logp.gather(-1, ids[:, 1:, None]).squeeze(-1)


def row_nll(model: nn.Module, ids: torch.Tensor, codec: Codec) -> torch.Tensor:
    """NLL in nats of each row (sum over its tokens), shape (rows,)."""
    logits = model(input_ids=ids[:, :-1]).logits
    return masked_token_nll(logits, ids, codec).sum(dim=1)


def tabular_loss_fn(codec: Codec) -> Callable[[torch.Tensor, Mapping[str, torch.Tensor]], torch.Tensor]:
    """A ``loss_fn(logits, batch)`` for scoring: mean masked NLL per token.

    The batch holds full rows in ``input_ids``; the logits are those of the
    model run on whole rows, so the last position (after EOS) is dropped.
    """

    def loss_fn(logits: torch.Tensor, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return masked_token_nll(logits[:, :-1], batch["input_ids"], codec).mean()

    return loss_fn


@torch.no_grad()
def mean_row_nll(model: nn.Module, ids: torch.Tensor, codec: Codec, batch_size: int = 256) -> float:
    """Mean NLL per row in nats over rows ``ids``, computed in inference mode."""
    was_training = model.training
    model.eval()
    total = sum(float(row_nll(model, chunk, codec).sum()) for chunk in ids.split(batch_size))
    model.train(was_training)
    return total / max(len(ids), 1)
