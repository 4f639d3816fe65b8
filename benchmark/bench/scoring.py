"""Note scoring: mir_eval's dense matcher vs :mod:`musebench.metrics.matching`, time and memory.

Each (implementation, size) runs in its own child process, so its peak memory is its own: the
child builds the notes, resets the peak-RSS counter, scores, and reports the peak RSS increase;
a second call under ``tracemalloc`` gives the peak of Python/NumPy allocations. The scores of
both implementations are compared for identity (exact float equality).

The notes (:func:`piano_like`) are piano-like: about 8 notes per second, 40 % of the onsets are
chords of 2-4 notes, lognormal durations; the estimate is a perturbed copy (5 % dropped, 5 %
spurious, onset jitter 12 ms, 4 % wrong pitch, offsets stretched by a random factor, noisy
velocities).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any
from collections.abc import Sequence

import numpy as np

from .common import (PeakRSS, Table, describe_machine, fmt, fmt_x, machine_info, memory_ratio, progress, ratio,
                     run_child)

IMPLEMENTATIONS = ("mir_eval", "musebench")
SIZES = (1000, 5000, 20000)
QUICK_SIZES = (300, 1000)


def piano_like(n_notes: int, *, seed: int = 0) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray],
                                                        tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Seeded piano-like reference notes and a perturbed estimate of them.

    Parameters
    ----------
    n_notes : int
        Number of reference notes.
    seed : int
        Seed of ``np.random.default_rng``.

    Returns
    -------
    reference, estimate : tuple of (intervals, pitches_hz, velocities)
        ``intervals`` shape (n, 2) in seconds, ``pitches_hz`` shape (n,) in Hz, ``velocities``
        shape (n,) in MIDI units; the estimate is sorted by onset.
    """
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 2, 3, 4], p=[0.6, 0.15, 0.15, 0.1], size=n_notes)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n_notes)) + 1]
    n_events = len(sizes)
    event_rate = 8.0 / sizes.mean()
    event_times = np.cumsum(rng.exponential(1 / event_rate, n_events))
    centre = np.clip(60 + np.cumsum(rng.normal(0, 2, n_events)), 36, 84)
    onset_list: list[float] = []
    pitch_list: list[float] = []
    for t, c, k in zip(event_times, centre, sizes):
        offs = rng.choice([-12, -7, -5, -3, 0, 4, 7, 12], size=k, replace=False)
        pitch_list.extend(np.clip(np.round(c) + offs, 21, 108))
        onset_list.extend([t] * k)
    onsets = np.asarray(onset_list)[:n_notes]
    pitches = np.asarray(pitch_list)[:n_notes]
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

    def hz(midi: np.ndarray) -> np.ndarray:
        return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69) / 12)

    return (ref[0], hz(ref[1]), ref[2]), (est[0], hz(est[1]), est[2])


# ------------------------------------------------------------------------------- child side
def measure(*, impl: str, size: int, seed: int = 0, velocity: bool = False) -> dict[str, Any]:
    """Time and memory of one implementation at one size (run in a fresh process).

    Returns
    -------
    dict
        ``time_onset_offset_s`` / ``time_onset_s`` (median of 5 calls; 1 for mir_eval at 5k notes
        and more), ``peak_rss_mib``, ``tracemalloc_peak_mib``, the scores (P, R, F1, AOR) and,
        with ``velocity``, the velocity-aware scores.
    """
    import tracemalloc
    import warnings

    import mir_eval  # noqa: F401  (imported before the baseline, for both)
    import mir_eval.transcription
    import mir_eval.transcription_velocity

    from ..metrics import matching

    if impl not in IMPLEMENTATIONS:
        raise ValueError(f"bench scoring: implementation must be one of {IMPLEMENTATIONS}, not {impl!r}")
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
    out: dict[str, Any] = {"impl": impl, "size": size, "n_ref": len(rp), "n_est": len(ep)}
    times = []
    with PeakRSS() as peak:
        for _ in range(repeats):
            t0 = time.perf_counter()
            scores = score()
            times.append(time.perf_counter() - t0)
    out["peak_rss_mib"] = peak.mib
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


def _notes(intervals: np.ndarray, hz: np.ndarray, velocities: np.ndarray) -> Any:
    """:class:`~musebench.types.Notes` of a :func:`piano_like` half, with an instrument per register
    (bass below C3, piano to C5, violin above), so the multi-instrument metrics have work to do."""
    from ..types import Notes

    midi = np.rint(69 + 12 * np.log2(hz / 440.0))
    programs = np.where(midi < 48, 32, np.where(midi <= 72, 0, 40))
    return Notes.from_arrays(intervals=intervals, pitches=midi, velocities=velocities, programs=programs)


