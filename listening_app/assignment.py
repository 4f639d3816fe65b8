"""Which trials a rater gets, and in what order.

Each rater gets ``per_rater`` test trials: the ones with the fewest raters so far (ties broken
at random), so that coverage across stimuli stays balanced: after any number of raters the
counts of any two test trials differ by at most one. The order is a fresh random permutation
per rater, rearranged so that the same item does not come twice in a row where avoidable;
gold and trap trials are mixed in at random positions after a short warm-up.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def choose_balanced(counts: Mapping[str, int], n: int, *, rng: np.random.Generator) -> list[str]:
    """The ``n`` trial ids with the lowest ``counts``, ties broken at random."""
    ids = list(counts)
    if n >= len(ids):
        return ids
    noise = rng.random(len(ids))
    order = sorted(range(len(ids)), key=lambda i: (counts[ids[i]], noise[i]))
    return [ids[i] for i in order[:n]]


def spread_items(trial_ids: Sequence[str], items: Mapping[str, str], *, rng: np.random.Generator) -> list[str]:
    """A random order of ``trial_ids`` with no two trials of the same item adjacent where possible.

    Greedy: at each step take a random trial among those whose item differs from the previous
    one, preferring the items with the most trials left (which avoids dead ends).
    """
    left = list(trial_ids)
    rng.shuffle(left)
    out: list[str] = []
    while left:
        remaining: dict[str, int] = {}
        for t in left:
            remaining[items[t]] = remaining.get(items[t], 0) + 1
        prev = items[out[-1]] if out else None
        allowed = [t for t in left if items[t] != prev] or left
        top = max(remaining[items[t]] for t in allowed)
        pick = [t for t in allowed if remaining[items[t]] == top][0]
        out.append(pick)
        left.remove(pick)
    return out


def insert_checks(sequence: Sequence[str], checks: Sequence[str], *, rng: np.random.Generator,
                  warmup: int = 2) -> list[str]:
    """Insert gold/trap trial ids at random positions, none among the first ``warmup`` trials."""
    out = list(sequence)
    for check in checks:
        lo = min(warmup, len(out))
        pos = int(rng.integers(lo, len(out) + 1))
        out.insert(pos, check)
    return out
