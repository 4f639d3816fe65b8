"""Download the public archives of the real datasets: resumable, checksummed, atomic.

``musebench datasets download NAME [--dest DIR] [--part PART] [--extract]`` fetches each archive
of a dataset into ``DIR`` (default: ``<data home>/downloads/<name>``):

* bytes go to ``<file>.part``; an interrupted download resumes with an HTTP ``Range`` request
  (a server that ignores it restarts the file from zero);
* the finished file is checked against the published sha256 or md5 (where the dataset
  publishes one) and only then renamed to its final name (atomic ``os.replace``); a mismatch
  deletes the ``.part`` file and fails with one line naming the file and both digests;
* a tqdm progress bar shows bytes; ``--extract`` unpacks zip/tar archives next to it (paths
  that would escape the folder are refused).

Which archives a dataset has is part of its module: the class attribute ``archives`` of its
:class:`~musebench.datasets.real.RealDataset` subclass (URL, file name, the checksum the dataset
authors publish, where it unpacks), or ``manual_download`` where there is no public URL (URMP).
This module is the generic machinery only.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import tarfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BadInputError, MissingDataError, UnknownNameError
from ..paths import data_home

if TYPE_CHECKING:
    from .real import RealDataset

USER_AGENT = "musebench-downloader/1 (+https://github.com/)"


@dataclass(frozen=True)
class Archive:
    """One downloadable file of a dataset."""

    part: str
    url: str
    filename: str
    sha256: str | None = None
    md5: str | None = None
    size: str = ""
    extract: bool = True  # unpack (zip/tar); False: copy the file itself into the root
    into: str = ""  # folder under the dataset root that receives the content
    strip: str = ""  # top-level folder of the archive whose content is used instead, when present


def downloadable() -> dict[str, type[RealDataset]]:
    """Name -> class of every registered dataset that lists public ``archives`` or says how to
    get it by hand (``manual_download``)."""
    from . import DATASETS

    out: dict[str, type[RealDataset]] = {}
    for name in DATASETS.names():
        cls = DATASETS.get(name)
        if getattr(cls, "archives", ()) or getattr(cls, "manual_download", ""):
            out[name] = cls  # type: ignore[assignment]  # only RealDataset has archives
    return out


def archives_for(name: str, parts: list[str] | None = None) -> tuple[Archive, ...]:
    """The archives of dataset ``name`` (only ``parts`` when given), from its class's ``archives``."""
    found = downloadable()
    if name not in found:
        raise UnknownNameError("downloadable dataset", name, found)
    cls = found[name]
    if cls.manual_download:
        raise MissingDataError(cls.manual_download)
    archives = cls.archives
    if parts:
        known = {a.part for a in archives}
        for p in parts:
            if p not in known:
                raise UnknownNameError(f"part of dataset {name!r}", p, known)
        archives = tuple(a for a in archives if a.part in parts)
    return archives


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_digest(path: Path, *, sha256: str | None = None, md5: str | None = None, url: str = "") -> None:
    """Raise :class:`BadInputError` when ``path`` does not have the expected digest."""
    for algorithm, expected in (("sha256", sha256), ("md5", md5)):
        if expected:
            actual = _digest(path, algorithm)
            if actual != expected.lower():
                raise BadInputError(f"{path}: checksum mismatch (expected {algorithm} {expected}, got {actual})"
                                    f"{f' for {url}' if url else ''}")


def download_file(url: str, dest: str | os.PathLike, *, sha256: str | None = None, md5: str | None = None,
                  progress: bool = True, timeout: float = 60.0, chunk: int = 1 << 16) -> Path:
    """Download ``url`` to the file ``dest`` with resume, checksum check and atomic rename.

    Parameters
    ----------
    url : str
    dest : path-like
        Final file path. Partial data is kept in ``dest + ".part"`` between attempts.
    sha256, md5 : str, optional
        Expected digest; a mismatch deletes the partial file and raises :class:`BadInputError`.
    progress : bool
        Show a tqdm progress bar.
    timeout : float
        Socket timeout in seconds.

    Returns
    -------
    Path
        ``dest``, complete and checked.

    Raises
    ------
    MissingDataError
        The server failed or the connection broke; the ``.part`` file is kept, so calling
        again resumes.
    BadInputError
        Checksum mismatch.
    """
    from tqdm.auto import tqdm

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_file():
        if sha256 or md5:
            check_digest(dest, sha256=sha256, md5=md5, url=url)
        return dest
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to fetch: the part file is complete
            response = None
        else:
            raise MissingDataError(f"{url}: download failed (HTTP {exc.code} {exc.reason})") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise MissingDataError(f"{url}: download failed ({reason})") from None
    if response is not None:
        with response:
            status = getattr(response, "status", 200)
            content_range = response.headers.get("Content-Range", "")
            if have and (status != 206 or not content_range.startswith(f"bytes {have}-")):
                have = 0  # the server ignored the range (or answered another one): start again
            length = response.headers.get("Content-Length")
            total = have + int(length) if length is not None else None
            mode = "ab" if have else "wb"
            received = have
            with open(part, mode) as f, tqdm(total=total, initial=have, unit="B", unit_scale=True,
                                             unit_divisor=1024, desc=dest.name, disable=not progress) as bar:
                broken = None
                try:
                    while True:
                        block = response.read(chunk)
                        if not block:
                            break
                        f.write(block)
                        received += len(block)
                        bar.update(len(block))
                except (OSError, ValueError, http.client.HTTPException) as exc:
                    broken = exc
            if broken is not None or (total is not None and received < total):
                of = f" of {total}" if total is not None else ""
                why = f" ({type(broken).__name__})" if broken is not None else ""
                raise MissingDataError(f"{url}: download interrupted after {received}{of} bytes{why}; run the "
                                       f"same command again to resume")
    for algorithm, expected in (("sha256", sha256), ("md5", md5)):
        if expected:
            actual = _digest(part, algorithm)
            if actual != expected.lower():
                part.unlink(missing_ok=True)
                raise BadInputError(f"{dest}: checksum mismatch after downloading {url} (expected {algorithm} "
                                    f"{expected}, got {actual}); the partial file was deleted, run again to retry")
    os.replace(part, dest)
    return dest


