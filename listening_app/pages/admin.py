"""Admin page (behind $MUSEBENCH_ADMIN_SECRET): progress, raters, screening, MOS and exports."""
from __future__ import annotations

import json

import streamlit as st

from musebench.listening_app import analysis as A
from musebench.listening_app import ratings as R
from musebench.listening_app.data import stimuli_frame, trial_coverage
from musebench.listening_app.export import to_csv, to_json
from musebench.listening_app.screening import Thresholds
from musebench.listening_app.ui import choose_study, get_store, require_admin

require_admin()
store = get_store()
st.title("Listening studies: admin")
study = choose_study(store, key="admin_study")
name = study.name

with st.sidebar:
    st.page_link("pages/leaderboard.py", label="Leaderboard")
    st.subheader("Screening thresholds")
    th = Thresholds(
        require_finished=st.checkbox("Exclude unfinished raters", True, key="th_finished"),
        max_gold_failures=int(st.number_input("Gold failures allowed", 0, 100, 0, key="th_gold")),
        max_trap_failures=int(st.number_input("Trap failures allowed", 0, 100, 0, key="th_trap")),
        min_correlation=float(st.number_input("Min. correlation with others", -1.0, 1.0, 0.25, 0.05, key="th_corr")),
        min_common=int(st.number_input("Common ratings needed for the correlation", 2, 1000, 4, key="th_common")),
        require_headphones=st.checkbox("Exclude failed headphone checks", False, key="th_hp"),
    )
    tests = list(A.PAIRWISE_TESTS)
    default_test = A.DEFAULT_TEST[study.protocol]
    method = (st.selectbox("Pairwise test", tests, index=tests.index(default_test), key="admin_method")
              if study.protocol != "ab" else None)
    boot = st.number_input("Bootstrap resamples (0: off; A/B: 1000)", 0, 20000, 0, 500, key="admin_boot")

an = A.analyse(store, name, thresholds=th, bootstrap=int(boot), method=method)
st.caption(f"Protocol: {study.protocol.upper()}")
base = (st.context.url or "").split("?", 1)[0].rsplit("/admin", 1)[0].rstrip("/")
st.markdown("**Rater link** (give this to raters; append `&worker=ID` for a crowd-platform id):")
st.code(f"{base}/?study={study.public_id}", language=None)

c1, c2, c3, c4 = st.columns(4)
c1.metric("Raters started", len(an.raters))
c2.metric("Finished", int(an.raters["finished"].sum()) if len(an.raters) else 0)
c3.metric("Kept by screening", int((~an.screening["excluded"]).sum()) if len(an.screening) else 0)
c4.metric("Ratings stored", len(an.ratings))
cov = trial_coverage(store, study.id)
if len(cov):
    st.caption(f"Test trials: {len(cov)}; raters assigned per trial: min {cov['assigned_count'].min()}, "
               f"max {cov['assigned_count'].max()}.")

new_status = st.radio("Status", ["open", "closed"], index=0 if study.status == "open" else 1, horizontal=True,
                      key="admin_status")
if new_status is not None and new_status != study.status:
    R.set_study_status(store, name, new_status)
    st.rerun()

st.subheader("Scores")
st.text(A.format_mos(an.mos, an.ranks))
if len(an.wins):
    st.caption("Win matrix (row beat column; a 'no preference' counts half to each)")
    st.dataframe(an.wins, key="admin_wins")
for q in sorted(an.mos["question"].unique()):
    st.pyplot(A.plot_distributions(an.mos, question=q), clear_figure=True)
st.subheader("Screening")
st.dataframe(an.screening, hide_index=True, key="admin_screening")
st.subheader("Pairwise tests (Holm-corrected)")
st.dataframe(an.pairs, hide_index=True, key="admin_pairs")
with st.expander("Raters (with completion codes)", expanded=True):
    st.dataframe(an.raters, hide_index=True, key="admin_raters")
with st.expander("Loudness log (per stimulus: loudness before, gain, true peak after)"):
    st.caption(f"Target: {study.config.get('target_lufs_used')} LUFS")
    st.dataframe(stimuli_frame(store, study.id).drop(columns=["sha256"]), hide_index=True, key="admin_loudness")

st.subheader("Exports")
tables = ["ratings", "raters", "screening", "mos", "pairwise", "leaderboard"] + (["wins"] if len(an.wins) else [])
cols = st.columns(len(tables))
for col, table in zip(cols, tables):
    col.download_button(f"{table}.csv", to_csv(an, table), file_name=f"{name}_{table}.csv", mime="text/csv",
                        key=f"dl_{table}")
st.download_button("everything (JSON)", json.dumps(to_json(an), indent=1), file_name=f"{name}.json",
                   mime="application/json", key="dl_json")
