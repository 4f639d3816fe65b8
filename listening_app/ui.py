"""Streamlit helpers shared by the pages: the store, the gated players, the admin check.

The players are inline ``st.components.v2`` components (HTML/Web Audio plus a few lines of
JavaScript, no build step). The single-clip player reports, when the clip reaches its end, the
fraction actually played (the browser's ``played`` ranges, so seeking to the end does not count);
the page enables rating only when that fraction reaches ``min_listen_fraction``. That is a
convenience for honest raters: the server enforces the listening time itself
(:func:`musebench.listening_app.ratings.show` / ``submit_ratings``), whatever the browser reports.

Audio: served by ``listening_app/server.py`` over HTTP as files under opaque per-rater names
(``/audio/<name>.flac`` where the browser plays FLAC, ``.wav`` otherwise; cacheable), see
:mod:`musebench.listening_app.audio_route`. When the app runs without that route (``streamlit run
listening_app/app.py``, AppTest), the clip goes inside the WebSocket as a WAV ``data:`` URL, as
before.
"""
from __future__ import annotations

import base64
import hmac
import os
from typing import TYPE_CHECKING

import streamlit as st

from .store import Store

if TYPE_CHECKING:
    from .ratings import RaterView, StudyView

#: set by listening_app/server.py, which serves /audio/<name>
AUDIO_HTTP_ENV = "MUSEBENCH_AUDIO_HTTP"

_PLAYER_JS = """
export default function(component) {
  const { data, setStateValue, parentElement } = component;
  let audio = parentElement.querySelector('audio');
  if (!audio) {
    audio = document.createElement('audio');
    audio.controls = true;
    audio.preload = 'auto';
    audio.style.width = '100%';
    audio.setAttribute('controlsList', 'nodownload noplaybackrate');
    parentElement.appendChild(audio);
  }
  if (audio.dataset.clip !== data.clip) {
    audio.src = (data.flac && audio.canPlayType('audio/flac')) ? data.flac : (data.wav || data.flac);
    audio.dataset.clip = data.clip;
  }
  const listened = () => {
    let s = 0;
    for (let i = 0; i < audio.played.length; i++) s += audio.played.end(i) - audio.played.start(i);
    return audio.duration ? Math.min(1, s / audio.duration) : 0;
  };
  audio.onended = () => setStateValue('listened', Math.round(listened() * 1000) / 1000);
}
"""
_player = st.components.v2.component("musebench_player", js=_PLAYER_JS)

