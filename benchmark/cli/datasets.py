"""``musebench datasets``: list, prepare, download, verify and register datasets."""
from __future__ import annotations

import argparse
import inspect
import json
from pathlib import Path
from typing import Any

HELP = "list, prepare, verify and register datasets"
STATES = ("registered", "prepared", "verified")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "datasets", help=HELP, description=HELP + ".",
        epilog="Data lives under $MUSEBENCH_DATA (default: the user cache dir); a dataset's root can be "
               "set with $MUSEBENCH_<NAME>_ROOT, `musebench datasets register`, or --data-dir.")
    sub = parser.add_subparsers(dest="datasets_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])

    p = sub.add_parser("list", help="show every registered dataset, its splits and local state",
                       description="Show every registered dataset: split sizes, licence, local root and "
                                   "state (registered = root recorded with `datasets register`, prepared = "
                                   "every manifest file present, verified = checksums passed for the "
                                   "current manifest), then citations and licences.")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="one dataset: splits, state, parameters, licence and citation",
                       description="Show one dataset: title, splits and sizes, local root and state, its "
                                   "parameters, where its split comes from, licence, homepage and citation.")
    p.add_argument("name", help="dataset name")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser(
        "add", help="make a dataset and a task from your own folder of audio + MIDI",
        description="Scan DIR for audio files (wav, flac, mp3, ogg, ...) each with a MIDI file of the same stem "
                    "(x.wav + x.mid or x.midi), in one folder or in subfolders. Splits come from a CSV with a "
                    "`split` column (MAESTRO style), or from top-level folders named train/validation/test; "
                    "otherwise every item is in test. Freeze the items in a manifest (sha256 and size of every "
                    "file, durations, programs and drum flags read from the MIDI) in the MuseBench config folder, "
                    "register NAME, and write a transcription task NAME with the standard metrics (multi-"
                    "instrument ones when the MIDI has several programs or drums). Then `musebench run --task "
                    "NAME --model M`, `leaderboard --task NAME`, `datasets verify NAME` and `check` work.",
        epilog="Problems (audio without MIDI, MIDI without audio, unreadable files, duplicate stems) are one line "
               "each; the items are skipped and listed in a summary, or the command fails with --strict. Exit "
               "0 when the dataset was added (even with skipped items), 2 when nothing was written.")
    p.add_argument("name", help="name of the new dataset and task (lower-case letters, digits, - _ .)")
    p.add_argument("dir", metavar="DIR", help="folder of your audio (+ MIDI) files")
    p.add_argument("--family", choices=("transcription", "generation"), default="transcription",
                   help="transcription (audio + MIDI pairs, default) or generation (audio alone: a reference "
                        "set for the generation metrics)")
    p.add_argument("--strict", action="store_true", help="fail on the first problem instead of skipping it")
    p.add_argument("--update", action="store_true",
                   help="freeze a changed folder anew (new fingerprint; old results become another data version)")
    p.add_argument("--task-yaml", metavar="PATH",
                   help="write the task YAML to PATH for you to edit (run it with --task PATH) instead of "
                        "registering task NAME")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("prepare", help="build a dataset MuseBench can make itself (e.g. synth)",
                       description="Build a dataset that MuseBench can make itself (e.g. synth) into its "
                                   "root, skipping files already present with the right checksum, then "
                                   "verify it against the shipped manifest.")
    p.add_argument("name", help="dataset name, e.g. synth")
    p.add_argument("--data-dir", metavar="DIR", help="root of the dataset (default: its resolved root)")
    p.add_argument("--force", action="store_true", help="regenerate every file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("download", help="fetch a public dataset where MuseBench knows how",
                       description="Download a dataset into its root when the dataset module knows how; "
                                   "otherwise say where to get it and how to register the local copy.")
    p.add_argument("name", help="dataset name")
    p.add_argument("--data-dir", metavar="DIR", help="root of the dataset (default: its resolved root)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("verify", help="check a local copy against the shipped manifest",
                       description="Re-hash every file the manifest lists; print a summary (counts of missing, "
                                   "changed, unusable and extra files, and the first ten paths of each; every "
                                   "path with --all), then the fingerprint of each split. "
                                   "Exit 0 when nothing is missing or changed, 1 otherwise.")
    p.add_argument("name", help="dataset name")
    p.add_argument("--data-dir", metavar="DIR", help="root of the dataset (default: its resolved root)")
    p.add_argument("--split", metavar="S", help="check only this split")
    p.add_argument("--dataset-param", "--param", dest="param", metavar="KEY=VALUE", action="append", default=[],
                   help="dataset parameter for the fingerprints, e.g. sustain_pedal=true (repeatable; the same "
                        "values as a task's dataset_params give the task's fingerprint)")
    p.add_argument("--task", metavar="TASK", help="use the dataset parameters of this task (so the fingerprints "
                                                  "printed are the ones its results carry)")
    p.add_argument("--all", action="store_true", help="print every missing, changed or extra path")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("register", help="record where a local copy of a dataset lives",
                       description="Record PATH as the root of dataset NAME in the user config file "
                                   "($MUSEBENCH_CONFIG); later commands use it unless overridden.")
    p.add_argument("name", help="dataset name")
    p.add_argument("path", help="directory holding the dataset in its official layout")
    p.set_defaults(func=cmd_register)


