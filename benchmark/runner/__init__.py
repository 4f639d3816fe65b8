"""Runners move items through a task family; they know nothing of metrics or models.

``run_task`` is the entry point; ``backend="local"`` (default) runs in-process, ``"ray"``
shards items over a Ray cluster (see :mod:`musebench.runner.ray_backend`).
"""
from .core import RunOptions, RunOutcome, run_task

__all__ = ["RunOptions", "RunOutcome", "run_task"]