# MUSHRA (ITU-R BS.1534-3): one Web Audio player for the reference and every condition of a page.
# Switching clips keeps the playing position (no restart gap); a loop over a selected region.
_MUSHRA_JS = """
export default function(component) {
  const { data, setStateValue, parentElement } = component;
  let root = parentElement.querySelector('.mb-root');  // parentElement is a shadow root: no dataset
  if (!root) { root = document.createElement('div'); root.className = 'mb-root'; parentElement.appendChild(root); }
  if (root.dataset.page === data.page) return;
  root.dataset.page = data.page;
  root.innerHTML = '';
  const ctx = new (window.AudioContext || window.webkitAudioContext)();
  const probe = document.createElement('audio');
  const flac = !!probe.canPlayType('audio/flac');
  const buffers = {}, played = {};
  let current = null, source = null, startedAt = 0, offset = 0;
  const bar = document.createElement('div');
  bar.style.display = 'flex'; bar.style.flexWrap = 'wrap'; bar.style.gap = '6px';
  root.appendChild(bar);
  const status = document.createElement('div');
  status.style.margin = '6px 0'; status.textContent = 'Loading clips...';
  root.appendChild(status);
  const loopRow = document.createElement('div');
  loopRow.innerHTML = '<label><input type="checkbox" class="mb-loop"> Loop from ' +
    '<input type="number" class="mb-from" min="0" step="0.1" value="0" style="width:5em"> s to ' +
    '<input type="number" class="mb-to" min="0" step="0.1" value="0" style="width:5em"> s</label>';
  root.appendChild(loopRow);
  const loopBox = loopRow.querySelector('.mb-loop'), fromBox = loopRow.querySelector('.mb-from'),
        toBox = loopRow.querySelector('.mb-to');
  const position = () => {
    if (!source) return offset;
    const b = buffers[current]; let t = offset + (ctx.currentTime - startedAt);
    if (source.loop) { const a = source.loopStart, e = source.loopEnd; if (t > e) t = a + (t - a) % (e - a); }
    return b ? Math.min(t, b.duration) : t;
  };
  const report = () => {
    if (source && current) played[current] = (played[current] || 0) + (ctx.currentTime - startedAt);
    setStateValue('played', Object.fromEntries(Object.entries(played).map(([k, v]) => [k, Math.round(v * 1000) / 1000])));
  };
  const stop = () => {
    if (source) { report(); offset = position(); try { source.onended = null; source.stop(); } catch (e) {} }
    source = null;
  };
  const play = (key) => {
    const b = buffers[key]; if (!b) return;
    const pos = source ? position() : (current === key ? offset : offset);
    stop();
    current = key;
    const s = ctx.createBufferSource(); s.buffer = b; s.connect(ctx.destination);
    const from = parseFloat(fromBox.value) || 0, to = parseFloat(toBox.value) || b.duration;
    if (loopBox.checked && to > from) { s.loop = true; s.loopStart = from; s.loopEnd = Math.min(to, b.duration); }
    let at = Math.min(pos, b.duration);
    if (s.loop && (at < s.loopStart || at > s.loopEnd)) at = s.loopStart;
    if (!s.loop && at >= b.duration - 0.01) at = 0;
    s.onended = () => { if (source === s) { report(); source = null; offset = 0; status.textContent = 'Stopped.'; } };
    ctx.resume(); s.start(0, at); source = s; startedAt = ctx.currentTime; offset = at;
    status.textContent = 'Playing ' + key + '.';
    bar.querySelectorAll('button').forEach(x => x.style.fontWeight = (x.dataset.key === key) ? 'bold' : 'normal');
  };
  const keys = [['Reference', data.reference]].concat(data.clips.map(c => [c.key, c]));
  for (const [key, c] of keys) {
    const btn = document.createElement('button');
    btn.textContent = key; btn.dataset.key = key; btn.type = 'button'; btn.className = 'mb-clip';
    btn.onclick = () => play(key);
    bar.appendChild(btn);
  }
  const stopBtn = document.createElement('button');
  stopBtn.textContent = 'Stop'; stopBtn.type = 'button'; stopBtn.className = 'mb-stop';
  stopBtn.onclick = () => { stop(); status.textContent = 'Stopped.'; };
  bar.appendChild(stopBtn);
  Promise.all(keys.map(([key, c]) => fetch(flac && c.flac ? c.flac : c.wav).then(r => r.arrayBuffer())
      .then(a => ctx.decodeAudioData(a)).then(b => { buffers[key] = b; })))
    .then(() => { status.textContent = 'Ready: click a clip to play it; switching keeps the position.';
                  root.dataset.ready = '1';
                  toBox.value = (buffers['Reference'] ? buffers['Reference'].duration : 0).toFixed(1); })
    .catch(e => { status.textContent = 'Could not load the clips: ' + e; });
}
"""
_mushra = st.components.v2.component("musebench_mushra", js=_MUSHRA_JS)


@st.cache_resource(show_spinner=False)
def _store(url: str | None) -> Store:
    return Store(url)


def get_store() -> Store:
    """The app's store: ``$MUSEBENCH_LISTENING_DB`` or SQLite under ``results/listening/``."""
    return _store(os.environ.get("MUSEBENCH_LISTENING_DB"))


@st.cache_data(max_entries=128, show_spinner=False)
def _wav(url: str | None, stimulus_id: str) -> bytes:
    from .ratings import stimulus_wav

    return stimulus_wav(get_store(), stimulus_id)


