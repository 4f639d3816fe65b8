"""DTW: fastdtw (C extension, Euclidean) as used by the translation metrics vs librosa's exact DTW.

The fast side is :func:`musebench.metrics.translation.dtw` itself (fastdtw 0.3.4's C extension,
``dist=2``) at radius 1 (the translation metrics' default) and 10; the exact side is
:func:`librosa.sequence.dtw` with ``metric="euclidean"`` and its default steps, whose
accumulated cost ``D[-1, -1]`` is the minimum path cost. Both sum the Euclidean distances of the
frame pairs on a path with steps (1, 1), (0, 1) and (1, 0), so ``cost ratio = fastdtw cost /
exact cost >= 1`` measures how far fastdtw's path is from optimal.

Inputs (``inputs=``):

``rendered`` (default of the full run)
    the sequences the translation metrics align: frame-normalised chroma
    (:func:`musebench.metrics.alignment.alignment_features`, 15.625 frames/s) of a piano
    rendering of synth scores laid end to end and of the same notes 3 % slower on viola, made
    by :func:`musebench.bench.translation.render_triple` (which ``scripts/bench_translation.py``
    uses too); 10,000 frames are 640 s of audio. Prepared once per length in a child process
    and handed to the measurements as ``.npz`` files.
``synthetic`` (``--quick``, or when the renderer, ``tinysoundfont``, is not installed)
    :func:`feature_pair`: seeded chroma-like "chords" and a tempo-warped noisy copy.

Each (implementation, length) runs in its own process; librosa's numba kernels are compiled on
a small input first.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from collections.abc import Sequence

import numpy as np

from ..metrics.alignment import alignment_features, dtw
from ..metrics.translation_features import FeatureConfig, extract_features
from .common import PeakRSS, Table, fmt, fmt_x, memory_ratio, progress, ratio, run_child
from .translation import SR, render_triple

IMPLEMENTATIONS: dict[str, int | None] = {"librosa": None, "fastdtw-r1": 1, "fastdtw-r10": 10}
SIZES = (1000, 5000, 10000)
QUICK_SIZES = (300, 1000)


def _znorm_frames(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=1, keepdims=True)
    std = x.std(axis=1, keepdims=True)
    return np.divide(x, std, out=np.zeros_like(x), where=std > 0)


def feature_pair(n_frames: int, *, dims: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two seeded chroma-like sequences, the second a tempo-warped noisy copy of the first.

    Parameters
    ----------
    n_frames : int
        Frames of the first sequence (the second has about 5 % more).
    dims : int
        Feature dimensions (12 pitch classes).
    seed : int

    Returns
    -------
    x : np.ndarray, shape=(n_frames, dims), float64
    y : np.ndarray, shape=(m, dims), float64
        Both frame-wise z-normalised.
    """
    rng = np.random.default_rng(seed)
    x = np.empty((n_frames, dims))
    t = 0
    while t < n_frames:
        length = int(rng.integers(5, 41))
        chord = np.zeros(dims)
        k = int(rng.integers(3, 5))
        chord[rng.choice(dims, size=k, replace=False)] = rng.uniform(0.5, 1.0, k)
        x[t:t + length] = chord
        t += length
    x += 0.15 * rng.random(x.shape)
    # smoothly varying tempo: output frame j reads input position pos[j]
    m = int(round(n_frames * 1.05))
    knots = rng.uniform(0.7, 1.4, max(2, m // 200 + 2))
    rate = np.interp(np.linspace(0, len(knots) - 1, m), np.arange(len(knots)), knots)
    pos = np.cumsum(rate)
    pos = (pos - pos[0]) / (pos[-1] - pos[0]) * (n_frames - 1)
    y = x[np.round(pos).astype(int)] + 0.3 * rng.normal(size=(m, dims))
    return _znorm_frames(x), _znorm_frames(y)


def rendered_available() -> bool:
    """True when the renderer behind :func:`musebench.bench.translation.render_triple` is installed."""
    import importlib.util

    return importlib.util.find_spec("tinysoundfont") is not None


# ------------------------------------------------------------------------------- child side
def prepare_rendered(*, size: int, path: str) -> dict[str, Any]:
    """Write the ``rendered`` inputs of ``size`` frames to ``path`` (.npz with ``x`` and ``y``)."""
    config = FeatureConfig()
    minutes = (size + 2) / config.frame_rate / 60
    source, output, _reference = render_triple(minutes)
    x = alignment_features(extract_features(source, sample_rate=SR, config=config))[:size]
    y = alignment_features(extract_features(output, sample_rate=SR, config=config))[:size]
    np.savez(path, x=x, y=y)
    return {"size": size, "n_x": len(x), "n_y": len(y), "seconds_of_audio": len(source) / SR}


def measure(*, impl: str, size: int, seed: int = 0, inputs_path: str | None = None) -> dict[str, Any]:
    """Time, peak RSS increase and path cost of one implementation at one length (fresh process).

    ``inputs_path``: an .npz from :func:`prepare_rendered`; else :func:`feature_pair` inputs.
    """
    if impl not in IMPLEMENTATIONS:
        raise ValueError(f"bench dtw: implementation must be one of {sorted(IMPLEMENTATIONS)}, not {impl!r}")
    if inputs_path:
        with np.load(inputs_path) as data:
            x, y = data["x"], data["y"]
    else:
        x, y = feature_pair(size, seed=seed)
    if impl == "librosa":
        import librosa

        def align(a: np.ndarray, b: np.ndarray) -> float:
            D, _ = librosa.sequence.dtw(X=a.T, Y=b.T, metric="euclidean", backtrack=True)
            return float(D[-1, -1])
    else:
        radius = IMPLEMENTATIONS[impl] or 1  # every fastdtw entry names its radius

        def align(a: np.ndarray, b: np.ndarray) -> float:
            return dtw(a, b, radius=radius)[0]
    align(*feature_pair(50, seed=seed + 1))  # compile / warm up outside the measurement
    with PeakRSS() as peak:
        t0 = time.perf_counter()
        cost = align(x, y)
        seconds = time.perf_counter() - t0
    return {"impl": impl, "size": size, "n_x": len(x), "n_y": len(y), "time_s": seconds,
            "peak_rss_mib": peak.mib, "cost": cost}


CHILDREN = {"measure": measure, "prepare": prepare_rendered}


# ------------------------------------------------------------------------------ parent side
def run(*, sizes: Sequence[int] = SIZES, seed: int = 0, inputs: str = "rendered") -> dict[str, Any]:
    """All implementations at every length; ratios against librosa's exact DTW.

    Parameters
    ----------
    inputs : {"rendered", "synthetic"}
        See the module docstring; ``rendered`` falls back to ``synthetic`` (noted in the
        result) where the renderer is missing.

    Returns
    -------
    dict
        ``rows``: one per implementation and length with ``time_s``, ``peak_rss_mib``, ``cost``
        and, for fastdtw, ``speedup`` (librosa time / fastdtw time), ``memory_ratio`` and
        ``cost_ratio`` (fastdtw cost / exact cost).
    """
    if inputs not in ("rendered", "synthetic"):
        raise ValueError(f"bench dtw: inputs must be 'rendered' or 'synthetic', not {inputs!r}")
    if inputs == "rendered" and not rendered_available():
        progress("dtw: tinysoundfont (the renderer) missing: synthetic inputs instead")
        inputs = "synthetic"
    tmp = Path(tempfile.mkdtemp(prefix="musebench-bench-dtw-"))
    try:
        rows = _run(sizes, seed, inputs, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"section": "dtw", "params": {"sizes": list(sizes), "seed": seed, "inputs": inputs}, "rows": rows}


def _run(sizes: Sequence[int], seed: int, inputs: str, tmp: Path) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        exact: dict[str, Any] = {}  # librosa's row, measured first at each length
        params: dict[str, Any] = {"size": int(size), "seed": seed}
        if inputs == "rendered":
            progress(f"dtw: rendering and extracting {size:,} frames of chroma")
            params["inputs_path"] = str(tmp / f"inputs-{size}.npz")
            run_child("dtw", "prepare", {"size": int(size), "path": params["inputs_path"]})
        for impl in IMPLEMENTATIONS:
            progress(f"dtw: {impl} at {size:,} frames")
            r = run_child("dtw", "measure", {"impl": impl, **params})
            if impl == "librosa":
                exact = r
            else:
                r["speedup"] = ratio(exact["time_s"], r["time_s"])
                r["memory_ratio"] = memory_ratio(exact["peak_rss_mib"], r["peak_rss_mib"])
                r["cost_ratio"] = ratio(r["cost"], exact["cost"])
            rows.append(r)
    return rows


def run_section(*, quick: bool = False) -> dict[str, Any]:
    """The ``musebench bench`` section: rendered chroma of 1k/5k/10k frames (``quick``: synthetic, 300 and 1,000)."""
    return run(sizes=QUICK_SIZES, inputs="synthetic") if quick else run(sizes=SIZES)


def tables(result: dict[str, Any]) -> list[Table]:
    rows = []
    for r in result["rows"]:
        rows.append([f"{r['size']:,} x {r['n_y']:,}", r["impl"], fmt(r["time_s"], ".4f"),
                     fmt_x(r.get("speedup")) if "speedup" in r else "1x",
                     fmt(r["peak_rss_mib"], ",.1f"),
                     fmt_x(r.get("memory_ratio")) if "memory_ratio" in r else "1x",
                     fmt(r["cost"], ",.2f"),
                     fmt(r.get("cost_ratio"), ".5f") if "cost_ratio" in r else "1 (exact)"])
    notes = ["speed-up and memory ratio: librosa / fastdtw (memory ratio n/a below 1 MiB); "
             "cost ratio: fastdtw path cost / exact minimum cost",
             ("inputs: frame-normalised chroma of a piano rendering vs the same notes 3 % slower on viola "
              "(musebench.bench.translation.render_triple)" if result["params"].get("inputs") == "rendered" else
              "inputs: synthetic 12-d chroma-like sequences and a tempo-warped noisy copy, frames z-normalised")]
    return [Table("DTW: fastdtw (C, dist=2) vs librosa.sequence.dtw (exact)",
                  ["frames", "impl", "time s", "speed-up", "peak RSS MiB", "mem ratio", "path cost", "cost ratio"],
                  rows, notes)]
