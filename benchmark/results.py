"""The on-disk record of a run, and reading it back.

Layout of a run directory ``results/runs/<task>/<model>/<run-id>/``::

    config.json          what was asked (task, model, params, seed, limit, dataset fingerprint)
    items/<id>.json      one file per finished item: status, error, scores, timings (written atomically)
    predictions/<id>.*   the model's output per item (MIDI for transcription, audio otherwise)
    items.csv            the per-item table (written at the end)
    results.json         the summary (schema below; written at the end)

``results.json`` (``schema_version`` 1) holds: run_id, created, task (name, family, version,
yaml_sha256, dataset, dataset_params, split, params, metrics), dataset (name, fingerprint,
verified), model (name, version, package_version, params, weights_sha256, device), seed, limit,
metrics (name -> mean, ci_low, ci_high, n, higher_is_better), set_metrics, n_items, n_scored,
failures (item, error), timing (wall_s, model_s, audio_s, real_time_factor), peak_rss_mb,
environment (python, platform, packages), code_version.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Iterator

from .errors import BadInputError, MissingDataError
from .io_utils import read_json
from .paths import results_home

SCHEMA_VERSION = 1
#: fields that legitimately differ between two runs of the same thing
VOLATILE_FIELDS = ("created", "timing", "peak_rss_mb", "run_dir", "environment")


@dataclass(frozen=True)
class RunRecord:
    path: Path
    data: dict[str, Any]

    @property
    def task(self) -> str:
        return self.data["task"]["name"]

    @property
    def model(self) -> str:
        return self.data["model"]["name"]

    @property
    def run_id(self) -> str:
        return self.data["run_id"]

    def metric(self, name: str) -> dict[str, Any] | None:
        return self.data.get("metrics", {}).get(name)

    def item_scores(self) -> dict[str, dict[str, Any]]:
        """item id -> the per-item record (status, scores, ...)."""
        out = {}
        for p in sorted((self.path / "items").glob("*.json")):
            rec = json.loads(p.read_text())
            out[rec["id"]] = rec
        return out


def runs_root(results_dir: str | os.PathLike | None = None) -> Path:
    return results_home(results_dir) / "runs"


def load_run(path: str | os.PathLike) -> RunRecord:
    path = Path(path)
    f = path / "results.json" if path.is_dir() else path
    if not f.is_file():
        raise MissingDataError(f"{f}: no results.json (is this a finished run directory?)")
    data = read_json(f, what="results file")
    if not isinstance(data, dict):
        raise BadInputError(f"{f}: results file is not a JSON object")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise BadInputError(f"{f}: results schema_version {data.get('schema_version')!r} is not {SCHEMA_VERSION}")
    return RunRecord(f.parent, data)


def iter_runs(results_dir: str | os.PathLike | None = None, *, task: str | None = None) -> Iterator[RunRecord]:
    root = runs_root(results_dir)
    if not root.is_dir():
        return
    pattern = f"{task}/*/*/results.json" if task else "*/*/*/results.json"
    for f in sorted(root.glob(pattern)):
        try:
            yield load_run(f)
        except (BadInputError, MissingDataError):
            continue


def metric_notes(data: dict[str, Any]) -> list[str]:
    """One line per set-level metric of a results.json that has something to say: what it compared
    against, its real-vs-real floor and its small-sample warning (for the run summary)."""
    lines = []
    for name, m in (data.get("metrics") or {}).items():
        parts = []
        if m.get("reference_set"):
            parts.append(f"against {m['reference_set']}")
        if m.get("floor") is not None:
            half = m.get("floor_clips_per_half")
            parts.append(f"real-vs-real floor {m['floor']:.4g}" + (f" (two halves of {half} clips)" if half else ""))
        if m.get("warning"):
            parts.append(f"warning: {m['warning']}")
        if parts:
            lines.append(f"{name}: " + "; ".join(parts))
    return lines


def stable_view(data: dict[str, Any]) -> dict[str, Any]:
    """results.json without the fields that differ between reruns (timings, dates, machine)."""
    return {k: v for k, v in data.items() if k not in VOLATILE_FIELDS}
