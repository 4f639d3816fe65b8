#!/usr/bin/env python
"""Regenerate tests/data/seq2seq/shipped.json: what the shipped seq2seq checkpoints give on one
synth test item each (:func:`musebench.models.shipped.seq2seq_case`; checked by
tests/models/test_seq2seq_shipped.py to 1e-6).

    python scripts/generate_seq2seq_expected.py

Run it after replacing a checkpoint in benchmark/data/checkpoints/ (the file records each
checkpoint's sha256, and the test refuses a stale file).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from musebench.io_utils import atomic_write_text
from musebench.models.shipped import SEQ2SEQ_CASES, seq2seq_case

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "seq2seq" / "shipped.json"


def main() -> int:
    out = {}
    for name in SEQ2SEQ_CASES:
        out[name] = seq2seq_case(name)
        print(name, json.dumps(out[name]["scores"]))
    atomic_write_text(OUT, json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
