"""Runners move items through a task family; they know nothing of metrics or models.

``run_task`` (:mod:`~musebench.runner.dispatch`) is the entry point; ``backend="local"``
(default) runs in a supervised worker process (:mod:`~musebench.runner.local`,
:mod:`~musebench.runner.worker`), ``"ray"`` shards items over a Ray cluster
(:mod:`~musebench.runner.ray_backend`). Both backends are built on the item loop of
:mod:`~musebench.runner.core`, the run plan of :mod:`~musebench.runner.plan` and the run
directory of :mod:`~musebench.runner.store`; :mod:`~musebench.runner.aggregate` writes
results.json. Dependencies go one way: dispatch -> backends -> core -> store -> plan.
"""
from .dispatch import RunOutcome, run_task
from .plan import RunOptions

__all__ = ["RunOptions", "RunOutcome", "run_task"]
