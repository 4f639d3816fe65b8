#!/usr/bin/env python
"""Time and memory of note scoring: mir_eval's dense matcher vs musebench.metrics.matching.

A thin wrapper around :mod:`musebench.bench.scoring` (also run by ``musebench bench --sections
scoring``). Each (implementation, size) runs in its own process, so peak memory is that call's
alone; the scores of both implementations are compared for identity (exit status 1 if not).

Usage::

    python scripts/bench_scoring.py                       # 1k, 5k, 20k notes
    python scripts/bench_scoring.py --sizes 1000 5000 --skip-mir-eval-above 5000
    python scripts/bench_scoring.py --velocity --json scoring.json
"""
from __future__ import annotations

import sys

from musebench.bench.scoring import main

if __name__ == "__main__":
    sys.exit(main())