def extract_archive(path: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Unpack a zip or tar archive into ``dest``, refusing members that would land outside it."""
    path, dest = Path(path), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    base = dest.resolve()

    def inside(name: str) -> bool:
        target = (base / name).resolve()
        return target == base or base in target.parents

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if not inside(name):
                    raise BadInputError(f"{path}: archive member {name!r} would be written outside {dest}")
            zf.extractall(dest)
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as tf:
            members = tf.getmembers()
            for m in members:
                if not inside(m.name) or m.issym() or m.islnk():
                    raise BadInputError(f"{path}: archive member {m.name!r} is a link or would be written "
                                        f"outside {dest}")
            tf.extractall(dest, members=members)
    else:
        raise BadInputError(f"{path}: not a zip or tar archive")
    return dest


def install_archive(path: str | os.PathLike, archive: Archive, root: str | os.PathLike) -> Path:
    """Put the content of a downloaded archive where the dataset's layout wants it.

    The archive is unpacked into a staging folder inside ``root`` (same file system, so the
    final moves are atomic renames); when its only top-level entry is the folder
    ``archive.strip``, that folder's content is used; everything is then moved into
    ``root/archive.into`` (existing files are replaced). A file that is not an archive
    (``extract=False``) is copied there.
    """
    import shutil
    import tempfile

    path, root = Path(path), Path(root)
    target = root / archive.into if archive.into else root
    target.mkdir(parents=True, exist_ok=True)
    if not archive.extract:
        shutil.copyfile(path, target / archive.filename)
        return target
    staging = Path(tempfile.mkdtemp(prefix=".musebench-unpack-", dir=root))
    try:
        extract_archive(path, staging)
        source = staging
        entries = [e for e in staging.iterdir() if not e.name.startswith("__MACOSX")]
        if archive.strip and len(entries) == 1 and entries[0].is_dir() and entries[0].name == archive.strip:
            source = entries[0]
        for dirpath, _dirs, files in os.walk(source):
            rel = Path(dirpath).relative_to(source)
            (target / rel).mkdir(parents=True, exist_ok=True)
            for name in files:
                os.replace(Path(dirpath) / name, target / rel / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def download_dataset(name: str, *, dest: str | os.PathLike | None = None, root: str | os.PathLike | None = None,
                     parts: list[str] | None = None, extract: bool = False, progress: bool = True,
                     base_url: str | None = None) -> list[Path]:
    """Download the archives of dataset ``name`` and, with ``extract``, install them in ``root``.

    Parameters
    ----------
    name : str
        A dataset with public archives (its class's ``archives``).
    dest : path-like, optional
        Folder for the archives (default ``<data home>/downloads/<name>``).
    root : path-like, optional
        Dataset root to unpack into (default: the dataset's resolved root).
    parts : list of str, optional
        Only these archives (e.g. ``["midi"]`` for MAESTRO, ``["test"]`` for NSynth).
    extract : bool
        Unpack each checked archive into ``root`` in the official layout.
    base_url : str, optional
        Replace the scheme and host of every URL (a mirror; the tests use a loopback server).

    Returns
    -------
    list of Path
        The downloaded archive files.
    """
    from urllib.parse import urlsplit

    archives = archives_for(name, parts)
    folder = Path(dest).expanduser() if dest else data_home() / "downloads" / name
    install_root: Path | None = None
    if extract:
        from . import get_dataset

        install_root = Path(root) if root is not None else get_dataset(name).root
    out = []
    for archive in archives:
        url = archive.url
        if base_url:
            split = urlsplit(url)
            url = base_url.rstrip("/") + split.path + (f"?{split.query}" if split.query else "")
        path = download_file(url, folder / archive.filename, sha256=archive.sha256, md5=archive.md5,
                             progress=progress)
        if install_root is not None:
            install_archive(path, archive, install_root)
        out.append(path)
    return out


def describe_archives(name: str) -> list[str]:
    """One line per archive of ``name``: part, size, URL, checksum."""
    cls = downloadable().get(name)
    if cls is not None and cls.manual_download:
        return [cls.manual_download]
    lines = []
    for a in archives_for(name):
        digest = f"sha256 {a.sha256}" if a.sha256 else (f"md5 {a.md5}" if a.md5 else "no published checksum")
        lines.append(f"{a.part:<14} {a.size or '?':>8}  {a.url}  ({digest})")
    return lines


__all__ = ["Archive", "archives_for", "check_digest", "describe_archives", "download_dataset", "downloadable",
           "download_file", "extract_archive"]
