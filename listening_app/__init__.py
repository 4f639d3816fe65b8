"""MuseBench listening app: blind MOS studies with screening, statistics and a leaderboard.

Modules
-------
store       SQLAlchemy models, engine set-up (SQLite WAL or PostgreSQL) and versioned migrations.
study       Building a study from runs in ``results/`` or from a folder of audio with a manifest.
stimuli     Loudness normalisation (ITU-R BS.1770 via pyloudnorm), anchors, traps, headphone check.
assignment  Per-rater balanced subsets and randomised order.
ratings     The storage path used by the app: raters, stages and idempotent rating submits.
screening   P.808 / CrowdMOS-style rater screening.
analysis    MOS with confidence intervals, pairwise tests with Holm correction, ties, leaderboard.
app         The Streamlit entry point (``musebench app`` or ``streamlit run listening_app/app.py``).
"""
