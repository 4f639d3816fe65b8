"""Pages of the listening app (run by ``st.navigation`` in ``listening_app/app.py``, not imported)."""
