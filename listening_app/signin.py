"""Admin sign-in limits shared by every browser session and app replica (kept in the database).

After :data:`FREE_FAILURES` wrong secrets in a row (no success in between), every further
attempt, right or wrong, is refused until ``BASE_LOCK_S * 2 ** (failures - FREE_FAILURES)``
seconds (at most :data:`MAX_LOCK_S`) have passed since the last wrong one. A correct secret
clears the count. The lock is global, not per address: behind a proxy every rater shares one
address, and a global lock cannot be sidestepped by a new session or a new address; the price is
that someone guessing locks the real admin out too (for at most an hour at a time).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, insert as sa_insert

from .store import SignIn, Store, utcnow

FREE_FAILURES = 5
BASE_LOCK_S = 30.0
MAX_LOCK_S = 3600.0


def _failures_since_success(store: Store) -> tuple[int, datetime | None]:
    with store.read() as conn:
        rows = conn.execute(select(SignIn.ok, SignIn.at).order_by(SignIn.id.desc()).limit(64)).all()
    n, last = 0, None
    for ok, at in rows:
        if ok:
            break
        n += 1
        if last is None:
            last = at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)
    return n, last


def locked_for(store: Store, *, now: datetime | None = None) -> float:
    """Seconds until the next sign-in attempt is accepted (0: now)."""
    n, last = _failures_since_success(store)
    if n < FREE_FAILURES or last is None:
        return 0.0
    lock = min(MAX_LOCK_S, BASE_LOCK_S * 2 ** (n - FREE_FAILURES))
    return max(0.0, lock - ((now or utcnow()) - last).total_seconds())


def record(store: Store, *, ok: bool, at: datetime | None = None) -> None:
    with store.write() as conn:
        conn.execute(sa_insert(SignIn).values(at=at or utcnow(), ok=int(bool(ok))))


def lock_message(seconds: float) -> str:
    return f"Too many wrong secrets: sign-in is locked for {int(seconds + 0.999)} s."
