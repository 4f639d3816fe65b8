#!/usr/bin/env python
"""Regenerate benchmark/data/manifests/synth_pairs.json (the paired translation renderings).

Run after changing PAIRS or the renderer in benchmark/datasets/synth_pairs.py, or after the
synth generator changed (bump synth_pairs.VERSION):

    python scripts/make_synth_pairs_manifest.py            # write the manifest
    python scripts/make_synth_pairs_manifest.py --check    # exit 1 if the committed one is stale
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from musebench.datasets.synth_pairs import MANIFEST_FILE, generate_manifest
from musebench.paths import package_data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed manifest; write nothing")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    manifest = generate_manifest(progress=True)
    path = package_data("manifests", MANIFEST_FILE)
    if args.check:
        current = json.loads(path.read_text()) if path.exists() else None
        same = current == json.loads(json.dumps(manifest.to_json()))
        print(f"{path}: {'up to date' if same else 'STALE (run scripts/make_synth_pairs_manifest.py)'}")
        return 0 if same else 1
    manifest.save(path)
    print(f"wrote {path}: {len(manifest.items)} items in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
