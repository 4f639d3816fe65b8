"""Shared pieces of the benchmarks: machine description, isolated child processes, memory, tables.

Every measurement whose peak memory is reported runs in a fresh Python process
(:func:`run_child`), so the peak belongs to that call alone: the child resets the kernel's
peak-RSS counter (``/proc/self/clear_refs``, Linux) right before the measured call and reads
``VmHWM`` after it (:class:`PeakRSS`).
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from collections.abc import Callable, Sequence

if TYPE_CHECKING:
    from ..models.base import TranscriptionModel

ROOT = Path(__file__).resolve().parents[2]

#: ``python -m`` target of the child entry point
CHILD_MODULE = "musebench.bench.child"


def item_audio_path(item: Any) -> Path:
    """The audio file of a dataset item (the model sections measure transcription of audio)."""
    if item.audio_path is None:
        raise ValueError(f"bench: item {item.id} has no audio file")
    return Path(item.audio_path)


def transcriber(model: Any) -> TranscriptionModel:
    """``model`` as a transcription model: the model sections time ``transcribe``, which plug-ins
    may provide without subclassing :class:`musebench.models.base.TranscriptionModel`."""
    if not callable(getattr(model, "transcribe", None)):
        raise ValueError(f"bench: model {getattr(model, 'name', model)!r} has no transcribe()")
    return cast(TranscriptionModel, model)


def progress(message: str) -> None:
    """One line of progress on stderr (the tables go to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine_info() -> dict[str, Any]:
    """CPU model, core count, memory, load and library versions of this machine."""
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        mem_gib = float("nan")
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    from ..device import cuda_available

    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": usable, "memory_gib": round(mem_gib, 1),
            "gpu": bool(cuda_available()), "load_average": [round(x, 2) for x in load],
            "python": platform.python_version(), "numpy": np.__version__, "platform": platform.platform()}


def describe_machine(info: dict[str, Any]) -> str:
    """One line for the top of a report."""
    load = ", ".join(f"{x:.1f}" for x in info.get("load_average", []))
    return (f"{info['cpu']}, {info['cores']} cores, {info['memory_gib']:.0f} GiB RAM, "
            f"{'GPU' if info.get('gpu') else 'no GPU'}, Python {info['python']}, NumPy {info['numpy']}, "
            f"load average {load}")


# --------------------------------------------------------------------------- memory in a child
def rss_kib(field: str = "VmRSS") -> int | None:
    """A ``/proc/self/status`` memory field in KiB (None where there is no procfs)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakRSS:
    """Peak resident memory added by the code inside ``with`` (MiB in :attr:`mib`).

    Resets the kernel's high-water mark on entry (writing ``5`` to ``/proc/self/clear_refs``);
    where that is not possible :attr:`mib` stays None rather than report a stale peak.
    """

    def __init__(self) -> None:
        self.mib: float | None = None
        self._base: int | None = None
        self._reset = False

    def __enter__(self) -> PeakRSS:
        self._base = rss_kib("VmRSS")
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            self._reset = True
        except OSError:
            self._reset = False
        return self

    def __exit__(self, *exc: Any) -> None:
        peak = rss_kib("VmHWM")
        if self._reset and peak is not None and self._base is not None:
            self.mib = max(0.0, (peak - self._base) / 1024)


def child_env() -> dict[str, str]:
    """Environment of child processes: this checkout importable, one BLAS thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


def run_child(section: str, kind: str, params: dict[str, Any], *, timeout: float | None = None) -> dict[str, Any]:
    """Run ``musebench.bench.<section>.CHILDREN[kind](**params)`` in a fresh interpreter.

    Returns the JSON object the child prints as its last stdout line.

    Raises
    ------
    RuntimeError
        The child failed; the message names the section, the kind and the child's last error line.
    """
    cmd = [sys.executable, "-m", CHILD_MODULE, section, kind, json.dumps(params)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env(), cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"bench {section}/{kind} {params}: no result after {timeout:g} s") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        raise RuntimeError(f"bench {section}/{kind} {params}: child failed: {last}")
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"bench {section}/{kind} {params}: child printed nothing")
    result = json.loads(lines[-1])
    try:  # how busy the machine was while the child ran (others' work slows every timing)
        result["load_average_1m"] = round(os.getloadavg()[0], 2)
    except OSError:
        result["load_average_1m"] = None
    return result


# ------------------------------------------------------------------------------------ tables
@dataclass
class Table:
    """A titled text table: ``columns`` names, ``rows`` of already formatted cells, ``notes`` below."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]  # cells are printed with str()
    notes: list[str]

    def render(self) -> str:
        widths = [len(c) for c in self.columns]
        for row in self.rows:
            widths = [max(w, len(str(cell))) for w, cell in zip(widths, row)]
        line = "  ".join(f"{c:>{w}}" for c, w in zip(self.columns, widths))
        out = [self.title, "=" * len(self.title), line, "-" * len(line)]
        out += ["  ".join(f"{str(cell):>{w}}" for cell, w in zip(row, widths)) for row in self.rows]
        out += [f"  {n}" for n in self.notes]
        return "\n".join(out)


def fmt(value: float | None, spec: str = ".3f", *, suffix: str = "") -> str:
    """Format a number, or ``n/a`` for None/NaN."""
    if value is None or value != value:
        return "n/a"
    return f"{value:{spec}}{suffix}"


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, or None when either is missing or ``b`` is 0."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def memory_ratio(a: float | None, b: float | None, *, floor_mib: float = 1.0) -> float | None:
    """``a / b`` for peak memories in MiB; None when ``b`` is below ``floor_mib`` (page-size noise)."""
    if b is None or b < floor_mib:
        return None
    return ratio(a, b)


def fmt_x(value: float | None) -> str:
    """A ratio as ``12x`` (one decimal below 10)."""
    if value is None or value != value:
        return "n/a"
    return f"{value:.1f}x" if value < 10 else f"{value:,.0f}x"


def timed(fn: Callable[[], Any], *, repeats: int = 1) -> tuple[float, Any]:
    """Median wall time (s) of ``repeats`` calls of ``fn`` and the last result."""
    import statistics

    times, result = [], None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result
