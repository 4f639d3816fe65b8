"""Small file helpers: atomic writes, hashing, canonical JSON, reading JSON with one-line errors."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def read_json(path: str | os.PathLike, *, what: str) -> Any:
    """The JSON document in ``path``; ``what`` names it in the one-line errors.

    Raises
    ------
    MissingDataError
        No such file.
    BadInputError
        Not valid JSON (with the parser's message and line), or not UTF-8 text.
    """
    from .errors import BadInputError, MissingDataError

    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: {what} not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{path}: {what} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except UnicodeDecodeError:
        raise BadInputError(f"{path}: {what} is not UTF-8 text") from None


def hash_file(path: str | os.PathLike, *, md5: bool = False, chunk: int = 1 << 20) -> tuple[str, str | None]:
    """(sha256, md5 or None) of a file in one pass."""
    h = hashlib.sha256()
    m = hashlib.md5() if md5 else None
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if not block:
                break
            h.update(block)
            if m is not None:
                m.update(block)
    return h.hexdigest(), (m.hexdigest() if m is not None else None)


def sha256_file(path: str | os.PathLike, *, chunk: int = 1 << 20) -> str:
    return hash_file(path, chunk=chunk)[0]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace variation: the input of fingerprints."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see either the old or the whole new file.

    The bytes go to a temporary file in the same directory, are flushed and fsynced, then
    renamed over ``path`` (atomic on POSIX). A crash (even ``kill -9``) leaves no partial file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # like mkstemp, but with the usual 0666 & ~umask permissions of a newly created file
    while True:
        tmp = str(path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any, *, indent: int | None = 2) -> Path:
    text = json.dumps(obj, indent=indent, sort_keys=True, allow_nan=False, default=_json_default) + "\n"
    return atomic_write_text(path, text)


def _json_default(obj: Any):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
