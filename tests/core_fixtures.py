"""A tiny on-disk dataset and misbehaving models for harness tests (no real model needed)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import soundfile as sf

from musebench.datasets import DATASETS
from musebench.datasets.base import Dataset, Manifest, items_from_manifest
from musebench.io_utils import sha256_file
from musebench.midi import read_midi, write_midi
from musebench.models import MODELS
from musebench.models.base import TranscriptionModel
from musebench.types import Notes

SR = 16000


def toy_notes(k: int) -> Notes:
    """A deterministic little melody with a chord; varies with k."""
    rng = np.random.default_rng(k)
    onsets = np.round(np.sort(rng.uniform(0, 1.6, 6)), 3)
    durs = np.round(rng.uniform(0.1, 0.4, 6), 3)
    pitches = rng.integers(48, 72, 6)
    vels = rng.integers(40, 110, 6)
    return Notes.from_arrays(intervals=np.stack([onsets, onsets + durs], 1), pitches=pitches, velocities=vels)


def build_toy(root: Path, *, n: int = 4) -> Manifest:
    """Write n items (sine-ish WAV + MIDI) under root and a manifest.json describing them."""
    root.mkdir(parents=True, exist_ok=True)
    items = {}
    for k in range(n):
        item_id = f"toy-{k:02d}"
        notes = toy_notes(k)
        t = np.arange(int(SR * 2.0)) / SR
        audio = np.zeros_like(t)
        for (on, off), p in zip(notes.intervals, notes.pitches):
            m = (t >= on) & (t < off)
            audio[m] += 0.2 * np.sin(2 * np.pi * 440 * 2 ** ((p - 69) / 12) * t[m])
        sf.write(root / f"{item_id}.wav", audio, SR, subtype="PCM_16")
        write_midi(notes, root / f"{item_id}.mid")
        files = {role: {"path": f"{item_id}{suf}", "sha256": sha256_file(root / f"{item_id}{suf}"),
                        "size": (root / f"{item_id}{suf}").stat().st_size}
                 for role, suf in (("audio", ".wav"), ("midi", ".mid"))}
        items[item_id] = {"split": "test", "files": files, "metadata": {"duration": 2.0}}
    manifest = Manifest(dataset="toy", version="1", items=items)
    manifest.save(root / "manifest.json")
    return manifest


class ToyDataset(Dataset):
    name = "toy"
    citation = "MuseBench test fixture"
    license = "CC0-1.0"
    splits = ("test",)

    def manifest(self):
        return Manifest.load(self.root / "manifest.json")

    def items(self, split):
        return items_from_manifest(self, split)

    def load_notes(self, item):
        return read_midi(item.files["midi"]).validate(name=str(item.files["midi"]))


class RaisingModel(TranscriptionModel):
    """Raises on items whose id ends with the given suffix; returns no notes otherwise."""

    name = "raising"
    sample_rate = SR

    def transcribe(self, audio, *, sample_rate, context):
        if context.item.id.endswith(self.params.get("fail_suffix", "01")):
            raise RuntimeError("boom")
        return Notes.empty()


class GarbageModel(TranscriptionModel):
    name = "garbage"
    sample_rate = SR

    def transcribe(self, audio, *, sample_rate, context):
        if self.params.get("kind") == "nan":
            return Notes.from_arrays(intervals=[[0.1, np.nan]], pitches=[60])
        return [(0.1, 0.2, 60)]


class SlowModel(TranscriptionModel):
    name = "slow"
    sample_rate = SR

    def transcribe(self, audio, *, sample_rate, context):
        time.sleep(float(self.params.get("seconds", 5)))
        return Notes.empty()


def install() -> None:
    DATASETS.register("toy", ToyDataset, replace=True)
    for cls in (RaisingModel, GarbageModel, SlowModel):
        MODELS["transcription"].register(cls.name, cls, replace=True)


def toy_task(tmp_path: Path, monkeypatch, *, task_yaml: str, n: int = 4) -> tuple[Path, Path]:
    """The toy dataset with ``n`` items built, registered and verified under ``tmp_path/data/toy``,
    and ``task_yaml`` written to ``tmp_path/toy-task.yaml``; returns ``(data root, task path)``."""
    from musebench.datasets import get_dataset

    install()
    root = tmp_path / "data" / "toy"
    build_toy(root, n=n)
    monkeypatch.setenv("MUSEBENCH_TOY_ROOT", str(root))
    assert get_dataset("toy").verify().ok
    task = tmp_path / "toy-task.yaml"
    task.write_text(task_yaml)
    return root, task


def toy_run(tmp_path: Path, monkeypatch, *, name: str, faults: bool = True) -> dict:
    """The toy dataset plus a task ``name`` scoring onset and frame F1 (and, with ``faults``, the
    fault-injecting test models registered): ``{"task", "results", "root", "tmp"}`` for run tests."""
    yaml_text = (f"name: {name}\nfamily: transcription\nversion: 1\ndataset: toy\nsplit: test\n"
                 "sample_rate: 16000\nmetrics: [onset_f1, frame_f1]\n")
    root, task = toy_task(tmp_path, monkeypatch, task_yaml=yaml_text)
    if faults:
        import fault_models

        fault_models.install()
    return {"task": str(task), "results": tmp_path / "results", "root": root, "tmp": tmp_path}
