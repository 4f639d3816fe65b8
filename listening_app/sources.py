"""Where a study's stimuli come from: runs in ``results/`` or a folder of audio with a manifest.

Manifest format (``manifest.csv`` or ``manifest.json`` in the folder, or given explicitly):
one row per stimulus with columns ``file``, ``condition``, ``item`` and optionally ``source``
(the model input, needed for the similarity question), ``reference`` (a reference clip: enables
the hidden reference and the low anchor) and ``kind`` (``system``, ``reference`` or ``anchor``).
Paths are relative to the manifest's folder. JSON: a list of such objects, or ``{"stimuli": [...]}``.

Runs: ``results/runs/<task>/<model>/<run-id>/`` with ``results.json``, ``items/<id>.json``
(``"status": "ok"``) and ``predictions/<id>.wav|.flac`` (audio) or ``.mid`` (MIDI, rendered with
:func:`musebench.render.render_notes`). The source (model input) and reference of each item come
from the task's dataset; for transcription the reference is the rendered ground-truth notes.
"""
from __future__ import annotations

import csv
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from musebench.errors import BadInputError, MissingDataError
from musebench.io_utils import read_json

CONDITION_KINDS = ("system", "reference", "anchor")
AudioRef = Path | Callable[[int], np.ndarray]  # a file, or a function of the sample rate
MANIFEST_COLUMNS = {"file", "condition", "item", "source", "reference", "kind"}


@dataclass(frozen=True)
class Entry:
    """One candidate stimulus: the clip of ``condition`` for ``item``."""

    item: str
    condition: str
    path: AudioRef
    kind: str = "system"
    source: AudioRef | None = None
    reference: AudioRef | None = None
    run_dir: Path | None = None


# --------------------------------------------------------------------------- manifests
def entries_from_manifest(folder: str | Path, manifest: str | Path | None = None) -> list[Entry]:
    """Read a folder of audio described by a CSV or JSON manifest (see the module docstring)."""
    folder = Path(folder)
    if manifest is None:
        found = [folder / n for n in ("manifest.csv", "manifest.json") if (folder / n).is_file()]
        if not found:
            raise MissingDataError(f"{folder}: no manifest.csv or manifest.json (pass --manifest)")
        manifest = found[0]
    manifest = Path(manifest)
    if not manifest.is_file():
        raise MissingDataError(f"{manifest}: manifest not found")
    if manifest.suffix.lower() == ".json":
        raw = read_json(manifest, what="manifest")
        rows = raw.get("stimuli") if isinstance(raw, dict) else raw
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise BadInputError(f"{manifest}: expected a list of objects or {{\"stimuli\": [...]}}")
    else:
        with manifest.open(newline="") as f:
            rows = list(csv.DictReader(f))
    if not rows:
        raise BadInputError(f"{manifest}: the manifest lists no stimuli")
    base = manifest.parent
    entries = []
    for n, row in enumerate(rows, start=1):
        row = {str(k).strip(): ("" if v is None else str(v).strip()) for k, v in row.items()}
        unknown = sorted(set(row) - MANIFEST_COLUMNS)
        if unknown:
            raise BadInputError(f"{manifest}: row {n}: unknown column(s) {', '.join(unknown)} "
                                f"(known: {', '.join(sorted(MANIFEST_COLUMNS))})")
        for col in ("file", "condition", "item"):
            if not row.get(col):
                raise BadInputError(f"{manifest}: row {n}: missing {col!r}")
        kind = row.get("kind") or "system"
        if kind not in CONDITION_KINDS:
            raise BadInputError(f"{manifest}: row {n}: kind must be one of {', '.join(CONDITION_KINDS)}, not {kind!r}")

        def path_of(col: str, row: dict = row, n: int = n) -> Path | None:
            if not row.get(col):
                return None
            p = Path(row[col])
            p = p if p.is_absolute() else base / p
            if not p.is_file():
                raise MissingDataError(f"{manifest}: row {n}: {col} file {p} not found")
            return p

        clip = path_of("file")
        assert clip is not None  # a required column (checked above)
        entries.append(Entry(item=row["item"], condition=row["condition"], path=clip, kind=kind,
                             source=path_of("source"), reference=path_of("reference")))
    return entries


# --------------------------------------------------------------------------- runs
ItemResolver = Callable[[Mapping[str, Any]], Mapping[str, tuple]]


