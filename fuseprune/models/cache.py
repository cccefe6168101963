"""The KV cache argument of transformers models, under the name the installed version uses.

transformers 5 renamed a forward pass's ``past_key_values`` argument and output
field to ``cache`` (the old name warns on every call until it is removed);
these helpers use whichever name the installed version declares, so the same
code runs without warnings on every transformers version fuseprune allows.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn


def cache_argument(model: nn.Module) -> str:
    """The keyword ``model.forward`` takes its KV cache by: ``cache`` or, on older versions, ``past_key_values``."""
    parameters = inspect.signature(model.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


def cache_kwargs(model: nn.Module, cache: Any) -> dict[str, Any]:
    """``{name: cache}`` for ``model.forward`` (empty when ``cache`` is None)."""
    return {} if cache is None else {cache_argument(model): cache}


def output_cache(output: Any) -> Any:
    """The KV cache a forward pass returned, read under either name without touching a deprecated attribute."""
    fields = output.keys() if hasattr(output, "keys") else ()
    for name in ("cache", "past_key_values"):
        if name in fields:
            return output[name]
    return None
