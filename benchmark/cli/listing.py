"""``musebench tasks`` and ``musebench models``: what is available."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tasks", help="list tasks", description="List the task definitions in tasks/.")
    p.add_argument("--family", help="only this family (transcription, translation, generation)")
    p.set_defaults(func=tasks_main)
    p = sub.add_parser("models", help="list models", description="List registered models per task family "
                       "(built-in and from the musebench.models entry point group).")
    p.add_argument("--family", help="only this family")
    p.set_defaults(func=models_main)


def tasks_main(args: argparse.Namespace) -> int:
    from ..tasks import all_tasks

    rows = [t for t in all_tasks().values() if args.family in (None, t.family)]
    width = max((len(t.name) for t in rows), default=4)
    for t in sorted(rows, key=lambda t: (t.family, t.name)):
        print(f"{t.name:<{width}}  v{t.version}  {t.family:<13} {t.dataset}/{t.split}  "
              f"{', '.join(t.metrics[:4])}{' ...' if len(t.metrics) > 4 else ''}")
    return 0


def models_main(args: argparse.Namespace) -> int:
    from ..models import get_model_class, model_names

    for family, names in model_names(args.family).items():
        print(f"{family}:")
        for name in names:
            try:
                desc = get_model_class(name, family=family).description
            except Exception as exc:  # a broken third-party model must not hide the others
                desc = f"(unavailable: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
            print(f"  {name:<16} {desc}")
    return 0
