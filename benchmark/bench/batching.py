"""Batching across items: real-time factor and GPU utilisation, one by one vs batched.

For each model that overrides :meth:`~musebench.models.base.TranscriptionModel.transcribe_batch`
(basic-pitch: 2-s windows; transkun: 16-s segments), one fresh process loads the model twice
with ``device="auto"``: once configured for one-by-one inference, once for batching
(:data:`CONFIGS`), warms each up on two seconds of audio, then times

* **one by one**: ``transcribe`` on each of the first ``n_items`` items of synth-piano's test
  split in turn (what ``musebench run`` does without ``--batch-items``);
* **batched**: one ``transcribe_batch`` call on all of them (``--batch-items n_items``).

``RTF = seconds / audio seconds``; ``speed-up = one-by-one seconds / batched seconds``. On a CUDA
device the time is synchronised before the clock stops and ``nvidia-smi`` is sampled every 0.1 s
for the mean GPU utilisation of each mode. The notes of the two modes are compared: the same
number of notes and pitches, and the largest onset difference (float rounding of the batched
forward pass moves sub-frame refinements by < 1e-5 s).
"""
from __future__ import annotations

import time
from typing import Any
from collections.abc import Sequence

from .common import Table, fmt, fmt_x, item_audio_path, progress, ratio, run_child, transcriber

TASK = "synth-piano"
MODELS = ("basic-pitch", "transkun")

#: model parameters of the one-by-one and batched configurations
CONFIGS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "basic-pitch": ({"batch_size": 16}, {"batch_size": 64}),   # 2-s windows per ONNX call
    "transkun": ({"batch_size": 1}, {"batch_size": 8}),        # 16-s segments per forward pass
}


# ------------------------------------------------------------------------------- child side
def compare(*, model: str, task: str = TASK, n_items: int = 4, seconds: float | None = None,
            device: str = "auto") -> dict[str, Any]:
    """Time ``model`` one by one and batched on the first ``n_items`` items (see the module docstring)."""
    import numpy as np

    from ..audio import load_audio
    from ..datasets import get_dataset
    from ..models import get_model_class
    from ..models.base import Context
    from ..runner.core import item_seed
    from ..tasks import get_task
    from .models import GpuUtilisation

    spec = get_task(task)
    dataset = get_dataset(spec.dataset, **spec.dataset_params)
    items = dataset.items(spec.split)[:n_items]
    cls = get_model_class(model, family=spec.family)
    one_params, batched_params = CONFIGS.get(model, ({}, {}))
    one, batched = transcriber(cls(device=device, **one_params)), transcriber(cls(device=device, **batched_params))
    if not batched.batches_items():
        raise ValueError(f"{model} does not batch across items (no transcribe_batch)")
    one.load()
    batched.load()
    sr = one.sample_rate or spec.sample_rate
    if sr is None:
        raise ValueError(f"bench: neither model {model} nor task {task} sets a sample rate")
    audios = []
    for item in items:
        audio, sr = load_audio(item_audio_path(item), sample_rate=sr)
        audios.append(audio if seconds is None else audio[: int(round(seconds * sr))])
    contexts = [Context(item=item, seed=item_seed(0, item.id)) for item in items]

    def sync() -> None:
        if str(one.device).startswith("cuda"):
            import torch

            torch.cuda.synchronize()

    for m in (one, batched):  # lazy initialisation (CUDA kernels, ONNX session), untimed
        m.transcribe(audios[0][: 2 * sr], sample_rate=sr, context=contexts[0])
    sync()
    with GpuUtilisation(device=str(one.device)) as gpu_one:
        t0 = time.perf_counter()
        notes_one = [one.transcribe(a, sample_rate=sr, context=c) for a, c in zip(audios, contexts)]
        sync()
        one_s = time.perf_counter() - t0
    with GpuUtilisation(device=str(batched.device)) as gpu_batched:
        t0 = time.perf_counter()
        notes_batched = batched.transcribe_batch(audios, sample_rate=sr, contexts=contexts)
        sync()
        batched_s = time.perf_counter() - t0
    same = all(len(a) == len(b) and np.array_equal(a.pitches, b.pitches) for a, b in zip(notes_one, notes_batched))
    drift = max((float(np.abs(a.intervals - b.intervals).max()) for a, b in zip(notes_one, notes_batched)
                 if len(a) and len(a) == len(b)), default=0.0)
    audio_s = sum(len(a) for a in audios) / sr
    return {"model": model, "device": str(one.device), "n_items": len(items), "audio_s": audio_s,
            "one_params": one_params, "batched_params": batched_params,
            "one_s": one_s, "batched_s": batched_s, "rtf_one": one_s / audio_s, "rtf_batched": batched_s / audio_s,
            "gpu_util_one": gpu_one.percent, "gpu_util_batched": gpu_batched.percent,
            "n_notes": sum(len(n) for n in notes_one), "same_notes": same, "max_interval_diff_s": drift}


CHILDREN = {"compare": compare}


# ------------------------------------------------------------------------------ parent side
def run(*, models: Sequence[str] = MODELS, task: str = TASK, n_items: int = 4,
        seconds: float | None = None) -> dict[str, Any]:
    """One fresh process per model; a model that cannot run becomes an ``error`` row."""
    rows = []
    for model in models:
        progress(f"batching: {model}, {n_items} items of {task} one by one, then batched")
        try:
            r = run_child("batching", "compare", {"model": model, "task": task, "n_items": n_items,
                                                  "seconds": seconds})
        except RuntimeError as exc:
            rows.append({"model": model, "error": str(exc)})
            continue
        r["speedup"] = ratio(r["one_s"], r["batched_s"])
        rows.append(r)
    return {"section": "batching", "params": {"task": task, "models": list(models), "n_items": n_items,
                                              "seconds": seconds}, "rows": rows}


def run_section(*, quick: bool = False) -> dict[str, Any]:
    """The ``musebench bench`` section: 4 synth-piano items (``quick``: 2 items, their first 4 s)."""
    return run(n_items=2, seconds=4.0) if quick else run()


def tables(result: dict[str, Any]) -> list[Table]:
    rows = []
    for r in result["rows"]:
        if "error" in r:
            rows.append([r["model"]] + ["-"] * 10 + [f"ERROR {r['error']}"])
            continue
        rows.append([r["model"], r["device"], str(r["n_items"]), fmt(r["audio_s"], ".1f"),
                     f"{r['one_params']} -> {r['batched_params']}", fmt(r["rtf_one"], ".4f"),
                     fmt(r["rtf_batched"], ".4f"), fmt_x(r["speedup"]),
                     fmt(r["gpu_util_one"], ".0f", suffix=" %"), fmt(r["gpu_util_batched"], ".0f", suffix=" %"),
                     "yes" if r["same_notes"] else "NO", fmt(r["max_interval_diff_s"], ".1e")])
    return [Table("Batching across items: one by one vs batched",
                  ["model", "device", "items", "audio s", "params", "RTF one by one", "RTF batched", "speed-up",
                   "GPU util one", "GPU util batched", "same notes", "max interval diff s"], rows,
                  ["RTF = seconds / audio seconds after a warm-up; speed-up = one-by-one / batched time; "
                   "GPU util: mean nvidia-smi samples (CUDA only)",
                   "same notes: equal counts and pitches per item; interval diff: float rounding of batched passes"])]
