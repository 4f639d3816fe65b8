"""Dataset registry. Modules are imported lazily, on first lookup."""
from __future__ import annotations

from ..registry import Registry
from .base import Dataset, Manifest, VerifyReport, register_root

DATASETS: Registry[type[Dataset]] = Registry("dataset", entry_point_group="musebench.datasets")
DATASETS.register("synth", "musebench.datasets.synth:SynthDataset")
DATASETS.register("maestro-v3", "musebench.datasets.maestro:Maestro")
DATASETS.register("slakh2100", "musebench.datasets.slakh:Slakh2100")
DATASETS.register("cerberus4", "musebench.datasets.slakh:Cerberus4")
DATASETS.register("guitarset", "musebench.datasets.guitarset:GuitarSet")
DATASETS.register("musicnet", "musebench.datasets.musicnet:MusicNet")
DATASETS.register("urmp", "musebench.datasets.urmp:URMP")
DATASETS.register("nsynth", "musebench.datasets.nsynth:NSynth")
DATASETS.register("synth-pairs", "musebench.datasets.synth_pairs:SynthPairs")


def _own_datasets() -> dict:
    """Datasets added with ``musebench datasets add`` (see :mod:`musebench.datasets.own`)."""
    from .own import registry_source

    return registry_source()


DATASETS.add_source(_own_datasets)


def get_dataset(name: str, **kwargs) -> Dataset:
    """Instantiate the dataset registered as ``name``."""
    return DATASETS.get(name)(**kwargs)


__all__ = ["DATASETS", "Dataset", "Manifest", "VerifyReport", "get_dataset", "register_root"]
