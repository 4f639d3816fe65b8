"""Streamlit helpers shared by the pages: the store, the gated audio player, the admin check.

The player is an inline ``st.components.v2`` component (HTML ``<audio>`` plus a few lines of
JavaScript, no build step). When the clip reaches its end it reports the fraction of the clip
that was actually played (the browser's ``played`` time ranges, so seeking to the end does not
count) back to Python; the page enables rating only when that fraction reaches the study's
``min_listen_fraction``. Audio goes to the browser as WAV bytes in a ``data:`` URL, exactly as
stored (16-bit PCM, loudness-normalised at study creation): no rescaling, no file name.
"""
from __future__ import annotations

import base64
import hmac
import os
import time
from typing import TYPE_CHECKING

import streamlit as st

from .store import Store

if TYPE_CHECKING:
    from .ratings import StudyView

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
    audio.src = data.src;
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


def player(wav: bytes, *, key: str) -> float:
    """Show a player for ``wav``; return the fraction of it played when it last reached its end."""
    src = "data:audio/wav;base64," + base64.b64encode(wav).decode("ascii")
    res = _player(key=key, data={"src": src, "clip": key}, default={"listened": 0.0},
                  on_listened_change=lambda: None)
    try:
        return float(res.listened or 0.0)
    except (AttributeError, TypeError, ValueError):
        return 0.0


def admin_secret() -> str | None:
    return os.environ.get("MUSEBENCH_ADMIN_SECRET") or None


def require_admin() -> None:
    """Stop the page unless this session has entered the admin secret."""
    secret = admin_secret()
    if not secret:
        st.error("The admin pages are disabled: set MUSEBENCH_ADMIN_SECRET where the app runs.")
        st.stop()
    if st.session_state.get("_admin_ok"):
        return
    st.title("Admin sign-in")
    given = st.text_input("Admin secret", type="password", key="admin_secret_input")
    if st.button("Sign in", key="admin_sign_in"):
        if hmac.compare_digest(given.encode(), secret.encode()):
            st.session_state["_admin_ok"] = True
            st.rerun()
        time.sleep(1.0)  # slows down guessing
        st.error("Wrong secret.")
    st.stop()


def choose_study(store: Store, *, key: str,
                 empty: str = "No study yet. Create one with `musebench study create`.") -> "StudyView":
    """A study picked in a select box (stops the page with ``empty`` when there is none)."""
    from . import ratings as R

    studies = R.list_studies(store)
    if not studies:
        st.info(empty)
        st.stop()
    name = st.selectbox("Study", [s.name for s in studies], key=key)
    return next(s for s in studies if s.name == name)
