"""Shared pytest fixtures (kept minimal).

- ``isolated_env`` (autouse): every test runs with ``MUSEBENCH_DATA``, ``MUSEBENCH_CONFIG`` and
  ``MUSEBENCH_RESULTS`` pointing into its own ``tmp_path`` and no ``MUSEBENCH_SYNTH_ROOT``, so
  no test reads or writes the user's data, config or ``./results``; ``MUSEBENCH_AUTO_PREPARE=0``
  so that a missing synth dataset is an error rather than a silent 10-s build.
- ``synth_root`` (session): the full ``synth`` dataset prepared once per test session into
  ``$MUSEBENCH_DATA/synth`` of a temporary directory (about 6-10 s); returns that root ``Path``
  (treat it as read-only; copy it to modify files). Build a dataset on it with
  ``SynthDataset(root=synth_root, variant=...)``.
- ``synth_env``: sets ``MUSEBENCH_SYNTH_ROOT`` to ``synth_root`` for one test, so code that calls
  ``get_dataset("synth")`` finds the prepared data.
- ``sine``: ``sine(freq=440.0, seconds=1.0, sample_rate=16000, amplitude=0.5)`` -> float32 mono.
- ``ray_cluster`` (session): one local 2-CPU Ray cluster for every test that needs one, started
  on first use and shut down once at the end of the session. Ray is not safe to start and stop
  several times in one process (ray-project/ray#31145: segfaults from threads that outlive a
  ``ray.shutdown()``), so no test calls ``ray.init`` itself. Its workers import from ``tests/``
  and ``tests/models/`` (``core_fixtures``, ``fault_models``, model-defining test modules).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MUSEBENCH_DATA", str(tmp_path / "musebench-data"))
    monkeypatch.setenv("MUSEBENCH_CONFIG", str(tmp_path / "musebench-config" / "datasets.json"))
    monkeypatch.setenv("MUSEBENCH_RESULTS", str(tmp_path / "musebench-results"))
    monkeypatch.delenv("MUSEBENCH_SYNTH_ROOT", raising=False)
    monkeypatch.setenv("MUSEBENCH_AUTO_PREPARE", "0")  # tests that want it set it to 1
    return tmp_path


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from musebench.datasets.synth import SynthDataset

    home = tmp_path_factory.mktemp("synth-data")
    with pytest.MonkeyPatch.context() as mp:  # a fresh prepare into $MUSEBENCH_DATA/synth
        mp.setenv("MUSEBENCH_DATA", str(home))
        mp.setenv("MUSEBENCH_CONFIG", str(home / "datasets.json"))
        mp.delenv("MUSEBENCH_SYNTH_ROOT", raising=False)
        dataset = SynthDataset()
        assert dataset.root == home / "synth"
        dataset.prepare(progress=False)
    return home / "synth"


@pytest.fixture
def synth_env(synth_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MUSEBENCH_SYNTH_ROOT", str(synth_root))
    return synth_root


@pytest.fixture
def sine():
    def make(freq: float = 440.0, seconds: float = 1.0, sample_rate: int = 16000,
             amplitude: float = 0.5) -> np.ndarray:
        t = np.arange(int(round(seconds * sample_rate))) / sample_rate
        return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)

    return make


@pytest.fixture(scope="session")
def ray_cluster():
    ray = pytest.importorskip("ray")
    here = Path(__file__).resolve().parent
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([str(here), str(here / "models")])}})
    yield ray
    ray.shutdown()
