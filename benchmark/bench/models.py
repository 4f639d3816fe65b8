"""Real-time factor of each transcription model on a synth-piano item.

Each model runs in a fresh process: it is built with ``device="auto"`` and loaded (``load_s``),
called once on the item's first two seconds (lazy initialisation, not timed), then timed on the
whole item at the model's own sample rate: ``real-time factor = transcribe seconds / audio
seconds`` (below 1 is faster than real time). ``peak_rss_mb`` is the process's peak resident
memory (weights included); onset F1 against the item's reference is printed as a sanity check.
On a CUDA machine the CUDA time is synchronised before the clock stops, and ``nvidia-smi`` is
sampled every 0.1 s during the timed call for the mean GPU utilisation.
"""
from __future__ import annotations

import threading
import time
from typing import Any
from collections.abc import Sequence

from .common import Table, fmt, item_audio_path, progress, run_child, transcriber

TASK = "synth-piano"
MODELS = ("basic-pitch", "transkun")


class GpuUtilisation:
    """Mean GPU utilisation (%) reported by ``nvidia-smi`` while inside ``with`` (None without one).

    Polls every ``interval`` seconds in a thread; :attr:`percent` is the mean of the samples.
    """

    def __init__(self, *, device: str, interval: float = 0.1) -> None:
        import shutil

        self.percent: float | None = None
        self._enabled = device.startswith("cuda") and shutil.which("nvidia-smi") is not None
        self._index = device.split(":", 1)[1] if ":" in device else "0"
        self._interval = interval
        self._samples: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _poll(self) -> None:
        import subprocess

        while not self._stop.is_set():
            try:
                out = subprocess.run(["nvidia-smi", "-i", self._index, "--query-gpu=utilization.gpu",
                                      "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=5)
                self._samples.append(float(out.stdout.strip().splitlines()[0]))
            except (OSError, ValueError, IndexError, subprocess.SubprocessError):
                pass
            self._stop.wait(self._interval)

    def __enter__(self) -> GpuUtilisation:
        if self._enabled:
            self._stop.clear()
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            if self._samples:
                self.percent = sum(self._samples) / len(self._samples)


# ------------------------------------------------------------------------------- child side
def real_time_factor(*, model: str, task: str = TASK, item_index: int = 0, seconds: float | None = None,
                     device: str = "auto", warmup: bool = True) -> dict[str, Any]:
    """Load ``model`` and time it on one item of ``task`` (the first ``seconds`` of it, if given).

    ``warmup``: first call the model once on the item's first two seconds, untimed.
    """
    import resource

    from ..audio import load_audio
    from ..datasets import get_dataset
    from ..metrics import transcription
    from ..models import get_model_class
    from ..models.base import Context
    from ..runner.core import item_seed
    from ..tasks import get_task

    spec = get_task(task)
    dataset = get_dataset(spec.dataset, **spec.dataset_params)
    item = dataset.items(spec.split)[item_index]
    cls = get_model_class(model, family=spec.family)
    t0 = time.perf_counter()
    m = transcriber(cls(device=device))
    m.load()
    load_s = time.perf_counter() - t0
    sr = m.sample_rate or spec.sample_rate
    audio, sr = load_audio(item_audio_path(item), sample_rate=sr)
    reference = dataset.load_notes(item)
    if seconds is not None:
        audio = audio[: int(round(seconds * sr))]
        reference = reference.select(reference.intervals[:, 0] < len(audio) / sr)
    context = Context(item=item, seed=item_seed(0, item.id), reference=reference if m.uses_reference else None)

    def sync() -> None:
        if str(getattr(m, "device", "cpu")).startswith("cuda"):
            try:
                import torch

                torch.cuda.synchronize()
            except Exception:
                pass

    if warmup:
        m.transcribe(audio[: 2 * sr], sample_rate=sr, context=context)
        sync()
    with GpuUtilisation(device=str(m.device)) as gpu:
        t0 = time.perf_counter()
        notes = m.transcribe(audio, sample_rate=sr, context=context)
        sync()
        seconds_taken = time.perf_counter() - t0
    duration = len(audio) / sr
    scores = transcription.evaluate(reference, notes, **spec.params)
    return {"model": model, "item": item.id, "warmup": warmup, "audio_s": duration, "load_s": load_s,
            "transcribe_s": seconds_taken,
            "real_time_factor": seconds_taken / duration, "device": m.device, "n_notes": len(notes),
            "onset_f1": scores.get("onset_f1"), "gpu_util_percent": gpu.percent,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


CHILDREN = {"rtf": real_time_factor}


# ------------------------------------------------------------------------------ parent side
def run(*, models: Sequence[str] = MODELS, task: str = TASK, seconds: float | None = None,
        warmup: bool = True) -> dict[str, Any]:
    """One fresh process per model; a model that cannot run becomes an ``error`` row."""
    rows = []
    for model in models:
        progress(f"models: real-time factor of {model} on a {task} item")
        try:
            rows.append(run_child("models", "rtf", {"model": model, "task": task, "seconds": seconds,
                                                    "warmup": warmup}))
        except RuntimeError as exc:
            rows.append({"model": model, "error": str(exc)})
    return {"section": "models", "params": {"task": task, "models": list(models), "seconds": seconds,
                                            "warmup": warmup}, "rows": rows}


def run_section(*, quick: bool = False) -> dict[str, Any]:
    """The ``musebench bench`` section: basic-pitch and transkun on one item (``quick``: its first 4 s, no warm-up)."""
    return run(seconds=4.0, warmup=False) if quick else run()


def tables(result: dict[str, Any]) -> list[Table]:
    rows = []
    for r in result["rows"]:
        if "error" in r:
            rows.append([r["model"]] + ["-"] * 8 + [f"ERROR {r['error']}"])
            continue
        rows.append([r["model"], r["item"], r["device"], fmt(r["audio_s"], ".2f"), fmt(r["load_s"], ".2f"),
                     fmt(r["transcribe_s"], ".3f"), fmt(r["real_time_factor"], ".4f"), fmt(r["peak_rss_mb"], ",.0f"),
                     fmt(r.get("gpu_util_percent"), ".0f", suffix=" %"), fmt(r["onset_f1"], ".3f")])
    notes = ["real-time factor = transcribe seconds / audio seconds ("
             + ("after one warm-up call" if result["params"].get("warmup", True) else "no warm-up: first call") + "); "
             "peak RSS of the whole process; GPU util: mean of nvidia-smi samples during the call (CUDA only)"]
    return [Table("Models: real-time factor", ["model", "item", "device", "audio s", "load s", "transcribe s",
                                                "RTF", "peak RSS MB", "GPU util", "onset F1"], rows, notes)]
