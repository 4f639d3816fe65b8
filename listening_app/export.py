"""Export a study's raw ratings, raters, screening, scores and pairwise tests as CSV files or one JSON.

Every table that lists raters carries their completion code (``ratings``, ``raters``,
``screening``); A/B studies add the win matrix (``wins``).
"""
from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from musebench.errors import ConfigError
from musebench.io_utils import atomic_write_text

from .analysis import StudyAnalysis

TABLES = ("ratings", "raters", "screening", "mos", "pairwise", "leaderboard", "wins")


def _tables(an: StudyAnalysis) -> dict[str, pd.DataFrame]:
    wins = an.wins.reset_index(names="wins_of") if len(an.wins) else pd.DataFrame(columns=["wins_of"])
    return {"ratings": an.ratings, "raters": an.raters, "screening": an.screening, "mos": an.mos,
            "pairwise": an.pairs, "leaderboard": an.board, "wins": wins}


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _clean(value.item())
    if value is pd.NaT or (not isinstance(value, (str, bytes, list, dict)) and pd.isna(value)):
        return None
    return value


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-safe dicts (NaN -> null, timestamps -> ISO 8601)."""
    return [{k: _clean(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def to_json(an: StudyAnalysis) -> dict[str, Any]:
    return {"study": an.study, "protocol": an.protocol, "thresholds": an.thresholds.to_json(),
            **{name: records(df) for name, df in _tables(an).items()}}


def to_csv(an: StudyAnalysis, table: str) -> str:
    if table not in TABLES:
        raise ConfigError(f"unknown export table {table!r} (known: {', '.join(TABLES)})")
    return _tables(an)[table].to_csv(index=False)


def export(an: StudyAnalysis, *, fmt: str, out_dir: str | Path) -> list[Path]:
    """Write ``<study>.json`` or ``<study>_<table>.csv`` per table into ``out_dir``; return the paths."""
    out = Path(out_dir)
    if fmt == "json":
        path = out / f"{an.study}.json"
        atomic_write_text(path, json.dumps(to_json(an), indent=1, allow_nan=False) + "\n")
        return [path]
    if fmt == "csv":
        return [atomic_write_text(out / f"{an.study}_{t}.csv", to_csv(an, t)) for t in TABLES
                if t != "wins" or an.protocol == "ab"]
    raise ConfigError(f"export format must be 'csv' or 'json', not {fmt!r}")
