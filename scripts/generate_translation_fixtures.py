#!/usr/bin/env python
"""Regenerate tests/data/translation/regression.json: seeded synthetic source/output/reference
triples (musebench.metrics.translation_signals) with the scores musebench.metrics.translation
gives them.

Run after an intended change of the metric definitions (and bump the translation tasks'
versions, saying why):

    python scripts/generate_translation_fixtures.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from musebench.metrics import translation as tm
from musebench.metrics.translation_signals import SR, melody

ROOT = Path(__file__).resolve().parent.parent

CASES = [
    {"name": "identity", "signals": {"source": {"seed": 0}, "output": {"seed": 0}, "reference": {"seed": 0}}},
    {"name": "timbre-change", "signals": {"source": {"seed": 1},
                                           "output": {"seed": 1, "harmonics": [1.0, 0.05, 0.6, 0.02, 0.4]},
                                           "reference": {"seed": 1, "harmonics": [1.0, 0.05, 0.6, 0.02, 0.4]}}},
    {"name": "stretched-output", "signals": {"source": {"seed": 2}, "output": {"seed": 2, "stretch": 1.2},
                                              "reference": {"seed": 2, "harmonics": [1.0, 0.8]}}},
    {"name": "wrong-notes", "signals": {"source": {"seed": 3}, "output": {"seed": 4},
                                         "reference": {"seed": 3, "transpose": 2}}},
    {"name": "quiet-shorter", "signals": {"source": {"seed": 5}, "output": {"seed": 5, "n_notes": 8, "gain": 0.01},
                                          "reference": {"seed": 5}}},
]


def main() -> int:
    out = []
    for case in CASES:
        s = case["signals"]
        conv = {k: {kk: (tuple(vv) if isinstance(vv, list) else vv) for kk, vv in v.items()} for k, v in s.items()}
        scores = tm.evaluate(melody(**conv["source"]), melody(**conv["output"]), melody(**conv["reference"]),
                             sample_rate=SR)
        out.append({**case, "expected": {k: round(float(v), 12) for k, v in sorted(scores.items())}})
    path = ROOT / "tests" / "data" / "translation" / "regression.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}: {len(out)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
