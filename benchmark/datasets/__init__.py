"""Dataset registry. Modules are imported lazily, on first lookup."""
from __future__ import annotations

from ..registry import Registry
from .base import Dataset, Manifest, VerifyReport, register_root

DATASETS: Registry[type[Dataset]] = Registry("dataset", entry_point_group="musebench.datasets")
DATASETS.register("synth", "benchmark.datasets.synth:SynthDataset")


def get_dataset(name: str, **kwargs) -> Dataset:
    """Instantiate the dataset registered as ``name``."""
    return DATASETS.get(name)(**kwargs)


__all__ = ["DATASETS", "Dataset", "Manifest", "VerifyReport", "get_dataset", "register_root"]
