"""``musebench tasks`` and ``musebench models``: what is available."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tasks", help="list tasks (`tasks show NAME` for one)",
                       description="List the task definitions (shipped, and your own from `datasets add`): "
                                   "version, family, dataset with its parameters and split, primary metric, "
                                   "and every metric.")
    p.add_argument("--family", help="only this family (transcription, translation, generation)")
    p.set_defaults(func=tasks_main)
    tsub = p.add_subparsers(dest="tasks_command", metavar="SUBCOMMAND")
    s = tsub.add_parser("show", help="one task in full", description="Show one task in full: description, "
                        "dataset and parameters (with the dataset's defaults), split, sample rate, metrics, "
                        "metric parameters, file and sha256.")
    s.add_argument("name", help="task name or path to a task YAML")
    s.set_defaults(func=task_show_main)
    p = sub.add_parser("models", help="list models (`models show NAME` for one)",
                       description="List registered models per task family "
                       "(built-in and from the musebench.models entry point group).")
    p.add_argument("--family", help="only this family")
    p.set_defaults(func=models_main)
    msub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    s = msub.add_parser("show", help="one model and its parameters", description="Show one model: family, "
                        "version, description, and its parameters (--param KEY=VALUE of `musebench run`) with "
                        "their types and defaults -- the declaration `musebench run` checks parameters against.")
    s.add_argument("name", help="model name")
    s.add_argument("--family", dest="show_family", help="only this family (a name such as 'oracle' exists in several)")
    s.set_defaults(func=model_show_main)


def _dataset_label(task) -> str:
    params = ",".join(f"{k}={v}" for k, v in sorted(task.dataset_params.items()))
    return f"{task.dataset}[{params}]" if params else task.dataset


def tasks_main(args: argparse.Namespace) -> int:
    from ..tasks import all_tasks

    rows = [t for t in all_tasks().values() if args.family in (None, t.family)]
    width = max((len(t.name) for t in rows), default=4)
    for t in sorted(rows, key=lambda t: (t.family, t.name)):
        print(f"{t.name:<{width}}  v{t.version}  {t.family:<13} {_dataset_label(t)}/{t.split}  primary {t.primary}")
        print(f"{'':<{width}}  metrics: {', '.join(t.metrics)}")
    return 0


def task_show_main(args: argparse.Namespace) -> int:
    from ..datasets import DATASETS
    from ..tasks import get_task

    t = get_task(args.name)
    defaults: dict = {}
    try:
        defaults = dict(getattr(DATASETS.get(t.dataset), "default_params", {}) or {})
    except Exception:  # noqa: BLE001 - an unavailable dataset still shows the task
        pass
    print(f"{t.name} v{t.version} ({t.family})")
    if t.description:
        print(f"  {t.description}")
    print(f"  dataset:        {t.dataset}, split {t.split}")
    params = {**defaults, **t.dataset_params}
    if params:
        print("  dataset params: " + ", ".join(
            f"{k}={v!r}" + ("" if k in t.dataset_params else " (dataset default)") for k, v in sorted(params.items())))
    print(f"  sample rate:    {t.sample_rate or 'the model’s own'}")
    print(f"  primary metric: {t.primary}")
    print(f"  metrics:        {', '.join(t.metrics)}")
    if t.params:
        print("  metric params:  " + ", ".join(f"{k}={v!r}" for k, v in sorted(t.params.items())))
    print(f"  file:           {t.path} (sha256 {t.yaml_sha256[:12]})")
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


def model_show_main(args: argparse.Namespace) -> int:
    from ..errors import UnknownNameError
    from ..models import get_model_class, model_names

    families = [f for f, names in model_names(args.show_family).items() if args.name in names]
    if not families:
        known = sorted({n for names in model_names(args.show_family).values() for n in names})
        raise UnknownNameError("model", args.name, known)
    for k, family in enumerate(families):
        cls = get_model_class(args.name, family=family)
        if k:
            print()
        print(f"{args.name} ({family}) v{cls.version}")
        if cls.description:
            print(f"  {cls.description}")
        spec = cls.parameters()
        if spec is None:
            print("  parameters: not declared (any --param is passed to the model unchecked)")
            continue
        if not spec:
            print("  parameters: none")
            continue
        print("  parameters (--param KEY=VALUE):")
        rows = [(name, p.type_name(), "required" if p.required else repr(p.default), p.help)
                for name, p in spec.items()]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for name, type_name, default, help_text in rows:
            line = f"    {name:<{widths[0]}}  {type_name:<{widths[1]}}  {default:<{widths[2]}}  {help_text}"
            print(line.rstrip())
    return 0
