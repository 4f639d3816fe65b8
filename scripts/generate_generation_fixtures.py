#!/usr/bin/env python
"""Regenerate the generation-metric regression fixtures in tests/data/generation/.

Writes ``inputs.npz`` (seeded clips, posteriorgrams and embedding sets) and ``expected.json``
(the scores). Where a score has a short independent definition it is computed here without
musebench.metrics.generation — silence ratio (own framing loop), clipping ratio, pitch
salience, pitch-class-profile correlation (``np.corrcoef``) and the Fréchet distance
(``scipy.linalg.sqrtm``, as in pytorch-fid) — so tests/metrics/test_generation_metrics.py proves the
module equal to them; spectral flatness is stored as a regression value of the module itself.

Run from the repository root::

    .venv/bin/python scripts/generate_generation_fixtures.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import scipy.linalg

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "generation"
SR = 16000
N = 4000  # 0.25 s clips keep the fixture small


def make_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20240601)
    t = np.arange(N) / SR
    chord = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0))
    half_silent = np.concatenate([np.zeros(N // 2), 0.3 * np.sin(2 * np.pi * 440 * t[: N // 2])])
    clipped = np.clip(1.5 * np.sin(2 * np.pi * 110 * t), -1.0, 1.0)
    inputs = {
        "clip_chord": chord,
        "clip_noise": 0.1 * rng.standard_normal(N),
        "clip_half_silent": half_silent,
        "clip_clipped": clipped,
        "clip_quiet": 1e-4 * rng.standard_normal(N),
        "pg_a": rng.uniform(0, 1, (20, 88)) ** 4,
        "pg_b": rng.uniform(0, 1, (20, 88)) ** 4,
    }
    for k in range(4):
        inputs[f"fd_gen_{k}"] = rng.standard_normal((7, 5)) + 0.5
        inputs[f"fd_ref_{k}"] = rng.standard_normal((6, 5)) @ np.diag([1, 2, 1, 0.5, 1])
    return {k: np.asarray(v, dtype=np.float32 if k.startswith("clip_") else np.float64) for k, v in inputs.items()}


def _silence_ratio(x: np.ndarray) -> float:
    frame, hop = 1024, 512
    flags = []
    start = 0
    while True:
        chunk = x[start:start + frame]
        chunk = np.concatenate([chunk, np.zeros(frame - len(chunk))])
        rms = np.sqrt(np.mean(chunk.astype(np.float64) ** 2))
        flags.append(20 * np.log10(max(rms, 1e-10)) < -60.0)
        if start + frame >= len(x):
            break
        start += hop
    return float(np.mean(flags))


def _profile(pg: np.ndarray) -> np.ndarray:
    out = np.zeros(12)
    for key in range(pg.shape[1]):
        col = pg[:, key]
        out[(21 + key) % 12] += col[col >= 0.3].sum()
    return out


def _fd(gen: list[np.ndarray], ref: list[np.ndarray]) -> float:
    a, b = np.concatenate(gen), np.concatenate(ref)
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def expected_scores(inputs: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    from musebench.metrics import generation as gm  # only for the regression-only value (flatness)

    out: dict[str, dict[str, float]] = {}
    for name in sorted(k for k in inputs if k.startswith("clip_")):
        x = inputs[name].astype(np.float64)
        out[name] = {"silence_ratio": _silence_ratio(x),
                     "clipping_ratio": float(np.mean(np.abs(x) >= 0.999)),
                     "spectral_flatness": gm.spectral_flatness(x, sample_rate=SR)}
    a, b = inputs["pg_a"], inputs["pg_b"]
    out["posteriorgrams"] = {"pitch_salience_a": float(np.mean(a.max(axis=1))),
                             "seed_coherence_ab": float(np.corrcoef(_profile(a), _profile(b))[0, 1])}
    gen = [inputs[f"fd_gen_{k}"] for k in range(4)]
    ref = [inputs[f"fd_ref_{k}"] for k in range(4)]
    out["frechet"] = {"value": _fd(gen, ref)}
    return out


def compute_with_module(inputs: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """The same scores through musebench.metrics.generation (what the test compares)."""
    from musebench.metrics import generation as gm

    out: dict[str, dict[str, float]] = {}
    for name in sorted(k for k in inputs if k.startswith("clip_")):
        s = gm.evaluate(inputs[name], sample_rate=SR)
        out[name] = {k: s[k] for k in ("silence_ratio", "clipping_ratio", "spectral_flatness")}
    a, b = inputs["pg_a"], inputs["pg_b"]
    out["posteriorgrams"] = {"pitch_salience_a": gm.pitch_salience(a), "seed_coherence_ab": gm.seed_coherence(a, b)}
    gen = [inputs[f"fd_gen_{k}"] for k in range(4)]
    ref = [inputs[f"fd_ref_{k}"] for k in range(4)]
    out["frechet"] = {"value": gm.frechet(gen, ref, n_resamples=0).value}
    return out


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    inputs = make_inputs()
    np.savez_compressed(OUT / "inputs.npz", **inputs)
    expected = expected_scores(inputs)
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    got = compute_with_module(inputs)
    for case, values in expected.items():
        for key, value in values.items():
            assert abs(got[case][key] - value) < 1e-9, (case, key, got[case][key], value)
    print(f"wrote {OUT / 'inputs.npz'} and {OUT / 'expected.json'} ({len(expected)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
