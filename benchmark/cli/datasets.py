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
                       description="Re-hash every file the manifest lists; print each missing, changed or "
                                   "extra file on its own line, then the fingerprint of each split. "
                                   "Exit 0 when nothing is missing or changed, 1 otherwise.")
    p.add_argument("name", help="dataset name")
    p.add_argument("--data-dir", metavar="DIR", help="root of the dataset (default: its resolved root)")
    p.add_argument("--split", metavar="S", help="check only this split")
    p.add_argument("--param", metavar="KEY=VALUE", action="append", default=[],
                   help="dataset parameter for the fingerprints, e.g. variant=ensemble (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("register", help="record where a local copy of a dataset lives",
                       description="Record PATH as the root of dataset NAME in the user config file "
                                   "($MUSEBENCH_CONFIG); later commands use it unless overridden.")
    p.add_argument("name", help="dataset name")
    p.add_argument("path", help="directory holding the dataset in its official layout")
    p.set_defaults(func=cmd_register)


# ---- helpers --------------------------------------------------------------------------------
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
    for r in rows:
        print()
        print(f"{r['name']} license: {r['license'] or '(none stated)'}")
        citation = (r["citation"] or "(no citation)").strip().splitlines()
        print(f"{r['name']} citation: {citation[0]}")
        for line in citation[1:]:
            print(f"  {line}")
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

    ds = _dataset(args.name, args.data_dir, _params(args.param))
    if args.split:
        ds.check_split(args.split)
    report = ds.verify(split=args.split, progress=not args.quiet)
    for line in report.lines():
        print(line)
    status = "ok" if report.ok else f"FAILED ({len(report.missing)} missing, {len(report.changed)} changed)"
    print(f"{ds.name}: {report.checked} files checked under {report.root}: {status}"
          + (f", {len(report.extra)} extra" if report.extra else ""))
    params = ",".join(f"{k}={v}" for k, v in sorted(ds.params.items()))
    label = f"{ds.name}[{params}]" if params else ds.name
    for split in ([args.split] if args.split else ds.splits):
        try:
            fingerprint = ds.fingerprint(split)
        except MuseBenchError as exc:
            fingerprint = f"unavailable ({exc})"
        print(f"{label} {split} fingerprint: {fingerprint}")
    return 0 if report.ok else 1


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
