#!/usr/bin/env python
"""Regenerate the manifests of the datasets MuseBench generates itself (synth, synth-pairs).

Each generated dataset's module has ``MANIFEST_FILE`` and ``generate_manifest()``; run this
after changing a generator (and bumping its version) or its split sizes:

* ``synth``: the composer and renderer (``benchmark/datasets/synth_compose.py``,
  ``synth_render.py``; bump ``GENERATOR_VERSION``) or ``SPLIT_SIZES``;
* ``synth-pairs``: ``PAIRS`` or the renderer in ``benchmark/datasets/synth_pairs.py``, or after
  the synth generator changed (bump ``synth_pairs.VERSION``).

    python scripts/make_synth_manifest.py [synth] [synth-pairs]   # write (default: both)
    python scripts/make_synth_manifest.py synth --check           # exit 1 if the committed one is stale
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time

from musebench.datasets import DATASETS
from musebench.datasets.generated import GeneratedDataset
from musebench.paths import package_data

GENERATED = ("synth", "synth-pairs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=GENERATED, metavar="DATASET",
                        help=f"which manifests ({', '.join(GENERATED)}; default: all)")
    parser.add_argument("--check", action="store_true", help="compare with the committed manifest; write nothing")
    args = parser.parse_args(argv)
    status = 0
    for name in args.names or GENERATED:
        cls = DATASETS.get(name)
        assert issubclass(cls, GeneratedDataset), name
        module = importlib.import_module(cls.__module__)
        start = time.perf_counter()
        manifest = module.generate_manifest(progress=True)
        path = package_data("manifests", module.MANIFEST_FILE)
        if args.check:
            current = json.loads(path.read_text()) if path.exists() else None
            same = current == json.loads(json.dumps(manifest.to_json()))
            print(f"{path}: {'up to date' if same else f'STALE (run scripts/make_synth_manifest.py {name})'}")
            status = status or (0 if same else 1)
            continue
        manifest.save(path)
        print(f"wrote {path}: {len(manifest.items)} items in {time.perf_counter() - start:.1f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
