"""DistillConfig: the weights of the distillation loss and the settings of the distillation loop.

Defined in :mod:`fuseprune.config` (which imports no torch, so the command line builds its options from it).
"""

from __future__ import annotations

from fuseprune.config import DistillConfig as DistillConfig