def stimulus_bytes(stimulus_id: str) -> bytes:
    return _wav(os.environ.get("MUSEBENCH_LISTENING_DB"), stimulus_id)


def audio_http() -> bool:
    """Whether clips are served over HTTP (the app runs under listening_app/server.py)."""
    return os.environ.get(AUDIO_HTTP_ENV) == "1"


def clip_sources(rater: RaterView | None, stimulus_id: str | None) -> dict[str, str]:
    """Where the browser fetches a clip: ``{"flac": url, "wav": url}`` or ``{"wav": data URL}``."""
    assert stimulus_id is not None, "a trial of this protocol always names this clip"
    if rater is not None and audio_http():
        from .ratings import audio_name

        name = audio_name(rater, stimulus_id)
        return {"flac": f"audio/{name}.flac", "wav": f"audio/{name}.wav"}
    return {"wav": "data:audio/wav;base64," + base64.b64encode(stimulus_bytes(stimulus_id)).decode("ascii")}


def player(wav_or_sources: bytes | dict[str, str], *, key: str) -> float:
    """Show a player for a clip; return the fraction of it played when it last reached its end."""
    if isinstance(wav_or_sources, (bytes, bytearray)):
        sources = {"wav": "data:audio/wav;base64," + base64.b64encode(bytes(wav_or_sources)).decode("ascii")}
    else:
        sources = dict(wav_or_sources)
    res = _player(key=key, data={**sources, "clip": key}, default={"listened": 0.0},
                  on_listened_change=lambda: None)
    try:
        return float(res.listened or 0.0)
    except (AttributeError, TypeError, ValueError):
        return 0.0


def mushra_player(reference: dict[str, str], clips: list[tuple[str, dict[str, str]]], *, key: str,
                  page: str) -> dict[str, float]:
    """The MUSHRA player; returns seconds played per clip label (as the browser reports them)."""
    res = _mushra(key=key, data={"page": page, "reference": reference,
                                 "clips": [{"key": k, **src} for k, src in clips]},
                  default={"played": {}}, on_played_change=lambda: None)
    try:
        return {str(k): float(v) for k, v in dict(res.played or {}).items()}
    except (AttributeError, TypeError, ValueError):
        return {}


def admin_secret() -> str | None:
    return os.environ.get("MUSEBENCH_ADMIN_SECRET") or None


def require_admin() -> None:
    """Stop the page unless this session has entered the admin secret.

    Wrong secrets are counted in the database (every session and replica shares the count):
    see :mod:`musebench.listening_app.signin` for the backoff and lockout.
    """
    from . import signin

    secret = admin_secret()
    if not secret:
        st.error("The admin pages are disabled: set MUSEBENCH_ADMIN_SECRET where the app runs.")
        st.stop()
    if st.session_state.get("_admin_ok"):
        return
    st.title("Admin sign-in")
    given = st.text_input("Admin secret", type="password", key="admin_secret_input")
    if st.button("Sign in", key="admin_sign_in"):
        store = get_store()
        wait = signin.locked_for(store)
        if wait > 0:
            st.error(signin.lock_message(wait))
            st.stop()
        ok = hmac.compare_digest(given.encode(), secret.encode())
        signin.record(store, ok=ok)
        if ok:
            st.session_state["_admin_ok"] = True
            st.rerun()
        wait = signin.locked_for(store)
        st.error("Wrong secret." + (" " + signin.lock_message(wait) if wait > 0 else ""))
    st.stop()


def choose_study(store: Store, *, key: str,
                 empty: str = "No study yet. Create one with `musebench study create`.") -> StudyView:
    """A study picked in a select box (stops the page with ``empty`` when there is none)."""
    from . import ratings as R

    studies = R.list_studies(store)
    if not studies:
        st.info(empty)
        st.stop()
    name = st.selectbox("Study", [s.name for s in studies], key=key)
    return next(s for s in studies if s.name == name)