# ---- helpers --------------------------------------------------------------------------------
SUMMARY_PATHS = 10


def summary_lines(report, *, limit: int = SUMMARY_PATHS) -> list[str]:
    """Counts of missing, changed, unusable and extra files, with the first ``limit`` paths of each."""
    groups = [("missing", report.missing), ("changed (checksum or size differs from the manifest)", report.changed),
              ("unusable", [f"{rel} ({why})" for rel, why in getattr(report, "problems", [])]),
              ("extra (not in the manifest)", report.extra)]
    out = []
    for label, paths in groups:
        if not paths:
            continue
        out.append(f"{len(paths)} {label}" + (f"; the first {limit}:" if len(paths) > limit else ":"))
        out += [f"  {report.root / p}" for p in paths[:limit]]
        if len(paths) > limit:
            out.append(f"  ... {len(paths) - limit} more (--all lists every path)")
    return out


def _params(pairs: list[str]) -> dict[str, str]:
    from ..errors import ConfigError

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param {pair!r}: expected KEY=VALUE")
        out[key] = value
    return out


def _dataset(name: str, data_dir: str | None, params: dict[str, str] | None = None):
    from ..datasets import get_dataset

    params = dict(params or {})
    if data_dir:
        params["root"] = data_dir
    return get_dataset(name, **params)


def _call_with_supported(method, **kwargs: Any) -> Any:
    """Call ``method`` with the keyword arguments its signature accepts."""
    accepted = inspect.signature(method).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return method(**kwargs)
    return method(**{k: v for k, v in kwargs.items() if k in accepted})


def _state(ds) -> dict[str, bool]:
    from ..datasets.base import _registered_roots
    from ..errors import MuseBenchError

    try:
        expected = ds.expected_files()
        root = ds.root
        prepared = all((root / rel).is_file() for rel in expected) if expected else root.is_dir()
        verified = prepared and all(ds.is_verified(s) for s in ds.splits)
    except (MuseBenchError, OSError):
        prepared = verified = False
    return {"registered": ds.name in _registered_roots(), "prepared": prepared, "verified": verified}


