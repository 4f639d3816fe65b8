"""``GET /audio/<name>.flac|.wav``: a stimulus as a cacheable file, only under a rater's grant.

``name`` is :func:`musebench.listening_app.ratings.audio_name` (HMAC of the rater's token and the stimulus
id, 128 bits shown as 32 hex digits), recorded in ``audio_grants`` when the rater's trial is shown
(:func:`musebench.listening_app.ratings.show`): a clip is served only to a rater whose trial needs it, and
neither the name nor the file tells anything about the condition. FLAC is lossless: decoded, it is
sample for sample the stored 16-bit WAV (loudness-normalised at study creation); the WAV is the
stored bytes themselves. Responses carry ``Cache-Control: private, max-age=31536000, immutable``
and a strong ``ETag`` (a name always means the same bytes), answer ``If-None-Match`` with 304 and
``Range`` with 206 (the audio element seeks with ranges).
"""
from __future__ import annotations

import io
import os
import re
import threading
from collections import OrderedDict

from .store import Store

_NAME = re.compile(r"^([0-9a-f]{32})\.(flac|wav)$")
_MIME = {"flac": "audio/flac", "wav": "audio/wav"}
CACHE_CONTROL = "private, max-age=31536000, immutable"
_CACHE_BYTES = 256 * 2**20


class _Cache:
    """Encoded clips by (stimulus id, format), least recently used dropped past a byte budget."""

    def __init__(self, budget: int = _CACHE_BYTES):
        self.budget, self.size = budget, 0
        self.items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            data = self.items.get(key)
            if data is not None:
                self.items.move_to_end(key)
            return data

    def put(self, key, data: bytes) -> None:
        with self.lock:
            if key in self.items:
                return
            self.items[key] = data
            self.size += len(data)
            while self.size > self.budget and len(self.items) > 1:
                _, old = self.items.popitem(last=False)
                self.size -= len(old)


_cache = _Cache()
_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def _store() -> Store:
    url = os.environ.get("MUSEBENCH_LISTENING_DB") or ""
    with _stores_lock:
        if url not in _stores:
            _stores[url] = Store(url or None)
        return _stores[url]


def to_flac(wav: bytes) -> bytes:
    """The same 16-bit samples as FLAC (lossless)."""
    import soundfile as sf

    data, sr = sf.read(io.BytesIO(wav), dtype="int16", always_2d=True)
    out = io.BytesIO()
    sf.write(out, data, sr, format="FLAC", subtype="PCM_16")
    return out.getvalue()


def clip_file(store: Store, name: str) -> tuple[bytes, str, str] | None:
    """(bytes, media type, ETag) of ``/audio/<name>``, or None when no such grant exists."""
    from .ratings import granted_stimulus, stimulus_wav

    m = _NAME.match(name)
    if m is None:
        return None
    found = granted_stimulus(store, m.group(1))
    if found is None:
        return None
    sid, sha = found
    fmt = m.group(2)
    data = _cache.get((sid, fmt))
    if data is None:
        wav = stimulus_wav(store, sid)
        data = wav if fmt == "wav" else to_flac(wav)
        _cache.put((sid, fmt), data)
    return data, _MIME[fmt], f'"{sha[:32]}-{fmt}"'


def audio_endpoint(request):
    """The Starlette endpoint (sync: Starlette runs it in its thread pool)."""
    from starlette.responses import Response

    found = clip_file(_store(), request.path_params.get("name", ""))
    if found is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    data, mime, etag = found
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag, "Accept-Ranges": "bytes",
               "X-Content-Type-Options": "nosniff"}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    rng = request.headers.get("range")
    if rng:
        m = re.match(r"^bytes=(\d*)-(\d*)$", rng.strip())
        if m and (m.group(1) or m.group(2)):
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), len(data) - 1) if m.group(2) else len(data) - 1
            else:
                start, end = max(0, len(data) - int(m.group(2))), len(data) - 1
            if start <= end < len(data):
                headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                return Response(data[start:end + 1], status_code=206, media_type=mime, headers=headers)
        headers["Content-Range"] = f"bytes */{len(data)}"
        return Response(status_code=416, headers=headers)
    return Response(data, media_type=mime, headers=headers)


def routes():
    from starlette.routing import Route

    return [Route("/audio/{name}", audio_endpoint, methods=["GET"])]
