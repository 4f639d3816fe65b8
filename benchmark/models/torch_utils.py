"""Small torch helpers shared by MuseBench's own models and their training code.

torch is imported only when a helper runs, so importing this module stays cheap.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (weights and biases) of ``module``."""
    return int(sum(p.numel() for p in module.parameters()))


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n)``, then restore torch's previous setting.

    The networks here are small: on a CPU one thread is often the fastest, and a busy shared
    machine is not slowed down for everyone else.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(previous)
