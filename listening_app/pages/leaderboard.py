"""Leaderboard (behind $MUSEBENCH_ADMIN_SECRET): MOS beside the automatic metrics of the same runs."""
from __future__ import annotations

import numpy as np
import streamlit as st

from musebench.listening_app import analysis as A
from musebench.listening_app.ui import choose_study, get_store, require_admin

require_admin()
store = get_store()
st.title("Leaderboard: listening tests and automatic metrics")
name = choose_study(store, key="lb_study").name
with st.sidebar:
    st.page_link("pages/admin.py", label="Admin")
an = A.analyse(store, name)
if an.mos.empty:
    st.info("No ratings from kept raters yet.")
    st.stop()
questions = sorted(an.mos["question"].unique())
q = st.radio("Question", questions, horizontal=True, key="lb_question")
board = an.board.copy()
score = f"{q}_{A.score_name(q)}"
extra = [f"{q}_win_rate"] if f"{q}_win_rate" in board else []
view = board[["condition", "kind", f"{q}_rank", score, f"{q}_ci_low", f"{q}_ci_high", f"{q}_n", *extra,
              f"{q}_tied_with"] + [c for c in board.columns if c.startswith("metric:")]]
view = view.rename(columns={f"{q}_rank": "rank", score: A.SCORE_LABELS[A.score_name(q)], f"{q}_ci_low": "CI low",
                            f"{q}_ci_high": "CI high", f"{q}_n": "ratings" if not extra else "comparisons",
                            f"{q}_win_rate": "win rate", f"{q}_tied_with": "tied with (not significant)"})
shared = view["rank"].duplicated(keep=False)
view["rank"] = ["" if not np.isfinite(r) else f"{int(r)}=" if s else f"{int(r)}" for r, s in
                zip(view["rank"], shared)]
st.dataframe(view, hide_index=True, key="lb_table")
test = {"mannwhitney": "Mann-Whitney U", "ttest": "paired t-test", "bootstrap": "bootstrap over raters"}[
    A.DEFAULT_TEST[an.protocol]]
st.caption(f"Rank = 1 + the number of conditions significantly better ({test}, Holm-corrected, "
           "alpha 0.05); '=' marks a rank number another row shares (as on every MuseBench board); "
           "'tied with' lists the conditions that do not differ significantly. "
           + ("Bradley-Terry log-strengths (mean 0) with 95 % bootstrap intervals over raters."
              if an.protocol == "ab" else "95 % Student-t intervals over ratings of raters kept by screening."))
agree = A.metric_agreement(board, question=q)
if len(agree):
    st.subheader("Agreement of automatic metrics with MOS (Spearman, system conditions)")
    st.dataframe(agree, hide_index=True, key="lb_agree")
st.subheader("Rating distributions")
st.pyplot(A.plot_distributions(an.mos, question=q), clear_figure=True)
