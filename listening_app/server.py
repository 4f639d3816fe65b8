"""The listening app as an ASGI app: Streamlit's pages plus ``/audio/<name>`` (clips as files).

``musebench app`` runs ``streamlit run listening_app/server.py``; Streamlit finds ``app`` (an
``st.App``) and serves the pages of ``listening_app/app.py`` beside the audio route of
:mod:`musebench.listening_app.audio_route`. Any ASGI server can run it too (``uvicorn
musebench.listening_app.server:app``), e.g. several processes behind one database.
"""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st
from streamlit import config as _config

from musebench.listening_app.audio_route import routes
from musebench.listening_app.ui import AUDIO_HTTP_ENV

os.environ[AUDIO_HTTP_ENV] = "1"  # the pages (same process) hand out /audio/ URLs
# Streamlit runs a full gc.collect(2) after every script run (runner.postScriptGC). With this app's
# heap (NumPy, SciPy, pandas, SQLAlchemy) that was 3/4 of the server's CPU under load (py-spy,
# 40 raters); Python's generational GC still runs as usual.
if "STREAMLIT_RUNNER_POST_SCRIPT_GC" not in os.environ:
    _config.set_option("runner.postScriptGC", False)
app = st.App(Path(__file__).resolve().parent / "app.py", routes=routes())
