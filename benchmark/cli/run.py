"""``musebench run``: run a model on a task and write the run directory."""
from __future__ import annotations

import argparse
import json

from ..errors import ConfigError


def _parse_params(pairs: list[str], *, flag: str = "--param") -> dict:
    params = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"{flag} {pair!r}: expected KEY=VALUE")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


EXIT_CODES = """\
exit status:
  0  every item scored
  3  some items failed (the summary counts them and lists each failure once)
  1  every item failed, or the run could not finish (disk full: rerun to resume)
  2  configuration error, found before anything is written (unknown or ill-typed --param, bad task
     file, --device cuda without CUDA, ...), a model whose load() failed, or a run directory
     that another `musebench run` holds (its PID is named)
"""


def _megabytes(text: str) -> float:
    """``--max-memory``: ``512M``, ``2G``, ``1.5GB``, or a plain number of MiB."""
    import re

    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)i?b?\s*", str(text), re.I)
    if not match:
        raise argparse.ArgumentTypeError(f"not a memory size: {text!r} (e.g. 500M, 2G)")
    scale = {"": 1, "k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 ** 2}[match.group(2).lower()]
    return float(match.group(1)) * scale


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a model on a task", formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=EXIT_CODES, description=(
        "Run MODEL on TASK and write results/runs/<task>/<model>/<run-id>/. The model runs in a supervised "
        "worker process: an item that crashes it, hangs or exceeds --max-memory fails alone. Rerunning the "
        "same command resumes: items already predicted are skipped; failed items are retried, except items "
        "that killed the worker (--retry-failed retries those too)."))
    p.add_argument("--task", required=True, help="task name (see `musebench tasks`) or path to a task YAML")
    p.add_argument("--model", required=True, help="model name (see `musebench models`)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="model parameter (VALUE parsed as JSON when possible); repeatable; "
                        "see `musebench models show MODEL`")
    p.add_argument("--limit", type=int, help="only the first N items of the split")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    p.add_argument("--seed", type=int, default=0, help="run seed (per-item seeds derive from it)")
    p.add_argument("--results-dir", help="results folder (default: $MUSEBENCH_RESULTS or ./results)")
    p.add_argument("--data-dir", help="dataset root for this run (default: registered or cache dir)")
    p.add_argument("--dataset-param", action="append", default=[], metavar="KEY=VALUE",
                   help="dataset parameter over the task's dataset_params, e.g. sustain_pedal=false or "
                        "manifest=PATH (repeatable; values parsed as JSON when possible; checked by the dataset, "
                        "recorded in results.json and the data fingerprint)")
    p.add_argument("--run-id", help="run directory name (default: a hash of the configuration)")
    p.add_argument("--fresh", action="store_true", help="discard an existing run with the same id")
    p.add_argument("--allow-unverified", action="store_true",
                   help="run on data that has not passed `musebench datasets verify` (marked in the result)")
    p.add_argument("--item-timeout", type=float, metavar="SECONDS",
                   help="seconds after which one item is recorded as failed (its worker is killed if the model "
                        "is stuck outside Python); default per family: transcription 120 s + 20 s per second of "
                        "audio, translation 120 s + 40 s per second, generation 300 s + 60 s per second generated")
    p.add_argument("--load-timeout", type=float, metavar="SECONDS",
                   help="seconds the model may take to load before the run stops with exit 2 (its worker is "
                        "killed; default 900)")
    p.add_argument("--max-memory", type=_megabytes, metavar="SIZE",
                   help="kill the model's worker (failing its item) when it uses more resident memory than SIZE "
                        "(e.g. 4G, 500M; local backend)")
    p.add_argument("--retry-failed", action="store_true",
                   help="on resume, also retry items that crashed or hung the model's worker")
    p.add_argument("--worker", default="process", choices=["process", "inline"],
                   help="local backend: 'process' supervises the model in a worker process (default); 'inline' "
                        "runs it in this process, unprotected (debugging, profiling)")
    p.add_argument("--backend", default="local", choices=["local", "ray"], help="where items run")
    p.add_argument("--address", help="Ray cluster address (with --backend ray; default: start a local one)")
    p.add_argument("--workers", type=int, help="Ray workers (default: one per GPU, else per CPU)")
    p.add_argument("--batch-items", type=int, default=1, metavar="N",
                   help="give models that batch across items (e.g. basic-pitch) N items per call, on either "
                        "backend; useful on a GPU (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print results.json instead of the summary")
    p.set_defaults(func=main)


def exit_code(results: dict) -> int:
    """0 every item scored, 3 some failed, 1 all failed (see EXIT_CODES)."""
    if not results["failures"]:
        return 0
    return 1 if results["n_scored"] == 0 else 3


def main(args: argparse.Namespace) -> int:
    from ..runner import RunOptions, run_task

    options = RunOptions(task=args.task, model=args.model, model_params=_parse_params(args.param),
                         device=args.device, limit=args.limit, seed=args.seed, results_dir=args.results_dir,
                         run_id=args.run_id, data_dir=args.data_dir,
                         dataset_params=_parse_params(args.dataset_param, flag="--dataset-param"),
                         allow_unverified=args.allow_unverified,
                         item_timeout=args.item_timeout, load_timeout=args.load_timeout, fresh=args.fresh,
                         progress=not args.no_progress,
                         backend=args.backend, address=args.address, workers=args.workers,
                         batch_items=args.batch_items, max_memory_mb=args.max_memory,
                         retry_failed=args.retry_failed, worker=args.worker)
    outcome = run_task(options)
    res = outcome.results
    if args.json:
        print(json.dumps(res, indent=2, sort_keys=True))
        return exit_code(res)
    print(f"run: {outcome.run_dir}")
    print(f"task {res['task']['name']} v{res['task']['version']}  model {res['model']['name']}  "
          f"items {res['n_scored']}/{res['n_items']}  data {res['dataset']['fingerprint'][:12]}"
          f"{'' if res['dataset']['verified'] else ' (UNVERIFIED)'}")
    width = max((len(k) for k in res["metrics"]), default=10)
    for name, m in res["metrics"].items():
        if m.get("mean") is None:
            continue
        ci = f"[{m['ci_low']:.4f}, {m['ci_high']:.4f}]" if m.get("ci_low") is not None else ""
        print(f"  {name:<{width}}  {m['mean']:.4f}  {ci}")
    from ..results import metric_notes

    for line in metric_notes(res):  # set-level distances: their reference set, floor, small-sample warning
        print(f"  {line}")
    t = res["timing"]
    rtf = f"{t['real_time_factor']:.4f}" if t["real_time_factor"] is not None else "n/a"
    total = (f" (total {t['total_wall_s']:.1f} s over {t['invocations']} invocations)"
             if t.get("invocations", 1) > 1 else "")
    print(f"wall {t['wall_s']:.1f} s{total}  model {t['model_s']:.1f} s  real-time factor {rtf}  "
          f"peak RSS {res['peak_rss_mb']:.0f} MB")
    if res["failures"]:
        print(f"{len(res['failures'])} of {res['n_items']} items failed:")
    for f in res["failures"]:
        print(f"FAILED {f['error']}")
    return exit_code(res)
