#!/usr/bin/env python
"""Regenerate tests/data/seq2seq/shipped.json: what the shipped seq2seq checkpoints give on one
synth test item each (checked by tests/models/test_seq2seq_shipped.py to 1e-6).

    python scripts/generate_seq2seq_expected.py

Run it after replacing a checkpoint in benchmark/data/checkpoints/ (the file records each
checkpoint's sha256, and the test refuses a stale file).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "tests"))
from test_seq2seq_shipped import CASES, transcribe_case  # noqa: E402

from musebench.io_utils import atomic_write_text  # noqa: E402


def main() -> int:
    out = {}
    for name, (variant, split, index) in CASES.items():
        out[name] = transcribe_case(name, variant, split, index)
        print(name, json.dumps(out[name]["scores"]))
    path = ROOT / "tests" / "data" / "seq2seq" / "shipped.json"
    atomic_write_text(path, json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
