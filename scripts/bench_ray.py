#!/usr/bin/env python
"""Speed-up of a Ray run with 1 and 2 workers over a local run, on a CPU-bound model.

Each configuration runs cold in its own process through the real runner; see
:mod:`musebench.bench.ray_scaling` for what is measured. Usage::

    python scripts/bench_ray.py                                   # basic-pitch, 1 thread/worker, synth-piano
    python scripts/bench_ray.py --split train                     # the same on 32 items
    python scripts/bench_ray.py --model transkun --param num_threads=1 --limit 4
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path



def main(argv: list[str] | None = None) -> int:
    from musebench.bench.common import describe_machine, machine_info
    from musebench.bench.ray_scaling import TASK, run, tables

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="basic-pitch", help="model (default basic-pitch)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="model parameter, VALUE parsed as JSON (default: num_threads=1)")
    parser.add_argument("--task", default=TASK, help=f"task (default {TASK})")
    parser.add_argument("--split", help="run the task on this split instead (e.g. train: 32 items)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Ray worker counts (default 1 2)")
    parser.add_argument("--limit", type=int, help="only the first N items")
    parser.add_argument("--local-threads", type=int, default=None, metavar="N",
                        help="add a reference row: local with num_threads=N")
    parser.add_argument("--json", type=Path, help="also write the measurements to this JSON file")
    args = parser.parse_args(argv)
    params = {}
    for pair in args.param:
        key, _, value = pair.partition("=")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    machine = machine_info()
    result = run(model=args.model, model_params=params or None, task=args.task, split=args.split,
                 workers=args.workers, limit=args.limit, local_threads=args.local_threads)
    print(f"machine: {describe_machine(machine)}")
    for table in tables(result):
        print(table.render())
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, **result}, indent=2))
    return 0 if all(r["metrics_equal_local"] for r in result["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
