"""``musebench score``: transcription scores of one estimated MIDI file against a reference."""
from __future__ import annotations

import argparse
import json
import math
import sys
import warnings

DESCRIPTION = """\
Score an estimated MIDI transcription against a reference MIDI file with mir_eval's note
metrics and MT3's frame and multi-instrument conventions (see docs/transcription.md).
Drum notes are left out of the note and frame scores and scored on onsets only.
"""

EPILOG = """\
examples:
  musebench score --ref ref.mid --est est.mid
  musebench score --ref ref.mid --est est.mid --sustain-pedal --json
  musebench score --ref ref.mid --est est.mid --onset-tolerance 0.1
"""


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "score", help="score an estimated MIDI transcription against a reference",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ref", required=True, metavar="REF.mid", help="reference MIDI file")
    p.add_argument("--est", required=True, metavar="EST.mid", help="estimated MIDI file")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    p.add_argument("--sustain-pedal", action="store_true",
                   help="extend note offsets while the sustain pedal (CC64) is down, in both files "
                        "(MAESTRO/MT3 convention for piano references)")
    p.add_argument("--onset-tolerance", type=_positive_float, default=0.05, metavar="S",
                   help="onset tolerance in seconds (default: 0.05)")
    p.add_argument("--pitch-tolerance", type=_positive_float, default=50.0, metavar="CENTS",
                   help="pitch tolerance in cents (default: 50)")
    p.add_argument("--offset-ratio", type=_positive_float, default=0.2, metavar="R",
                   help="offset tolerance as a share of the reference duration (default: 0.2)")
    p.add_argument("--offset-min-tolerance", type=_positive_float, default=0.05, metavar="S",
                   help="lower bound of the offset tolerance in seconds (default: 0.05)")
    p.add_argument("--velocity-tolerance", type=_positive_float, default=0.1, metavar="V",
                   help="tolerance on normalised velocities (default: 0.1)")
    p.add_argument("--frame-rate", type=_positive_float, default=62.5, metavar="FPS",
                   help="piano-roll frames per second for frame_f1 (default: 62.5)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..metrics.transcription import evaluate
    from ..midi import read_midi

    ref = read_midi(args.ref, sustain_pedal=args.sustain_pedal)
    est = read_midi(args.est, sustain_pedal=args.sustain_pedal)
    params = {"onset_tolerance": args.onset_tolerance, "pitch_tolerance": args.pitch_tolerance,
              "offset_ratio": args.offset_ratio, "offset_min_tolerance": args.offset_min_tolerance,
              "velocity_tolerance": args.velocity_tolerance, "frame_rate": args.frame_rate}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = evaluate(ref, est, **params)
    for w in caught:
        print(f"musebench: warning: {w.message}", file=sys.stderr)
    if args.json:
        print(json.dumps({"ref": str(args.ref), "est": str(args.est), "sustain_pedal": args.sustain_pedal,
                          "n_ref": len(ref), "n_est": len(est), "params": params, "scores": scores}, indent=2))
        return 0
    print(f"reference: {args.ref} ({len(ref)} notes, {int(ref.is_drum.sum())} drum)")
    print(f"estimate:  {args.est} ({len(est)} notes, {int(est.is_drum.sum())} drum)")
    width = max(len(name) for name in scores)
    print(f"{'metric':<{width}}  score")
    for name, value in scores.items():
        print(f"{name:<{width}}  {value:.4f}")
    return 0
