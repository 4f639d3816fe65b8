#!/usr/bin/env python
"""Time the translation metric suite on a long source/output/reference triple, on one CPU core,
beside librosa's exact DTW on the same inputs.

The triple (:func:`musebench.bench.translation.render_triple`) is rendered from synth scores laid end to end (piano source, violin reference, and
as "output" the same notes 3 % slower on viola), ``--minutes`` long (default 10). Timed: the
whole per-item suite of :func:`musebench.metrics.translation.evaluate` (features of the three
signals, two fastdtw alignments, five correlations) plus the clip embeddings of
``target_domain_distance``; not timed: rendering, and the judge transcription behind
``pitch_accuracy``. Memory: peak traced allocation (tracemalloc) of the suite at 1/4, 1/2 and
all of the length, to show it grows linearly.

    python scripts/bench_translation.py               # 10 minutes, exact DTW included
    python scripts/bench_translation.py --minutes 2 --no-exact
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy is imported: one core

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

from musebench.bench.translation import SR, render_triple, suite  # noqa: E402
from musebench.metrics import translation as tm  # noqa: E402
from musebench.metrics.alignment import alignment_features  # noqa: E402


def best_of(fn, repeats: int) -> tuple[float, object]:
    """Best CPU time (``time.process_time``: this process on its one core, so other load on
    the machine does not count) over ``repeats`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.process_time()
        result = fn()
        best = min(best, time.process_time() - t0)
    return best, result


def wall_of(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the triple (default 10)")
    parser.add_argument("--radius", type=int, default=2, help="fastdtw radius (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats; the best is reported")
    parser.add_argument("--no-exact", action="store_true", help="skip librosa's exact DTW (O(n^2) memory)")
    parser.add_argument("--cqt", action="store_true", help="also time the librosa.cqt content backend")
    parser.add_argument("--radii", type=int, nargs="*", default=[], metavar="R",
                        help="also report fastdtw time and path-cost error at these radii")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    t0 = time.perf_counter()
    source, output, reference = render_triple(args.minutes)
    print(f"rendered a {args.minutes:g}-minute triple in {time.perf_counter() - t0:.1f} s "
          f"({len(source)} samples per signal at {SR} Hz); one CPU core")
    suite(source[: SR * 5], output[: SR * 5], reference[: SR * 5], radius=args.radius)  # warm-up (imports, caches)

    seconds, scores = best_of(lambda: suite(source, output, reference, radius=args.radius), args.repeats)
    wall = wall_of(lambda: suite(source, output, reference, radius=args.radius))
    f_src = tm.extract_features(source, sample_rate=SR)
    f_out = tm.extract_features(output, sample_rate=SR)
    feat_s, _ = best_of(lambda: tm.extract_features(source, sample_rate=SR), args.repeats)
    a, b = alignment_features(f_src), alignment_features(f_out)
    dtw_s, (cost, path) = best_of(lambda: tm.dtw(a, b, radius=args.radius), args.repeats)
    print("\nMuseBench translation suite (features x3, 2 fastdtw alignments, 5 correlations, 2 embeddings)")
    print(f"  total CPU time             {seconds:8.3f} s   ({len(f_src)} frames per signal; best of {args.repeats})")
    print(f"  total wall time            {wall:8.3f} s   (includes waiting for the core on a busy machine; "
          f"load average {os.getloadavg()[0]:.1f})")
    print(f"  features of one signal     {feat_s:8.3f} s")
    print(f"  fastdtw radius {args.radius} (chroma)    {dtw_s:8.3f} s   path cost {cost:.2f}, {len(path)} steps")
    for name, value in scores.items():
        print(f"  {name:<26} {value:8.4f}")

    print("\npeak traced memory of the suite (tracemalloc):")
    for frac in (0.25, 0.5, 1.0):
        n = int(len(source) * frac)
        tracemalloc.start()
        suite(source[:n], output[:n], reference[:n], radius=args.radius)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  {args.minutes * frac:5.2f} min   {peak / 2**20:8.1f} MiB")

    if args.cqt:
        cfg = tm.FeatureConfig(content_backend="cqt")
        cqt_s, _ = best_of(lambda: tm.extract_features(source, sample_rate=SR, config=cfg), 1)
        print(f"\nfeatures of one signal with content_backend='cqt' (librosa.cqt): {cqt_s:.3f} s")

    if not args.no_exact:
        import librosa

        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.process_time()
        D = librosa.sequence.dtw(X=a.T, Y=b.T, metric="euclidean", backtrack=False)
        exact_s = time.process_time() - t0
        exact = float(D[-1, -1])
        del D
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("\nlibrosa.sequence.dtw (exact, same chroma inputs)")
        print(f"  CPU time                   {exact_s:8.3f} s   "
              f"(fastdtw: {dtw_s:.3f} s, {exact_s / dtw_s:.0f}x faster)")
        print(f"  path cost                  {exact:8.2f}     (fastdtw within {100 * (cost / exact - 1):.3f} %)")
        print(f"  peak RSS                   {rss1:8.0f} MB  (before: {rss0:.0f} MB)")
        for r in args.radii:
            r_s, (r_cost, _) = best_of(lambda r=r: tm.dtw(a, b, radius=r), 1)
            print(f"  fastdtw radius {r:<3}         {r_s:8.3f} s   path cost within {100 * (r_cost / exact - 1):.3f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
