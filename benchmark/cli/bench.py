"""``musebench bench``: where the time goes (scoring, DTW, harness overhead, models, batching)."""
from __future__ import annotations

import argparse
from pathlib import Path

SECTION_HELP = {
    "scoring": "note scoring vs mir_eval at 1k/5k/20k notes: time, peak memory, identical scores",
    "dtw": "fastdtw (radius 1 and 10) vs librosa's exact DTW on 1k/5k/10k frames of rendered chroma: "
           "time, memory, path cost",
    "overhead": "harness overhead as a share of model time: oracle and basic-pitch on synth-piano",
    "models": "real-time factor of basic-pitch and transkun on a synth-piano item",
    "batching": "basic-pitch and transkun on 4 items, one by one vs batched across items: RTF, GPU utilisation",
}


def _sections(text: str) -> list[str]:
    from ..bench import SECTIONS
    from ..errors import UnknownNameError

    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one section")
    for name in names:
        if name not in SECTIONS:
            raise argparse.ArgumentTypeError(str(UnknownNameError("bench section", name, SECTIONS)))
    return names


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench", help="measure scoring, DTW, harness overhead and model speed",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=("Run the performance measurements and print one table per section (progress on stderr, "
                     "tables on stdout). Every measurement runs in a fresh process, so memory peaks and import "
                     "costs are its own. The full run takes several minutes and ~13 GB of memory (mir_eval at "
                     "20,000 notes); --quick uses tiny sizes. The overhead and models sections need the synthetic "
                     "data (`musebench datasets prepare synth`).\n\nsections:\n"
                     + "\n".join(f"  {k:<9} {v}" for k, v in SECTION_HELP.items())))
    p.add_argument("--sections", type=_sections, default=list(SECTION_HELP), metavar="LIST",
                   help=f"comma-separated sections to run (default: {','.join(SECTION_HELP)})")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes (scoring 300/1k notes, DTW 300/1k synthetic frames, 2 items, a 4-s excerpt without "
                        "warm-up): a smoke run, ~4 min (transkun takes most of it)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write every measurement to FILE (JSON)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import json

    from ..bench import render, run_sections
    from ..io_utils import atomic_write_text

    report = run_sections(sections=args.sections, quick=args.quick)
    print(render(report), flush=True)
    if args.json:
        atomic_write_text(args.json, json.dumps(report, indent=2, allow_nan=False) + "\n")
    scoring = report["sections"].get("scoring")
    return 1 if scoring is not None and not scoring["identical"] else 0
