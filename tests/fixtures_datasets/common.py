"""What every dataset fixture uses: :class:`Fixture`, synthetic audio, notes and the fixture manifest."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from musebench.paths import package_data
from musebench.types import Notes

SR = 16000


@dataclass
class Fixture:
    name: str
    root: Path
    manifest: Path
    notes: dict[str, Notes] = field(default_factory=dict)  # item id -> expected reference notes
    splits: dict[str, list[str]] = field(default_factory=dict)  # split -> item ids (default scheme)

    def dataset(self, **params: Any):
        from musebench.datasets import get_dataset

        return get_dataset(self.name, root=self.root, manifest=self.manifest, **params)


def tone(seconds: float = 2.0, *, sr: int = SR, freq: float = 220.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    mono = (0.2 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return mono if channels == 1 else np.repeat(mono[:, None], channels, axis=1)


def write_wav(path: Path, audio: np.ndarray, sr: int = SR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio, sr, subtype="PCM_16")
    return path


def write_flac(path: Path, audio: np.ndarray, sr: int = SR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio, sr, format="FLAC", subtype="PCM_16")
    return path


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def notes(rows: list[tuple[float, float, float]], *, velocity: float = 0.0, program: int = 0,
          drum: bool = False) -> Notes:
    """Notes from (onset, offset, pitch) rows."""
    arr = np.array(rows, dtype=np.float64).reshape(-1, 3)
    n = len(arr)
    return Notes(arr[:, :2], arr[:, 2], np.full(n, velocity), np.full(n, program, np.int64), np.full(n, drum))


def fixture_manifest(name: str, base: Path, ids: list[str], *, manifest_file: str | None = None,
                      update: dict[str, dict[str, Any]] | None = None, extra: dict[str, Any] | None = None) -> Path:
    real = json.loads(package_data("manifests", manifest_file or f"{name}.json").read_text())
    items = {i: real["items"][i] for i in ids}
    for item_id, change in (update or {}).items():
        items[item_id] = {**items[item_id], **change}
    out = {**real, "items": items, **(extra or {})}
    path = base / f"{name}-manifest.json"
    path.write_text(json.dumps(out, indent=1, sort_keys=True))
    return path
