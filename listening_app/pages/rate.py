"""The rater's page: consent, volume and headphone check, training, trials, completion code.

Nothing here shows or sends a condition (model) name: trials and stimuli are opaque random ids,
audio is WAV bytes, and every text comes from the study's checked title or fixed strings.
"""
from __future__ import annotations

import time

import streamlit as st

from benchmark.audio import audio_bytes
from listening_app import ratings as R
from listening_app.questions import QUESTIONS
from listening_app.stimuli import headphone_check
from listening_app.ui import get_store, player, stimulus_bytes

store = get_store()
params = st.query_params


def resume_link(token: str) -> str:
    base = (st.context.url or "").split("?", 1)[0]
    return f"{base}?r={token}"


def consent(study: R.StudyView) -> None:
    st.title(study.title)
    st.markdown(
        "You are invited to take part in a listening study. You will hear short music clips and rate "
        "them on a scale from 1 to 5. It takes about 10 to 20 minutes.\n\n"
        "- Please use **headphones** in a quiet place.\n"
        "- Your answers are stored with a random identifier; no personal data is collected beyond the "
        "crowd-platform id in your link, if any.\n"
        "- You may stop at any time. You can close the tab and continue later from the same address.\n"
        "- Some clips end with a few **beeps**: then answer every question with the **number of beeps**, "
        "whatever you heard before them.\n"
        "- A rating is enabled once you have played the clip to its end.")
    agree = st.checkbox("I have read the above and agree to take part.", key="consent_agree")
    if st.button("Start", key="consent_start", type="primary", disabled=not agree):
        external = params.get("worker") or params.get("PROLIFIC_PID") or None
        rater = R.start_rater(store, public_id=study.public_id, external_id=external)
        hp = int(study.config.get("headphone_trials", 0))
        R.set_stage(store, rater.token, "headphones" if hp else "trials")
        params.clear()
        params["r"] = rater.token
        st.rerun()


def headphones(rater: R.RaterView) -> None:
    cfg = rater.study.config
    n = int(cfg.get("headphone_trials", 0))
    sr = 22050  # two 16-bit channels of low tones: small enough to send on every visit
    st.title("Volume and headphone check")
    st.markdown("Put on your headphones. Play the clip below and set your volume to a **comfortable** "
                "level. Please do not change the volume during the study.")
    first = R.next_trial(store, rater)
    if first is not None:
        player(stimulus_bytes(first.stimulus_id), key="volume-clip")
    st.markdown(f"Next, {n} short check(s): each clip has three low tones. **Which tone is the quietest?**")
    answers = []
    for k in range(n):
        audio, _ = headphone_check(seed=R.headphone_seed(rater, k), sample_rate=sr)
        played = player(audio_bytes(audio, sr), key=f"hp-{k}")
        answers.append(st.radio(f"Check {k + 1}: the quietest tone was", [1, 2, 3], index=None, horizontal=True,
                                format_func=lambda v: ("first", "second", "third")[v - 1], key=f"hp-answer-{k}",
                                disabled=played <= 0.0))
    if st.button("Continue", key="hp-continue", type="primary", disabled=any(a is None for a in answers)):
        R.record_headphone_check(store, rater, [int(a) for a in answers])
        st.rerun()


def trials(rater: R.RaterView) -> None:
    trial = R.next_trial(store, rater)
    if trial is None:
        R.set_stage(store, rater.token, "done")
        st.rerun()
    st.session_state["current_trial"] = trial.id
    shown = st.session_state.setdefault(f"shown-{trial.id}", time.monotonic())
    if trial.kind == "training":
        st.subheader("Training")
        if trial.caption:
            st.info(trial.caption)
    else:
        st.progress(trial.done / max(trial.total, 1), text=f"Clip {trial.done + 1} of {trial.total}")
    if trial.source_id:
        st.markdown("**Source clip** (for comparison)")
        player(stimulus_bytes(trial.source_id), key=f"src-{trial.id}")
    st.markdown("**Clip to rate**")
    listened = player(stimulus_bytes(trial.stimulus_id), key=f"stim-{trial.id}")
    need = float(rater.study.config.get("min_listen_fraction", 0.9))
    enabled = listened >= need
    if not enabled:
        st.caption("Play the clip to its end to enable the rating.")
    answers = {}
    for q in trial.questions:
        question = QUESTIONS[q]
        answers[q] = st.radio(question.prompt, [5, 4, 3, 2, 1], index=None, format_func=question.option_text,
                              key=f"ans-{trial.id}-{q}", disabled=not enabled)
    missing = any(v is None for v in answers.values())
    if st.button("Submit rating", key=f"submit-{trial.id}", type="primary", disabled=not enabled or missing):
        R.submit_ratings(store, token=rater.token, trial_id=trial.id, answers={q: int(v) for q, v in answers.items()},
                         response_ms=int((time.monotonic() - shown) * 1000), listen_fraction=listened)
        st.rerun()
    with st.expander("Taking a break?"):
        st.markdown("Your answers are saved as you go. To continue later, keep this address:")
        st.code(resume_link(rater.token), language=None)


def done(rater: R.RaterView) -> None:
    st.title("Thank you!")
    st.success("You have finished the study. Your completion code is:")
    st.code(rater.completion_code, language=None)


token = params.get("r")
rater = R.get_rater(store, token) if token else None
if token and rater is None:
    st.error("This link is not valid. Please use the link you were given.")
    st.stop()
if rater is None:
    public = params.get("study")
    study = R.find_study(store, public_id=public) if public else None
    if study is None:
        st.title("Listening study")
        st.info("Please open the study link you were given." if not public else "This study link is not valid.")
        st.stop()
    if study.status != "open":
        st.title(study.title)
        st.warning("This study is closed.")
        st.stop()
    consent(study)
elif rater.stage == "headphones":
    headphones(rater)
elif rater.stage in ("consent", "trials"):
    trials(rater)
else:
    done(rater)
