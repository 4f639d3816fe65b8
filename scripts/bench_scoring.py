#!/usr/bin/env python
"""Time and memory of note scoring: mir_eval's dense matcher vs benchmark.metrics.matching.

Each (implementation, size) runs in its own subprocess, so peak memory is that call's alone:
the child builds the notes, resets the kernel's peak-RSS counter (``/proc/self/clear_refs``),
scores, and reports the peak RSS increase; a second call under ``tracemalloc`` gives the peak
of Python/NumPy allocations. Scores of both implementations are compared for identity.

Usage::

    python scripts/bench_scoring.py                       # 1k, 5k, 20k notes
    python scripts/bench_scoring.py --sizes 1000 5000 --skip-mir-eval-above 5000

The notes are piano-like: about 8 notes per second, 40% of the onsets are chords of 2-4
notes, lognormal durations; the estimate is a perturbed copy (5% dropped, 5% spurious, onset
jitter 12 ms, 4% wrong pitch, offsets stretched by a random factor, noisy velocities).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IMPLEMENTATIONS = ("mir_eval", "musebench")


def piano_like(n_notes: int, *, seed: int = 0):
    """Reference and perturbed estimate notes: ``(intervals, hz, velocities)`` each."""
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 2, 3, 4], p=[0.6, 0.15, 0.15, 0.1], size=n_notes)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n_notes)) + 1]
    n_events = len(sizes)
    event_rate = 8.0 / sizes.mean()
    event_times = np.cumsum(rng.exponential(1 / event_rate, n_events))
    centre = np.clip(60 + np.cumsum(rng.normal(0, 2, n_events)), 36, 84)
    onsets, pitches = [], []
    for t, c, k in zip(event_times, centre, sizes):
        offs = rng.choice([-12, -7, -5, -3, 0, 4, 7, 12], size=k, replace=False)
        pitches.extend(np.clip(np.round(c) + offs, 21, 108))
        onsets.extend([t] * k)
    onsets = np.asarray(onsets)[:n_notes]
    pitches = np.asarray(pitches)[:n_notes]
    durations = np.clip(rng.lognormal(np.log(0.3), 0.6, n_notes), 0.05, 4.0)
    ref = (np.c_[onsets, onsets + durations], pitches, rng.integers(30, 111, n_notes).astype(float))

    keep = rng.random(n_notes) >= 0.05
    est_on = np.maximum(onsets[keep] + rng.normal(0, 0.012, keep.sum()), 0.0)
    est_dur = np.maximum(durations[keep] * rng.lognormal(0, 0.2, keep.sum()), 0.02)
    est_pitch = pitches[keep].copy()
    wrong = rng.random(len(est_pitch)) < 0.04
    est_pitch[wrong] += rng.choice([-12, -1, 1, 12], size=wrong.sum())
    est_vel = np.clip(ref[2][keep] * 0.8 + 10 + rng.normal(0, 8, keep.sum()), 1, 127)
    n_extra = int(0.05 * n_notes)
    extra_on = rng.uniform(0, onsets.max(), n_extra)
    est_on = np.r_[est_on, extra_on]
    est_dur = np.r_[est_dur, rng.lognormal(np.log(0.2), 0.5, n_extra)]
    est_pitch = np.r_[est_pitch, rng.integers(36, 97, n_extra)]
    est_vel = np.r_[est_vel, rng.integers(20, 100, n_extra)]
    order = np.argsort(est_on, kind="stable")
    est = (np.c_[est_on, est_on + est_dur][order], est_pitch[order], est_vel[order].astype(float))

    def hz(midi):
        return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69) / 12)

    return (ref[0], hz(ref[1]), ref[2]), (est[0], hz(est[1]), est[2])


# ------------------------------------------------------------------------------- child side
def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _child(impl: str, size: int, seed: int, velocity: bool) -> dict:
    import tracemalloc
    import warnings

    import mir_eval  # noqa: F401  (imported before the baseline, for both)
    import mir_eval.util  # noqa: F401

    from benchmark.metrics import matching

    warnings.simplefilter("ignore")
    (ri, rp, rv), (ei, ep, ev) = piano_like(size, seed=seed)
    if impl == "mir_eval":
        def score(**kw):
            return mir_eval.transcription.precision_recall_f1_overlap(ri, rp, ei, ep, **kw)

        def score_velocity(**kw):
            return mir_eval.transcription_velocity.precision_recall_f1_overlap(ri, rp, rv, ei, ep, ev, **kw)
    else:
        def score(**kw):
            return matching.precision_recall_f1_overlap(ri, rp, ei, ep, **kw)

        def score_velocity(**kw):
            return matching.precision_recall_f1_overlap_with_velocity(ri, rp, rv, ei, ep, ev, **kw)
        score(), score(offset_ratio=None)  # warm up (lazy imports, caches)

    repeats = 1 if (impl == "mir_eval" and size >= 5000) else 5
    out: dict = {"impl": impl, "size": size, "n_ref": len(rp), "n_est": len(ep)}
    base_kib = _rss_kib("VmRSS")
    out["peak_reset"] = _reset_peak()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        scores = score()
        times.append(time.perf_counter() - t0)
    out["peak_rss_mib"] = (_rss_kib("VmHWM") - base_kib) / 1024 if out["peak_reset"] else None
    out["time_onset_offset_s"] = float(np.median(times))
    out["scores_onset_offset"] = [float(x) for x in scores]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        scores = score(offset_ratio=None)
        times.append(time.perf_counter() - t0)
    out["time_onset_s"] = float(np.median(times))
    out["scores_onset"] = [float(x) for x in scores]
    if velocity:
        t0 = time.perf_counter()
        out["scores_velocity"] = [float(x) for x in score_velocity()]
        out["time_velocity_s"] = time.perf_counter() - t0
    tracemalloc.start()
    score()
    out["tracemalloc_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out


# ------------------------------------------------------------------------------ parent side
def _run_child(impl: str, size: int, seed: int, velocity: bool) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", impl, "--sizes", str(size),
           "--seed", str(seed)] + (["--velocity"] if velocity else [])
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1:]
        raise SystemExit(f"child {impl} at {size} notes failed: {last}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, "
            f"Python {platform.python_version()}, NumPy {np.__version__}")


def _fmt_mib(x) -> str:
    return "n/a" if x is None else f"{x:,.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000],
                        help="reference note counts to benchmark (default: 1000 5000 20000)")
    parser.add_argument("--skip-mir-eval-above", type=int, default=20000, metavar="N",
                        help="do not run mir_eval above N notes (its memory is quadratic: "
                             "~13 GB at 20k; default 20000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic notes (default 0)")
    parser.add_argument("--velocity", action="store_true",
                        help="also compare the velocity-aware scores")
    parser.add_argument("--json", type=Path, help="also write all measurements to this JSON file")
    parser.add_argument("--child", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(_child(args.child, args.sizes[0], args.seed, args.velocity)))
        return 0

    print(f"machine: {_machine()}")
    print(f"{'notes':>7} {'impl':>10} {'on+off s':>10} {'onset s':>9} {'peak RSS MiB':>13} "
          f"{'tracemalloc MiB':>16}  scores (P, R, F1, AOR) on+off")
    results, identical = [], True
    for size in args.sizes:
        rows = {}
        for impl in IMPLEMENTATIONS:
            if impl == "mir_eval" and size > args.skip_mir_eval_above:
                continue
            r = _run_child(impl, size, args.seed, args.velocity)
            rows[impl] = r
            results.append(r)
            s = ", ".join(f"{x:.6f}" for x in r["scores_onset_offset"])
            print(f"{size:>7} {impl:>10} {r['time_onset_offset_s']:>10.4f} {r['time_onset_s']:>9.4f} "
                  f"{_fmt_mib(r['peak_rss_mib']):>13} {_fmt_mib(r['tracemalloc_peak_mib']):>16}  ({s})", flush=True)
        if len(rows) == 2:
            a, b = rows["mir_eval"], rows["musebench"]
            keys = ["scores_onset_offset", "scores_onset"] + (["scores_velocity"] if args.velocity else [])
            same = all(a[k] == b[k] for k in keys)
            identical &= same
            print(f"{size:>7} {'speed-up':>10} {a['time_onset_offset_s'] / b['time_onset_offset_s']:>9.0f}x "
                  f"{a['time_onset_s'] / b['time_onset_s']:>8.0f}x {'':>13} "
                  f"{a['tracemalloc_peak_mib'] / b['tracemalloc_peak_mib']:>15.0f}x  "
                  f"scores {'identical' if same else 'DIFFER'} (n_ref={a['n_ref']}, n_est={a['n_est']})", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": _machine(), "results": results}, indent=2))
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
