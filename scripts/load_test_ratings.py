#!/usr/bin/env python
"""Load test of the rating storage path: N concurrent raters on SQLite and PostgreSQL.

Each rater is a thread that does what the app does for one browser session: start (balanced
assignment), then for every trial fetch the rater, find the next trial and submit its answers
(one transaction per submit), double-submitting every fifth trial to exercise idempotency. All
raters start together (a barrier). Reports p50/p95/p99 latency of a submit and of a whole step
(fetch + next trial + submit), ratings per second, and checks that nothing was lost or
duplicated. PostgreSQL is a throwaway server on a loopback port (musebench.testing.postgres) unless --pg-url.

Usage: python scripts/load_test_ratings.py [--raters 50] [--backend sqlite|postgres|both]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def build(store, folder: Path, *, items: int, conditions: int):
    from musebench.listening_app.study import StudyConfig, build_study, entries_from_manifest, save_study
    from musebench.listening_app.synthetic import make_study_folder

    if not (folder / "manifest.csv").exists():
        make_study_folder(folder, conditions=[f"cond{k}" for k in range(conditions)], n_items=items, seconds=0.3,
                          sample_rate=8000)
    built = build_study(entries_from_manifest(folder), StudyConfig(name="load", sample_rate=8000, max_seconds=0.3,
                                                                   headphone_trials=0, headphone_pass=0,
                                                                   # the storage path only: no listening clock
                                                                   min_listen_fraction=0.0))
    save_study(store, built)
    return built


def run(url: str, *, raters: int, folder: Path, items: int, conditions: int, timeout_s: float,
        think_ms: float = 0.0) -> dict:
    from sqlalchemy import func, select

    from musebench.listening_app import ratings as R
    from musebench.listening_app.store import Rating, Store

    store = Store(url, pool_size=min(raters, 50))
    built = build(store, folder, items=items, conditions=conditions)
    barrier = threading.Barrier(raters)
    submit_ms: list[float] = []
    step_ms: list[float] = []
    expected = [0]
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + timeout_s

    def rater(k: int) -> None:
        rng = np.random.default_rng(k)
        try:
            barrier.wait(timeout=60)
            r = R.start_rater(store, public_id=built.public_id, external_id=f"load{k}")
            R.set_stage(store, r.token, "trials")
            n = 0
            while time.monotonic() < deadline:
                t0 = time.perf_counter()
                view = R.get_rater(store, r.token)
                trial = R.next_trial(store, view)
                if trial is None:
                    break
                answers = {q: int(1 + (k + n) % 5) for q in trial.questions}
                t1 = time.perf_counter()
                R.submit_ratings(store, token=r.token, trial_id=trial.id, answers=answers, response_ms=1000)
                t2 = time.perf_counter()
                if n % 5 == 0:  # a double submit must change nothing
                    R.submit_ratings(store, token=r.token, trial_id=trial.id, answers=answers)
                with lock:
                    submit_ms.append((t2 - t1) * 1000)
                    step_ms.append((t2 - t0) * 1000)
                    expected[0] += len(answers)
                n += 1
                if think_ms:  # a person listens and decides between submits
                    time.sleep(rng.uniform(0.5, 1.5) * think_ms / 1000)
            R.set_stage(store, r.token, "done")
        except Exception as exc:  # reported below
            with lock:
                errors.append(f"rater {k}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=rater, args=(k,)) for k in range(raters)]
    t_start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t_start
    with store.read() as conn:
        stored = conn.execute(select(func.count()).select_from(Rating)).scalar()
        dup = conn.execute(select(func.count()).select_from(
            select(Rating.rater_id, Rating.trial_id, Rating.question).group_by(
                Rating.rater_id, Rating.trial_id, Rating.question).having(func.count() > 1).subquery())).scalar()
    store.dispose()
    s, w = np.array(submit_ms), np.array(step_ms)
    return {"backend": store.dialect, "raters": raters, "submits": len(s), "ratings_expected": expected[0],
            "ratings_stored": int(stored), "duplicates": int(dup), "errors": errors, "wall_s": wall,
            "submit_p50_ms": float(np.percentile(s, 50)) if s.size else float("nan"),
            "submit_p95_ms": float(np.percentile(s, 95)) if s.size else float("nan"),
            "submit_p99_ms": float(np.percentile(s, 99)) if s.size else float("nan"),
            "step_p50_ms": float(np.percentile(w, 50)) if w.size else float("nan"),
            "step_p95_ms": float(np.percentile(w, 95)) if w.size else float("nan"),
            "ratings_per_s": expected[0] / wall if wall > 0 else float("nan"), "think_ms": think_ms}


def report(res: dict) -> str:
    ok = res["ratings_stored"] == res["ratings_expected"] and res["duplicates"] == 0 and not res["errors"]
    lines = [f"{res['backend']}: {res['raters']} concurrent raters, {res['submits']} submits in {res['wall_s']:.1f} s"
             f" (think time {res['think_ms']:.0f} ms)",
             f"  submit latency p50 {res['submit_p50_ms']:.1f} ms, p95 {res['submit_p95_ms']:.1f} ms, "
             f"p99 {res['submit_p99_ms']:.1f} ms",
             f"  whole step (fetch rater + next trial + submit) p50 {res['step_p50_ms']:.1f} ms, "
             f"p95 {res['step_p95_ms']:.1f} ms",
             f"  throughput {res['ratings_per_s']:.0f} ratings/s; stored {res['ratings_stored']} of "
             f"{res['ratings_expected']}, duplicates {res['duplicates']} -> {'OK' if ok else 'FAILED'}"]
    lines += [f"  error: {e}" for e in res["errors"][:5]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--raters", type=int, default=50, help="concurrent raters (threads)")
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--pg-url", help="use this PostgreSQL (loopback only) instead of a throwaway server")
    ap.add_argument("--items", type=int, default=6, help="items in the study")
    ap.add_argument("--conditions", type=int, default=3, help="system conditions in the study")
    ap.add_argument("--timeout", type=float, default=120.0, help="stop submitting after this many seconds")
    ap.add_argument("--think-ms", type=float, default=0.0,
                    help="mean pause between a rater's submits (0: back to back, a saturation test)")
    args = ap.parse_args(argv)
    ok = True
    with tempfile.TemporaryDirectory(prefix="musebench-load-") as tmp:
        folder = Path(tmp) / "audio"
        results = []
        if args.backend in ("sqlite", "both"):
            results.append(run(f"sqlite:///{tmp}/load.db", raters=args.raters, folder=folder, items=args.items,
                               conditions=args.conditions, timeout_s=args.timeout,
                               think_ms=args.think_ms))
            print(report(results[-1]), flush=True)
        if args.backend in ("postgres", "both"):
            if args.pg_url:
                results.append(run(args.pg_url, raters=args.raters, folder=folder, items=args.items,
                                   conditions=args.conditions, timeout_s=args.timeout,
                               think_ms=args.think_ms))
            else:
                from musebench.testing.postgres import postgres_server

                with postgres_server(durable=True) as url:
                    results.append(run(url, raters=args.raters, folder=folder, items=args.items,
                                       conditions=args.conditions, timeout_s=args.timeout,
                               think_ms=args.think_ms))
            print(report(results[-1]), flush=True)
        for r in results:
            ok = ok and r["ratings_stored"] == r["ratings_expected"] and r["duplicates"] == 0 and not r["errors"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
