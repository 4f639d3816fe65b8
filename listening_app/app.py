"""Entry point of the listening app: ``musebench app`` or ``streamlit run listening_app/app.py``.

Pages: the rater's page (default, ``/?study=<public id>`` or the resume link ``/?r=<token>``),
``/admin`` and ``/leaderboard`` (both behind ``$MUSEBENCH_ADMIN_SECRET``). Navigation is hidden
so raters see no menu; the admin pages link to each other once signed in.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

st.set_page_config(page_title="Listening study", page_icon=":headphones:", layout="centered")
for _option, _value in (("client.toolbarMode", "minimal"), ("client.showErrorDetails", "none")):
    try:  # raters get no developer menu and no tracebacks, however the app was started
        st.set_option(_option, _value)
    except Exception:  # pragma: no cover - options Streamlit does not let a script set
        pass
_HERE = Path(__file__).resolve().parent
pages = [
    st.Page(_HERE / "pages" / "rate.py", title="Listening study", default=True),
    st.Page(_HERE / "pages" / "admin.py", title="Admin", url_path="admin"),
    st.Page(_HERE / "pages" / "leaderboard.py", title="Leaderboard", url_path="leaderboard"),
]
st.navigation(pages, position="hidden").run()
