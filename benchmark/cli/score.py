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

Reproducing a run: `--run RUN_DIR --item ID` rescores one item of a run exactly as the run
did (the task's parameters, the dataset's reference, the stored prediction); `--task NAME`
scores a MIDI pair with the task's parameters and its reference convention (sustain pedal on
the reference only, as a run reads it). A prediction written by a run (<id>.mid) is read
through its exact-notes companion (<id>.notes.json) when that is beside it, as a run reads it.
"""

EPILOG = """\
examples:
  musebench score --ref ref.mid --est est.mid
  musebench score --ref ref.mid --est est.mid --sustain-pedal --json
  musebench score --ref ref.mid --est est.mid --onset-tolerance 0.1
  musebench score --task maestro-v3 --ref MAESTRO/2004/x.midi --est results/runs/.../predictions/x.mid
  musebench score --run results/runs/synth-piano/transkun/RUNID --item synth-piano-0003
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
    p.add_argument("--ref", metavar="REF.mid", help="reference MIDI file")
    p.add_argument("--est", metavar="EST.mid", help="estimated MIDI file")
    p.add_argument("--run", metavar="RUN_DIR", help="a run directory: rescore --item as the run did")
    p.add_argument("--item", metavar="ID", help="with --run: the item to rescore")
    p.add_argument("--task", metavar="NAME", help="use this task's metric parameters and reference convention")
    p.add_argument("--data-dir", help="with --run: where the task's dataset lives (default: as `musebench run`)")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    p.add_argument("--sustain-pedal", action="store_true", default=None,
                   help="extend the REFERENCE's note offsets while its sustain pedal (CC64) is down, as a run "
                        "reads a dataset with sustain_pedal: true (MAESTRO/MT3); default: the task's setting "
                        "with --task, else off")
    p.add_argument("--est-sustain-pedal", action="store_true",
                   help="also extend the estimate's offsets by its own pedal (as the predictions model's "
                        "sustain_pedal=true)")
    p.add_argument("--onset-tolerance", type=_positive_float, default=None, metavar="S",
                   help="onset tolerance in seconds (default: the task's, else 0.05)")
    p.add_argument("--pitch-tolerance", type=_positive_float, default=None, metavar="CENTS",
                   help="pitch tolerance in cents (default: the task's, else 50)")
    p.add_argument("--offset-ratio", type=_positive_float, default=None, metavar="R",
                   help="offset tolerance as a share of the reference duration (default: the task's, else 0.2)")
    p.add_argument("--offset-min-tolerance", type=_positive_float, default=None, metavar="S",
                   help="lower bound of the offset tolerance in seconds (default: the task's, else 0.05)")
    p.add_argument("--velocity-tolerance", type=_positive_float, default=None, metavar="V",
                   help="tolerance on normalised velocities (default: the task's, else 0.1)")
    p.add_argument("--frame-rate", type=_positive_float, default=None, metavar="FPS",
                   help="piano-roll frames per second for frame_f1 (default: the task's, else 62.5)")
    p.set_defaults(func=run)


_FLAGS = {"onset_tolerance": "onset_tolerance", "pitch_tolerance": "pitch_tolerance",
          "offset_ratio": "offset_ratio", "offset_min_tolerance": "offset_min_tolerance",
          "velocity_tolerance": "velocity_tolerance", "frame_rate": "frame_rate"}


def _from_run(args: argparse.Namespace):
    """Reference, estimate, parameters and the recorded scores of one item of a run."""
    from pathlib import Path

    from ..datasets import get_dataset
    from ..errors import ConfigError, MissingDataError
    from ..io_utils import read_json
    from ..midi import read_prediction
    from ..results import load_run
    from ..tasks import get_task

    if not args.item:
        raise ConfigError("score: --run needs --item ID")
    run = load_run(args.run)
    t = run.data["task"]  # what the run recorded: dataset, its parameters, split, metric parameters
    try:
        current = get_task(run.task).yaml_sha256
    except Exception:  # a task given to `run` as a YAML path is not in the registry
        current = None
    if current and t.get("yaml_sha256") not in (None, current):
        print(f"musebench: warning: task {run.task} changed since the run (YAML sha256 differs); "
              "scoring with the run's recorded parameters", file=sys.stderr)
    dataset = get_dataset(t["dataset"], root=args.data_dir, **(t.get("dataset_params") or {}))
    items = {it.id: it for it in dataset.items(t["split"])}
    if args.item not in items:
        raise MissingDataError(f"{run.path}: item {args.item!r} is not in split {t['split']!r} of {t['dataset']}")
    pred = Path(run.path) / "predictions" / f"{args.item}.mid"
    ref = dataset.load_notes(items[args.item])
    est = read_prediction(pred)
    record = run.path / "items" / f"{args.item}.json"
    recorded = read_json(record, what="item record").get("scores") if record.is_file() else None
    params = {**(run.data["task"].get("params") or {}), "track_specs": getattr(dataset, "track_specs", None)}
    return ref, est, params, recorded, str(pred)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..metrics.transcription import evaluate
    from ..midi import read_midi, read_prediction

    recorded = None
    if args.run:
        ref, est, params, recorded, est_name = _from_run(args)
        ref_name = f"{args.run} item {args.item} (the dataset's reference)"
        ref_pedal = None
    else:
        if not args.ref or not args.est:
            raise ConfigError("score: give --ref and --est (or --run RUN_DIR --item ID)")
        params, task_pedal = {}, False
        if args.task:
            from ..tasks import get_task

            from ..datasets import DATASETS

            task = get_task(args.task)
            params = dict(task.params)
            task_pedal = bool(task.dataset_params.get("sustain_pedal", False))
            specs = getattr(DATASETS.get(task.dataset), "track_specs", None) if task.dataset in DATASETS else None
            if specs:
                params["track_specs"] = specs
        ref_pedal = task_pedal if args.sustain_pedal is None else bool(args.sustain_pedal)
        ref = read_midi(args.ref, sustain_pedal=ref_pedal)
        est = read_prediction(args.est, sustain_pedal=args.est_sustain_pedal)
        ref_name, est_name = str(args.ref), str(args.est)
    import inspect

    defaults = {k: v.default for k, v in inspect.signature(evaluate).parameters.items() if k in _FLAGS}
    for flag, key in _FLAGS.items():
        value = getattr(args, flag)
        if value is not None:
            params[key] = value
    params = {**defaults, **params}  # what was used, every default written out
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = evaluate(ref, est, **params)
    for w in caught:
        print(f"musebench: warning: {w.message}", file=sys.stderr)
    if recorded is not None:
        differ = sorted(k for k in recorded if k in scores and recorded[k] != scores[k])
        if differ:
            print(f"musebench: warning: {len(differ)} score(s) differ from the run's record: {', '.join(differ)}",
                  file=sys.stderr)
    if args.json:
        out = {"ref": ref_name, "est": est_name, "sustain_pedal": ref_pedal,
               "est_sustain_pedal": bool(args.est_sustain_pedal), "n_ref": len(ref), "n_est": len(est),
               "params": params, "scores": scores}
        if recorded is not None:
            out["recorded_scores"] = recorded
        print(json.dumps(out, indent=2))
        return 0
    print(f"reference: {ref_name} ({len(ref)} notes, {int(ref.is_drum.sum())} drum)")
    print(f"estimate:  {est_name} ({len(est)} notes, {int(est.is_drum.sum())} drum)")
    width = max(len(name) for name in scores)
    print(f"{'metric':<{width}}  score")
    for name, value in scores.items():
        print(f"{name:<{width}}  {value:.4f}")
    return 0
