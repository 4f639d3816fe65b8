"""Child entry point: ``python -m musebench.bench.child SECTION KIND 'JSON-PARAMS'``.

Runs ``musebench.bench.<SECTION>.CHILDREN[KIND](**params)`` and prints its result as one JSON
line on stdout (see :func:`musebench.bench.common.run_child`).
"""
from __future__ import annotations

import importlib
import json
import sys


def main(argv: list[str] | None = None) -> int:
    section, kind, params = (argv if argv is not None else sys.argv[1:])[:3]
    module = importlib.import_module(f"musebench.bench.{section}")
    result = module.CHILDREN[kind](**json.loads(params))
    sys.stdout.flush()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
