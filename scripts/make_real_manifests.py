#!/usr/bin/env python
"""Regenerate the split manifests of the real datasets from their public definitions.

The manifests under ``benchmark/data/manifests/`` freeze the splits MuseBench evaluates on.
They are built from public files (facts, not code), which this script takes as inputs:

=================  =========================================================================
--maestro-csv      ``maestro-v3.0.0.csv`` (https://storage.googleapis.com/magentadata/datasets/
                   maestro/v3.0.0/maestro-v3.0.0.csv; the copy used came from
                   github.com/alvaro-lg/TFG@25ce3861dd3f3164797c48571865bfc9df84f0a7 (extra
                   pandas columns ignored; 1276 rows, 962/137/177, 198.7 h as published).
--slakh-redux      ``splits/redux.json`` of github.com/ethman/slakh-utils
                   (@3f62d6a4b0e5952237dd5178ac3513e42161ec0a): one action per track
                   (None = stays, "omit" = moved to omitted/); original splits by track
                   number (Track00001-01500 train, -01875 validation, -02100 test) as in
                   that repository's ``splits/resplit_slakh.py``.
--guitarset-index  mirdata's ``guitarset_index_1.1.0.json`` (github.com/mir-dataset-loaders/
                   mirdata@c625f44e30e305e910ecd7dd42153894bc6a28b8): 360 tracks, 5 files
                   each, md5 checksums.
--musicnet-csv     ``musicnet_metadata.csv`` (https://zenodo.org/record/5120004; the copy
                   used came from github.com/iferco/DTWMatcher@54bd7706a4baa2eb906d909e56780c37624e92e4,
                   330 rows).
=================  =========================================================================

MT3's MusicNet validation/test ids are ``TRACKS_BY_SPLIT`` in magenta/mt3
``mt3/colab/mt3_reconvat_baseline.ipynb``; they, MT3's URMP validation pieces and the URMP piece
list are written in the dataset modules. Each builder is its dataset module's
``build_manifest()`` (``benchmark/datasets/<module>.py``); a module that needs an input file names
its option in ``MANIFEST_INPUT``. This script only dispatches. Run::

    python scripts/make_real_manifests.py --maestro-csv ... --slakh-redux ... \
        --guitarset-index ... --musicnet-csv ... [--out benchmark/data/manifests]

Output is deterministic (sorted keys); rerunning on the same inputs reproduces the files
byte for byte.
"""
from __future__ import annotations

from __future__ import annotations

import argparse
import importlib
import json
from collections import Counter
from pathlib import Path
from types import ModuleType

from musebench.datasets import DATASETS
from musebench.datasets.real import RealDataset
from musebench.datasets.own import OwnDataset


def builders() -> list[tuple[str, ModuleType]]:
    """(manifest file stem, module) of every shipped real dataset whose module has ``build_manifest``
    (one per module: Cerberus4 is derived from the Slakh2100 manifest)."""
    out: dict[str, tuple[str, ModuleType]] = {}
    for name in DATASETS.names():
        cls = DATASETS.get(name)
        if not issubclass(cls, RealDataset) or issubclass(cls, OwnDataset):
            continue
        module = importlib.import_module(cls.__module__)
        if hasattr(module, "build_manifest") and cls.__module__ not in out:
            out[cls.__module__] = ((cls.manifest_file or f"{name}.json").removesuffix(".json"), module)
    return list(out.values())


def write(out: Path, name: str, manifest: dict) -> None:
    path = out / f"{name}.json"
    text = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=True) + "\n"
    path.write_text(text)
    sizes = Counter(e["split"] for e in manifest["items"].values())
    print(f"{path}: {len(manifest['items'])} items {dict(sorted(sizes.items()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    found = builders()
    for _name, module in found:
        option = getattr(module, "MANIFEST_INPUT", None)
        if option is not None:
            parser.add_argument(option[0], type=Path, required=True, help=option[1])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "benchmark" / "data"
                        / "manifests")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, module in found:
        option = getattr(module, "MANIFEST_INPUT", None)
        inputs = [getattr(args, option[0].lstrip("-").replace("-", "_"))] if option is not None else []
        write(args.out, name, module.build_manifest(*inputs))


if __name__ == "__main__":
    main()