def measure_suite(*, size: int, seed: int = 0) -> dict[str, Any]:
    """The whole transcription metric suite (:func:`musebench.metrics.transcription.evaluate`:
    note, velocity, frame and multi-instrument scores) at one size, in a fresh process; and the
    frame scores alone, built in chunks (the default) and as whole piano rolls (MT3's way)."""
    import tracemalloc
    import warnings

    from ..metrics import transcription

    warnings.simplefilter("ignore")
    ref, est = (_notes(*half) for half in piano_like(size, seed=seed))
    transcription.evaluate(ref, est)  # warm up (lazy imports)
    times = []
    with PeakRSS() as peak:
        for _ in range(3):
            t0 = time.perf_counter()
            scores = transcription.evaluate(ref, est)
            times.append(time.perf_counter() - t0)
    tracemalloc.start()
    transcription.evaluate(ref, est)
    suite_traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    frames: dict[str, Any] = {}
    default_chunk = transcription.FRAME_CHUNK
    for label, chunk in (("chunked", default_chunk), ("whole", 2**62)):
        transcription.FRAME_CHUNK = chunk
        try:
            t0 = time.perf_counter()
            result = transcription.frame_scores(ref, est)
            elapsed = time.perf_counter() - t0
            tracemalloc.start()
            transcription.frame_scores(ref, est)
            traced = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        finally:
            transcription.FRAME_CHUNK = default_chunk
        frames[label] = {"time_s": elapsed, "tracemalloc_peak_mib": traced, "scores": [float(x) for x in result]}
    return {"size": size, "n_ref": len(ref), "n_est": len(est), "seconds_of_music": float(ref.offsets.max()),
            "time_s": float(np.median(times)), "peak_rss_mib": peak.mib, "tracemalloc_peak_mib": suite_traced,
            "f1": {k: float(v) for k, v in scores.items() if k.endswith("f1")}, "frames": frames,
            "frames_identical": frames["chunked"]["scores"] == frames["whole"]["scores"]}


CHILDREN = {"measure": measure, "suite": measure_suite}


# ------------------------------------------------------------------------------ parent side
def run(*, sizes: Sequence[int] = SIZES, seed: int = 0, velocity: bool = False,
        skip_mir_eval_above: int = 20000) -> dict[str, Any]:
    """Benchmark both implementations at every size, each call in a fresh process.

    Returns
    -------
    dict
        ``rows`` (one per implementation and size, see :func:`measure`), ``comparisons`` (per
        size where both ran: speed-ups and memory ratios of mir_eval over MuseBench, and whether
        the scores are identical) and ``identical`` (all compared scores equal).
    """
    rows, comparisons = [], []
    for size in sizes:
        by_impl = {}
        for impl in IMPLEMENTATIONS:
            if impl == "mir_eval" and size > skip_mir_eval_above:
                continue
            progress(f"scoring: {impl} at {size:,} notes")
            by_impl[impl] = run_child("scoring", "measure", {"impl": impl, "size": int(size), "seed": seed,
                                                             "velocity": velocity})
            rows.append(by_impl[impl])
        if len(by_impl) == 2:
            a, b = by_impl["mir_eval"], by_impl["musebench"]
            keys = ["scores_onset_offset", "scores_onset"] + (["scores_velocity"] if velocity else [])
            comparisons.append({
                "size": size, "n_ref": a["n_ref"], "n_est": a["n_est"],
                "speedup_onset_offset": ratio(a["time_onset_offset_s"], b["time_onset_offset_s"]),
                "speedup_onset": ratio(a["time_onset_s"], b["time_onset_s"]),
                "rss_ratio": memory_ratio(a["peak_rss_mib"], b["peak_rss_mib"]),
                "tracemalloc_ratio": ratio(a["tracemalloc_peak_mib"], b["tracemalloc_peak_mib"]),
                "identical": all(a[k] == b[k] for k in keys),
            })
    suite = []
    for size in sizes:
        progress(f"scoring: whole metric suite at {size:,} notes")
        suite.append(run_child("scoring", "suite", {"size": int(size), "seed": seed}))
    return {"section": "scoring", "params": {"sizes": list(sizes), "seed": seed, "velocity": velocity,
                                             "skip_mir_eval_above": skip_mir_eval_above},
            "rows": rows, "comparisons": comparisons, "suite": suite,
            "identical": all(c["identical"] for c in comparisons) and all(r["frames_identical"] for r in suite)}


