#!/usr/bin/env python
"""Regenerate tests/data/umt/shipped_expected.json: what the shipped umt-tiny checkpoint gives on
one synth-pairs test piece (:func:`musebench.models.shipped.umt_case`; checked by
tests/models/test_umt_shipped.py to 1e-6).

    python scripts/generate_umt_expected.py

Run it after replacing benchmark/data/checkpoints/umt-tiny.* (the file records the checkpoint's
sha256, and the test refuses a stale file). The values hold on machines whose float32 matrix
products agree bit for bit with the one that wrote them (recorded under ``written_on``).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from musebench.io_utils import atomic_write_text
from musebench.models.shipped import umt_case

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "umt" / "shipped_expected.json"


def main() -> int:
    result = umt_case()
    atomic_write_text(OUT, json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(json.dumps(result, indent=1, sort_keys=True))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
