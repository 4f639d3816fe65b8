"""Know where the time goes: the measurements behind ``musebench bench`` and docs/performance.md.

Sections (each a module with ``run_section(*, quick) -> dict`` and ``tables(result)``):

``scoring``
    note scoring time and peak memory, mir_eval vs :mod:`musebench.metrics.matching`
``dtw``
    fastdtw (as the translation metrics use it) vs librosa's exact DTW: time, memory, path cost
``overhead``
    harness overhead as a share of model time on the demo task (synth-piano)
``models``
    real-time factor of each transcription model on a synth-piano item
``batching``
    batching across items: real-time factor and GPU utilisation, one by one vs batched

Measurements run in child processes (fresh interpreters), so memory peaks and import costs are
their own. None of this runs in the unit tests except a tiny smoke test of the output structure.
"""
from __future__ import annotations

import importlib
from typing import Any
from collections.abc import Sequence

SECTIONS: dict[str, str] = {
    "scoring": "musebench.bench.scoring",
    "dtw": "musebench.bench.dtw",
    "overhead": "musebench.bench.overhead",
    "models": "musebench.bench.models",
    "batching": "musebench.bench.batching",
}


def section_module(name: str) -> Any:
    """The module of section ``name``.

    Raises
    ------
    UnknownNameError
        ``name`` is not a section (with close matches).
    """
    from ..errors import UnknownNameError

    if name not in SECTIONS:
        raise UnknownNameError("bench section", name, list(SECTIONS))
    return importlib.import_module(SECTIONS[name])


def run_sections(*, sections: Sequence[str] = tuple(SECTIONS), quick: bool = False) -> dict[str, Any]:
    """Run the named sections in order; returns ``{"machine": ..., "quick": ..., "sections": {name: result}}``."""
    from .common import machine_info

    modules = {name: section_module(name) for name in sections}
    out: dict[str, Any] = {"machine": machine_info(), "quick": quick, "sections": {}}
    for name, module in modules.items():
        out["sections"][name] = module.run_section(quick=quick)
    return out


def render(report: dict[str, Any]) -> str:
    """All tables of a :func:`run_sections` report, with the machine line on top."""
    from .common import describe_machine

    parts = [f"machine: {describe_machine(report['machine'])}" + ("  [--quick: tiny sizes]" if report["quick"] else "")]
    for name, result in report["sections"].items():
        for table in section_module(name).tables(result):
            parts.append(table.render())
    return "\n\n".join(parts)


__all__ = ["SECTIONS", "render", "run_sections", "section_module"]
