"""Small readers of dataset files, with one-line errors that name the file (and line).

CSV/YAML readers, the audio truncation check, Hz -> MIDI, validated :class:`~musebench.types.Notes`
from columns, safe item ids and file hashing. They raise
:class:`~musebench.errors.BadInputError` / :class:`~musebench.errors.MissingDataError`
messages naming the file and what is wrong, so a dataset module's loader can stay short.
"""
from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..io_utils import hash_file  # noqa: F401 - re-exported for the dataset modules

import numpy as np

from ..errors import BadInputError, MissingDataError
from ..types import Notes


def read_csv_rows(path: str | os.PathLike, *, required: Iterable[str], what: str) -> list[tuple[int, dict[str, str]]]:
    """Read a CSV file with a header line.

    Parameters
    ----------
    path : path-like
    required : iterable of str
        Columns that must be in the header.
    what : str
        What the file is ("MusicNet label file"), for error messages.

    Returns
    -------
    rows : list of (line number, row dict)
        Line numbers are 1-based file lines (the header is line 1).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: {what} not found")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise BadInputError(f"{path}: {what} is empty (no header line)")
            header = [h.strip() for h in header]
            missing = [c for c in required if c not in header]
            if missing:
                raise BadInputError(f"{path}: {what} lacks the column(s) {', '.join(missing)} "
                                    f"(header: {','.join(header)})")
            rows = []
            for values in reader:
                line = reader.line_num
                if not values or all(not v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    raise BadInputError(f"{path}: line {line}: expected {len(header)} fields, found {len(values)}")
                rows.append((line, dict(zip(header, values))))
    except UnicodeDecodeError:
        raise BadInputError(f"{path}: {what} is not UTF-8 text") from None
    except csv.Error as exc:
        raise BadInputError(f"{path}: {what} is not valid CSV ({exc})") from None
    return rows


def parse_number(value: str, *, path: str | os.PathLike, line: int, column: str, integer: bool = False) -> float:
    """``float(value)`` (or ``int``) with a one-line error naming file, line and column."""
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        kind = "an integer" if integer else "a number"
        raise BadInputError(f"{path}: line {line}: {column} {value!r} is not {kind}") from None
    if not integer and not math.isfinite(number):
        raise BadInputError(f"{path}: line {line}: {column} {value!r} is not finite")
    return number


def load_yaml_file(path: str | os.PathLike, *, what: str) -> Any:
    import yaml

    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: {what} not found")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except yaml.YAMLError as exc:
        raise BadInputError(f"{path}: {what} is not valid YAML ({str(exc).splitlines()[0]})") from None
    except UnicodeDecodeError:
        raise BadInputError(f"{path}: {what} is not UTF-8 text") from None


def hz_to_midi(hz: np.ndarray | float) -> np.ndarray:
    """Frequency in Hz -> (fractional) MIDI note number (A4 = 440 Hz = 69)."""
    return 69.0 + 12.0 * np.log2(np.asarray(hz, dtype=np.float64) / 440.0)


def check_audio_file(path: str | os.PathLike) -> None:
    """Raise when an audio file is missing, unreadable or truncated.

    libsndfile silently reads a truncated WAV as a shorter one, so the RIFF ``data`` chunk's
    declared size is compared with the bytes present; for FLAC (and other formats) the last
    samples are decoded. Cheap: reads the header and the last block only.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: audio file not found")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        pos = 12
        while pos + 8 <= len(head):
            chunk, length = head[pos:pos + 4], int.from_bytes(head[pos + 4:pos + 8], "little")
            if chunk == b"data":
                available = size - (pos + 8)
                if 0 < length < 0xFFFFFFFF and available < length:
                    raise BadInputError(f"{path}: truncated WAV file (header declares {length} bytes of "
                                        f"samples, the file holds {available})")
                break
            pos += 8 + length + (length % 2)
        else:
            raise BadInputError(f"{path}: truncated WAV file (no data chunk in the first {len(head)} bytes)")
    try:
        with sf.SoundFile(str(path)) as snd:
            frames = snd.frames
            if frames <= 0:
                raise BadInputError(f"{path}: audio file holds no samples")
            snd.seek(max(0, frames - 1024))
            tail = snd.read(1024)
            if len(tail) < min(1024, frames):
                raise BadInputError(f"{path}: truncated or corrupt audio file (its last samples cannot be read)")
    except BadInputError:
        raise
    except Exception as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadInputError(f"{path}: truncated or corrupt audio file ({msg})") from None


def make_notes(*, onsets, offsets, pitches, velocities=None, programs=0, is_drum=False, name: str) -> Notes:
    """Build validated, canonically sorted :class:`Notes` (velocity 0 = unknown)."""
    onsets = np.asarray(onsets, dtype=np.float64)
    n = len(onsets)
    notes = Notes(
        intervals=np.stack([onsets, np.asarray(offsets, dtype=np.float64)], axis=1) if n else np.zeros((0, 2)),
        pitches=np.asarray(pitches, dtype=np.float64),
        velocities=np.zeros(n) if velocities is None else np.asarray(velocities, dtype=np.float64),
        programs=np.broadcast_to(np.asarray(programs, dtype=np.int64), (n,)),
        is_drum=np.broadcast_to(np.asarray(is_drum, dtype=bool), (n,)),
    )
    return notes.validate(name=name).sorted()


def safe_id(text: str) -> str:
    """An item id made of ``[A-Za-z0-9._-]`` only ('#' becomes 's', anything else '_')."""
    out = []
    for ch in text:
        if ch.isascii() and (ch.isalnum() or ch in "._-"):
            out.append(ch)
        elif ch == "#":
            out.append("s")
        else:
            out.append("_")
    return "".join(out)