def run_section(*, quick: bool = False) -> dict[str, Any]:
    """The ``musebench bench`` section: 1k/5k/20k notes (``quick``: 300 and 1,000)."""
    return run(sizes=QUICK_SIZES if quick else SIZES)


def tables(result: dict[str, Any]) -> list[Table]:
    """The result as a text table (times in seconds, memory in MiB)."""
    comp = {c["size"]: c for c in result["comparisons"]}
    rows: list[list[str]] = []
    for r in result["rows"]:
        rows.append([f"{r['size']:,}", r["impl"], fmt(r["time_onset_offset_s"], ".4f"), fmt(r["time_onset_s"], ".4f"),
                     fmt(r["peak_rss_mib"], ",.1f"), fmt(r["tracemalloc_peak_mib"], ",.1f"),
                     "(" + ", ".join(f"{x:.6f}" for x in r["scores_onset_offset"]) + ")"])
        c = comp.get(r["size"])
        if c is not None and r["impl"] == "musebench":
            rows.append(["", "ratio", fmt_x(c["speedup_onset_offset"]), fmt_x(c["speedup_onset"]),
                         fmt_x(c["rss_ratio"]), fmt_x(c["tracemalloc_ratio"]),
                         f"scores {'identical' if c['identical'] else 'DIFFER'} "
                         f"(n_ref={c['n_ref']}, n_est={c['n_est']})"])
    notes = ["ratio rows: mir_eval / MuseBench (speed-up and memory ratio); peak RSS is the increase "
             "during the call, in a fresh process (ratio n/a below 1 MiB)",
             "scores: precision, recall, F1, average overlap ratio with offsets (onset-only scores compared too)"]
    tables_ = [Table("Note scoring: mir_eval 0.8.2 vs musebench.metrics.matching",
                     ["notes", "impl", "on+off s", "onset s", "peak RSS MiB", "tracemalloc MiB",
                      "scores on+off (P, R, F1, AOR)"], rows, notes)]
    suite_rows = []
    for r in result.get("suite", []):
        fc, fw = r["frames"]["chunked"], r["frames"]["whole"]
        suite_rows.append([f"{r['size']:,}", fmt(r["seconds_of_music"], ",.0f"), fmt(r["time_s"], ".3f"),
                           fmt(r["peak_rss_mib"], ",.1f"), fmt(r["tracemalloc_peak_mib"], ",.1f"),
                           fmt(fc["time_s"], ".3f"), fmt(fc["tracemalloc_peak_mib"], ",.1f"),
                           fmt(fw["time_s"], ".3f"), fmt(fw["tracemalloc_peak_mib"], ",.1f"),
                           "yes" if r["frames_identical"] else "NO", fmt(r["f1"].get("multi_instrument_f1"), ".4f")])
    if suite_rows:
        tables_.append(Table(
            "Whole transcription metric suite (evaluate: note, velocity, frame, multi-instrument)",
            ["notes", "music s", "evaluate s", "peak RSS MiB", "tracemalloc MiB", "frames chunked s",
             "chunked MiB", "frames whole-roll s", "whole-roll MiB", "frames identical", "multi-instr F1"],
            suite_rows, ["evaluate: median of 3 calls after a warm-up, 3 instruments by register; frames: "
                         "piano rolls built 8,192 columns at a time vs whole (MT3's way), tracemalloc peaks"]))
    return tables_


def main(argv: list[str] | None = None) -> int:
    """CLI of ``scripts/bench_scoring.py``; exit status 1 when the scores differ."""
    parser = argparse.ArgumentParser(
        prog="bench_scoring.py",
        description="Time and memory of note scoring: mir_eval's dense matcher vs musebench.metrics.matching.")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="reference note counts to benchmark (default: 1000 5000 20000)")
    parser.add_argument("--skip-mir-eval-above", type=int, default=20000, metavar="N",
                        help="do not run mir_eval above N notes (its memory is quadratic: ~13 GB at 20k; "
                             "default 20000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic notes (default 0)")
    parser.add_argument("--velocity", action="store_true", help="also compare the velocity-aware scores")
    parser.add_argument("--json", type=Path, help="also write all measurements to this JSON file")
    args = parser.parse_args(argv)
    machine = machine_info()
    result = run(sizes=args.sizes, seed=args.seed, velocity=args.velocity,
                 skip_mir_eval_above=args.skip_mir_eval_above)
    print(f"machine: {describe_machine(machine)}")
    for table in tables(result):
        print(table.render())
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, **result}, indent=2))
    return 0 if result["identical"] else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