def entries_from_runs(*, results_dir: str | Path, task: str, models: Sequence[str] | None = None,
                      run_ids: Mapping[str, str] | None = None,
                      resolve_items: ItemResolver | None = None) -> list[Entry]:
    """Stimuli from the runs of ``task`` in ``<results_dir>/runs/<task>/<model>/<run-id>/``.

    Parameters
    ----------
    results_dir : path
        The results folder (holding ``runs/``).
    task : str
        Task name (a folder under ``runs/``).
    models : sequence of str or None
        Model names to include (folder names or ``results.json`` model names); None: all.
    run_ids : mapping or None
        model -> run id; by default each model's newest run (``results.json`` "created").
    resolve_items : callable or None
        ``f(task_json) -> {item_id: (source, reference)}``; by default the task's dataset is
        opened with :func:`musebench.datasets.get_dataset`. Each value may be a path, a function
        of the sample rate returning audio, or None.
    """
    root = Path(results_dir) / "runs" / task
    if not root.is_dir():
        raise MissingDataError(f"{root}: no runs for task {task!r}")
    model_dirs = sorted(p for p in root.iterdir() if p.is_dir())
    wanted = set(models or [])
    entries: list[Entry] = []
    found_models: set[str] = set()
    task_json: dict[str, Any] | None = None
    for model_dir in model_dirs:
        run_dir = _pick_run(model_dir, (run_ids or {}).get(model_dir.name))
        if run_dir is None:
            continue
        results = json.loads((run_dir / "results.json").read_text())
        model_name = str((results.get("model") or {}).get("name") or model_dir.name)
        if wanted and model_name not in wanted and model_dir.name not in wanted:
            continue
        found_models.update({model_name, model_dir.name})
        task_json = task_json or dict(results.get("task") or {"name": task})
        for item_file in sorted((run_dir / "items").glob("*.json")):
            rec = json.loads(item_file.read_text())
            if rec.get("status") != "ok":
                continue
            item_id = str(rec.get("id") or item_file.stem)
            pred = next((run_dir / "predictions" / f"{item_id}{ext}" for ext in (".wav", ".flac", ".mid", ".midi")
                         if (run_dir / "predictions" / f"{item_id}{ext}").is_file()), None)
            if pred is not None:
                entries.append(Entry(item=item_id, condition=model_name, path=pred, run_dir=run_dir))
    missing = sorted(wanted - found_models)
    if missing:
        raise MissingDataError(f"{root}: no run with results.json for model(s) {', '.join(missing)}")
    if not entries:
        raise MissingDataError(f"{root}: no successful item with a prediction file in any run")
    resolver = resolve_items or _dataset_items
    try:
        refs = resolver(task_json or {"name": task})
    except Exception as exc:  # the dataset may not be prepared on this machine
        warnings.warn(f"task {task!r}: source/reference audio unavailable ({str(exc).splitlines()[0]})",
                      stacklevel=2)
        refs = {}
    return [Entry(item=e.item, condition=e.condition, path=e.path, run_dir=e.run_dir,
                  source=(refs.get(e.item) or (None, None))[0], reference=(refs.get(e.item) or (None, None))[1])
            for e in entries]


def _pick_run(model_dir: Path, run_id: str | None) -> Path | None:
    if run_id:
        run = model_dir / run_id
        if not (run / "results.json").is_file():
            raise MissingDataError(f"{run}: run not found (no results.json)")
        return run
    runs = []
    for run in model_dir.iterdir():
        if (run / "results.json").is_file():
            try:
                created = str(json.loads((run / "results.json").read_text()).get("created", ""))
            except json.JSONDecodeError:
                continue
            runs.append((created, run.name, run))
    return max(runs)[2] if runs else None


def _dataset_items(task_json: Mapping[str, Any]) -> dict[str, tuple]:
    from musebench.datasets import get_dataset
    from musebench.tasks import get_task

    task = get_task(str(task_json["name"]))
    ds = get_dataset(task.dataset, **(task.dataset_params or {}))
    out: dict[str, tuple] = {}
    for item in ds.items(task.split):
        ref: AudioRef | None = item.files.get("reference_audio")
        if ref is None and task.family == "transcription":
            ref = _notes_renderer(ds, item)
        out[item.id] = (item.audio_path, ref)
    return out


def _notes_renderer(ds, item) -> Callable[[int], np.ndarray]:
    def render(sample_rate: int) -> np.ndarray:
        from musebench.render import render_notes

        return render_notes(ds.load_notes(item), sample_rate=sample_rate)
    return render


def load_clip(ref: AudioRef, *, sample_rate: int, max_seconds: float | None) -> np.ndarray:
    """Mono float32 audio at ``sample_rate`` from a file (audio or MIDI) or a render function."""
    if callable(ref):
        audio = np.asarray(ref(sample_rate), dtype=np.float32)
        audio = audio.mean(axis=1) if audio.ndim == 2 else audio
    elif Path(ref).suffix.lower() in (".mid", ".midi"):
        from musebench.midi import read_midi
        from musebench.render import render_notes

        audio = render_notes(read_midi(ref), sample_rate=sample_rate)
    else:
        from musebench.audio import load_audio

        audio, _ = load_audio(ref, sample_rate=sample_rate, mono=True)
    if max_seconds is not None:
        audio = audio[: int(round(max_seconds * sample_rate))]
    if audio.size == 0:
        raise BadInputError(f"{ref}: clip is empty")
    return np.ascontiguousarray(audio, dtype=np.float32)