def _describe(name: str) -> dict[str, Any]:
    """What ``datasets list`` shows of one dataset; problems go to ``note`` instead of failing."""
    from ..datasets import DATASETS
    from ..errors import MuseBenchError

    info: dict[str, Any] = {"name": name, "splits": [], "sizes": {}, "citation": "", "license": "",
                            "root": "", "registered": False, "prepared": False, "verified": False, "note": ""}
    try:
        cls = DATASETS.get(name)
        info.update({"splits": list(cls.splits), "citation": cls.citation, "license": cls.license})
        ds = cls()
        info["root"] = str(ds.root)
        info.update(_state(ds))
        described = ds.describe()
        info.update({k: described[k] for k in ("splits", "sizes", "citation", "license", "root") if k in described})
    except (MuseBenchError, ImportError, OSError) as exc:
        info["note"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return info


# ---- commands -------------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    from ..datasets import DATASETS

    rows = [_describe(name) for name in DATASETS.names()]
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
        return 0
    table = [("NAME", "SPLITS (items)", "STATE", "LICENSE", "ROOT")]
    for r in rows:
        sizes = ", ".join(f"{s} {r['sizes'].get(s, '?')}" for s in r["splits"])
        state = ", ".join(k for k in STATES if r[k]) or ("not found" if r["note"] else "not prepared")
        licence = r["license"] if len(r["license"]) <= 40 else r["license"][:37] + "..."
        table.append((r["name"], sizes, state, licence or "-", r["root"]))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    notes = [r for r in rows if r["note"]]
    if notes:
        print()
        for r in notes:
            print(f"{r['name']}: {r['note']}")
    print()
    print("Citation, licence and parameters of one dataset: musebench datasets show NAME")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ..datasets import DATASETS

    DATASETS.get(args.name)  # unknown names fail with suggestions
    info = _describe(args.name)
    cls = DATASETS.get(args.name)
    info["title"] = getattr(cls, "title", "") or args.name
    info["homepage"] = getattr(cls, "homepage", "")
    info["params"] = dict(getattr(cls, "default_params", {}) or {})
    info["param_choices"] = {k: list(v) for k, v in (getattr(cls, "param_choices", {}) or {}).items()}
    try:
        info["split_source"] = cls().describe().get("split_source", "")
    except Exception:  # noqa: BLE001 - shown as empty; `list` reports the problem
        info["split_source"] = ""
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True, default=str))
        return 0
    state = ", ".join(k for k in STATES if info[k]) or ("not found" if info["note"] else "not prepared")
    print(f"{info['name']}: {info['title']}")
    print("  splits:     " + ", ".join(f"{s} {info['sizes'].get(s, '?')}" for s in info["splits"]))
    if info["split_source"]:
        print(f"  split from: {info['split_source']}")
    print(f"  root:       {info['root'] or '-'} ({state})")
    if info["note"]:
        print(f"  note:       {info['note']}")
    if info["params"]:
        params = []
        for key, default in sorted(info["params"].items()):
            choices = info["param_choices"].get(key)
            params.append(f"{key}={default!r}" + (f" (one of {', '.join(repr(c) for c in choices)})" if choices else ""))
        print("  parameters: " + "; ".join(params) + "  (set with --dataset-param KEY=VALUE or a task's dataset_params)")
    print(f"  licence:    {info['license'] or '(none stated)'}")
    if info["homepage"]:
        print(f"  homepage:   {info['homepage']}")
    citation = (info["citation"] or "").strip()
    if citation:
        print("  citation:")
        for line in citation.splitlines():
            print(f"    {line}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from ..datasets.own import add_dataset

    result = add_dataset(args.name, args.dir, family=args.family, strict=args.strict, update=args.update,
                         task_yaml_path=args.task_yaml, progress=not args.quiet)
    scan = result.scan
    sizes = ", ".join(f"{s} {n}" for s, n in scan.split_sizes().items())
    verb = {"added": "added", "updated": "updated", "unchanged": "unchanged (already added)"}[result.status]
    print(f"{args.name}: {verb}: {len(scan.items)} item(s) from {scan.root} ({sizes}; splits from {scan.split_source})")
    if scan.problems:
        print(f"{args.name}: skipped {len(scan.problems)} problem(s):")
        for problem in scan.problems:
            print(f"  {problem}")
    print(f"{args.name}: manifest {result.manifest_path}")
    for split, fp in result.fingerprints.items():
        print(f"{args.name} {split} fingerprint: {fp}")
    if args.task_yaml:
        print(f"{args.name}: task YAML written to {result.task_path}; run it with "
              f"`musebench run --task {result.task_path} --model MODEL`")
    else:
        kind = "generation" if args.family == "generation" else "transcription"
        print(f"{args.name}: {kind} task {args.name} ({result.task_path}); next: "
              f"`musebench run --task {args.name} --model MODEL`")
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    from ..errors import ConfigError

    ds = _dataset(args.name, args.data_dir)
    prepare = getattr(ds, "prepare", None)
    if prepare is None:
        raise ConfigError(f"dataset {args.name!r} cannot be prepared by MuseBench; get a copy"
                          f"{' from ' + ds.homepage if ds.homepage else ''} and run "
                          f"`musebench datasets register {args.name} PATH`")
    result = _call_with_supported(prepare, root=args.data_dir, progress=not args.quiet, force=args.force)
    checked = getattr(result, "checked", None)
    detail = f" ({checked} files verified)" if checked is not None else ""
    print(f"{ds.name}: prepared under {ds.root}{detail}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from ..errors import ConfigError

    ds = _dataset(args.name, args.data_dir)
    download = getattr(ds, "download", None)
    if download is None:
        how = (f"run `musebench datasets prepare {args.name}`" if hasattr(ds, "prepare")
               else f"get a copy{' from ' + ds.homepage if ds.homepage else ''} and run "
                    f"`musebench datasets register {args.name} PATH`")
        raise ConfigError(f"dataset {args.name!r} cannot be downloaded by MuseBench; {how}")
    _call_with_supported(download, root=args.data_dir, progress=not args.quiet)
    print(f"{ds.name}: downloaded to {ds.root}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from ..errors import MuseBenchError

    params: dict[str, Any] = {}
    if args.task:
        from ..tasks import get_task

        task = get_task(args.task)
        if task.dataset != args.name:
            from ..errors import ConfigError

            raise ConfigError(f"--task {args.task}: that task is on dataset {task.dataset!r}, not {args.name!r}")
        params.update(task.dataset_params)
    params.update(_params(args.param))
    ds = _dataset(args.name, args.data_dir, params)
    if args.split:
        ds.check_split(args.split)
    report = ds.verify(split=args.split, progress=not args.quiet)
    for line in (report.lines() if args.all else summary_lines(report)):
        print(line)
    status = "ok" if report.ok else f"FAILED ({len(report.missing)} missing, {len(report.changed)} changed)"
    print(f"{ds.name}: {report.checked} files checked under {report.root}: {status}"
          + (f", {len(report.extra)} extra" if report.extra else ""))
    shown = ",".join(f"{k}={v}" for k, v in sorted(ds.params.items()))
    label = f"{ds.name}[{shown}]" if shown else ds.name
    for split in ([args.split] if args.split else ds.splits):
        try:
            fingerprint = ds.fingerprint(split)
        except MuseBenchError as exc:
            fingerprint = f"unavailable ({exc})"
        print(f"{label} {split} fingerprint: {fingerprint}")
    if not args.task and not args.param:
        _print_task_fingerprints(args, ds)
    return 0 if report.ok else 1


def _print_task_fingerprints(args: argparse.Namespace, ds) -> None:
    """The fingerprint each task on this dataset records (its own dataset_params), when they
    differ from the dataset defaults printed above."""
    from ..errors import MuseBenchError
    from ..tasks import all_tasks

    for task in sorted(all_tasks().values(), key=lambda t: t.name):
        if task.dataset != ds.name or (args.split and task.split != args.split):
            continue
        try:
            other = _dataset(args.name, args.data_dir, dict(task.dataset_params))
            if other.params == ds.params:
                continue
            fingerprint = other.fingerprint(task.split)
        except MuseBenchError as exc:
            fingerprint = f"unavailable ({exc})"
        params = ",".join(f"{k}={v}" for k, v in sorted(task.dataset_params.items()))
        print(f"task {task.name} ({ds.name}[{params}]) {task.split} fingerprint: {fingerprint}")


def cmd_register(args: argparse.Namespace) -> int:
    from ..datasets import DATASETS, register_root
    from ..errors import MissingDataError

    DATASETS.get(args.name)  # unknown names fail with suggestions
    path = Path(args.path).expanduser()
    if not path.is_dir():
        raise MissingDataError(f"{path}: not a directory; cannot register it as dataset {args.name!r}")
    check_layout = getattr(DATASETS.get(args.name)(root=path), "check_layout", None)
    if check_layout is not None:
        check_layout()  # a folder that is not the dataset fails here with one line naming what is missing
    config = register_root(args.name, path)
    print(f"{args.name}: registered {path.resolve()} (in {config})")
    return 0
