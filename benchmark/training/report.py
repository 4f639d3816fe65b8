"""What every ``musebench train MODEL`` prints when it has written a checkpoint."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def report_checkpoint(*, config: dict[str, Any], weights_path: Path, config_path: Path, n_parameters: int,
                      task: str, model: str, as_json: bool, details: str = "") -> int:
    """Print the checkpoint's config as JSON (``--json``), or two lines: what was written (size,
    parameters, ``details``) and the ``musebench run`` command that evaluates it. Returns 0."""
    if as_json:
        print(json.dumps(config, indent=2, sort_keys=True))
        return 0
    print(f"wrote {weights_path} ({weights_path.stat().st_size / 1e6:.2f} MB, {n_parameters} parameters"
          f"{', ' + details if details else ''}) and {config_path.name}")
    print(f"run it: musebench run --task {task} --model {model} --param checkpoint={weights_path.with_suffix('')}")
    return 0


def parent_record(meta: dict[str, Any], path: Any, **fields: Any) -> dict[str, Any]:
    """What a checkpoint trained ``--init-from`` another records of its parent: the path as given,
    the parent's weights sha256, its steps and seconds, the trainer's own ``fields`` (e.g. its
    learning rate and best validation), and the parent's own ``parent``, so that the whole lineage
    survives the parent file being overwritten."""
    training = meta.get("training", {})
    record: dict[str, Any] = {"path": str(path), "weights_sha256": meta.get("weights", {}).get("sha256"),
                              "steps": training.get("steps"), "seconds": training.get("seconds"), **fields}
    if training.get("parent"):
        record["parent"] = training["parent"]
    return record
