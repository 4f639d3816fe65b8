"""The rater's page: consent, volume and headphone check, training, trials, completion code.

One trial layout per protocol: ACR (one clip, 1-5 questions, the source beside it for
similarity), DCR (the reference, then the clip; the degradation scale), A/B (two clips, "which do
you prefer"), MUSHRA (the reference and every condition of an item on one page, 0-100 sliders).
Nothing here shows or sends a condition (model) name: trials and stimuli are opaque random ids,
audio comes under opaque per-rater names (or as WAV bytes), and every text comes from the study's
checked title or fixed strings. The server checks the listening time and the answers
(:mod:`musebench.listening_app.ratings`); a refusal is shown as one line.
"""
from __future__ import annotations

import base64
import time

import streamlit as st

from musebench.audio import audio_bytes
from musebench.listening_app import ratings as R
from musebench.listening_app.audio_route import to_flac
from musebench.listening_app.questions import QUESTIONS
from musebench.listening_app.stimuli import headphone_check
from musebench.listening_app.ui import clip_sources, get_store, mushra_player, player

store = get_store()
params = st.query_params

INSTRUCTIONS = {
    "acr": "You will hear short music clips and rate them on a scale from 1 to 5.",
    "dcr": ("Each time you will hear a reference clip and then a second clip, and say how much the second "
            "one is degraded compared with the reference, on a scale from 1 to 5."),
    "mushra": ("Each page has a reference clip and several versions of it. Rate each version from 0 to 100 "
               "compared with the reference. One of the versions is the reference itself: rate it 100."),
    "ab": "Each time you will hear two clips, A and B, and say which one you prefer.",
}


def resume_link(token: str) -> str:
    base = (st.context.url or "").split("?", 1)[0]
    return f"{base}?r={token}"


def refused(exc: R.RefusedError) -> None:
    st.warning(str(exc))


def consent(study: R.StudyView) -> None:
    st.title(study.title)
    beeps = ("- Some clips end with a few **beeps**: then answer every question with the **number of beeps**, "
             "whatever you heard before them.\n" if int(study.config.get("n_traps") or 0) else "")
    st.markdown(
        "You are invited to take part in a listening study. " + INSTRUCTIONS[study.protocol] +
        " It takes about 10 to 20 minutes.\n\n"
        "- Please use **headphones** in a quiet place.\n"
        "- Your answers are stored with a random identifier; no personal data is collected beyond the "
        "crowd-platform id in your link, if any.\n"
        "- You may stop at any time. You can close the tab and continue later from the same address.\n"
        + beeps +
        "- Answers are accepted once you have listened to the clips.")
    agree = st.checkbox("I have read the above and agree to take part.", key="consent_agree")
    if st.button("Start", key="consent_start", type="primary", disabled=not agree):
        external = params.get("worker") or params.get("PROLIFIC_PID") or None
        try:
            rater = R.start_rater(store, public_id=study.public_id, external_id=external)
        except R.RefusedError as exc:
            refused(exc)
            st.stop()
        if rater.stage == "consent":
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
    if not st.session_state.get("shown-headphones"):
        R.show(store, rater, R.HEADPHONES, [first.stimulus_id] if first is not None else [])
        st.session_state["shown-headphones"] = True
    if first is not None:
        player(clip_sources(rater, first.stimulus_id), key="volume-clip")
    st.markdown(f"Next, {n} short check(s): each clip has three low tones. **Which tone is the quietest?**")
    answers = []
    for k in range(n):
        audio, _ = headphone_check(seed=R.headphone_seed(rater, k), sample_rate=sr)
        flac = base64.b64encode(to_flac(audio_bytes(audio, sr))).decode("ascii")  # tones: 27 kB, not 470 kB
        played = player({"flac": "data:audio/flac;base64," + flac}, key=f"hp-{k}")
        answers.append(st.radio(f"Check {k + 1}: the quietest tone was", [1, 2, 3], index=None, horizontal=True,
                                format_func=lambda v: ("first", "second", "third")[v - 1], key=f"hp-answer-{k}",
                                disabled=played <= 0.0))
    if st.button("Continue", key="hp-continue", type="primary", disabled=any(a is None for a in answers)):
        if any(a not in (1, 2, 3) for a in answers):
            st.warning("Please choose one of the three tones in every check.")
            st.stop()
        try:
            R.record_headphone_check(store, rater, [int(a) for a in answers if a is not None])  # all set (checked above)
        except R.RefusedError as exc:
            refused(exc)
            st.stop()
        st.rerun()


def _answer(question, key: str, disabled: bool):
    """A radio for a category question; None until answered (a forged option counts as unanswered)."""
    value = st.radio(question.prompt, question.options, index=None, format_func=question.option_text, key=key,
                     disabled=disabled, horizontal=question.key == "preference")
    return value if value in question.labels else None


def _submit(token: str, trial_id: str, questions: tuple[str, ...], view_key: str) -> None:
    """The Submit button's callback: store the answers before the page reruns.

    Running the submit as a callback (before the script) lets the same run render the next trial:
    one script run per submit instead of two (submit, then ``st.rerun``).
    """
    answers = {q: st.session_state.get(f"ans-{trial_id}-{q}") for q in questions}
    if any(v not in QUESTIONS[q].labels for q, v in answers.items()):
        st.session_state["_refused"] = "Please answer every question."
        return
    shown = st.session_state.get(f"shown-{view_key}", time.monotonic())
    try:
        R.submit_ratings(store, token=token, trial_id=trial_id, answers={q: int(v) for q, v in answers.items() if v is not None},
                         response_ms=int((time.monotonic() - shown) * 1000),
                         listen_fraction=st.session_state.get(f"_listened-{trial_id}"))
    except R.RefusedError as exc:
        st.session_state["_refused"] = str(exc)


def _submit_page(token: str, members: tuple[tuple[str, str], ...], view_key: str) -> None:
    """The MUSHRA Submit button's callback (see :func:`_submit`)."""
    shown = st.session_state.get(f"shown-{view_key}", time.monotonic())
    values = {tid: st.session_state.get(f"mushra-{tid}", 0) for tid, _ in members}
    try:
        R.submit_page(store, token=token, answers={t: int(v) for t, v in values.items()},
                      response_ms=int((time.monotonic() - shown) * 1000))
    except (R.RefusedError, TypeError, ValueError) as exc:
        st.session_state["_refused"] = str(exc) if isinstance(exc, R.RefusedError) else "Please rate every clip."


def page_body(view: str):
    """The container that holds one view's elements (consent, the checks, one trial, the end).

    Streamlit replaces a page's elements position by position as the script reruns, and drops the
    ones it did not reach only when the run ends. When the rater moves on to another view, the
    previous view's players would stay attached meanwhile, beside the new ones (a rater could play
    the last trial's clip; a test locating the page's players raced with them). So the first run
    of a view starts from a fresh block: a placeholder replaced by a container at position 0
    discards the old block's children at once. Reruns within a view reuse the container, so its
    players are updated in place, not remounted.
    """
    fresh = st.session_state.get("_view") != view
    st.session_state["_view"] = view
    return st.empty().container() if fresh else st.container()


def trials(rater: R.RaterView) -> None:
    trial = R.next_trial(store, rater)
    if trial is None:
        R.set_stage(store, rater.token, "done")
        st.rerun()
    with page_body(f"trial-{trial.view_key}"):
        _trial(rater, trial)


def _trial(rater: R.RaterView, trial: R.TrialView) -> None:
    st.session_state["current_trial"] = trial.id
    refusal = st.session_state.pop("_refused", None)
    if refusal:
        st.warning(refusal)
    if f"shown-{trial.view_key}" not in st.session_state:  # the server's clock starts once per trial
        R.show(store, rater, trial.view_key, trial.clip_ids())
        st.session_state[f"shown-{trial.view_key}"] = time.monotonic()
    shown = st.session_state[f"shown-{trial.view_key}"]
    if trial.kind == "training":
        st.subheader("Training")
        if trial.caption:
            st.info(trial.caption)
    else:
        st.progress(trial.done / max(trial.total, 1), text=f"{'Page' if trial.members else 'Clip'} "
                                                           f"{trial.done + 1} of {trial.total}")
    proto = rater.study.protocol
    if trial.members:
        return mushra_page(rater, trial, shown)
    need = float(rater.study.config.get("min_listen_fraction", 0.9))
    if proto == "ab":
        st.markdown("**Clip A**")
        heard_a = player(clip_sources(rater, trial.stimulus_id), key=f"a-{trial.id}")
        st.markdown("**Clip B**")
        heard_b = player(clip_sources(rater, trial.other_id), key=f"b-{trial.id}")
        listened = min(heard_a, heard_b)
        hint = "Play both clips to their end to enable the answer."
    elif proto == "dcr":
        st.markdown("**1. Reference**")
        heard_ref = player(clip_sources(rater, trial.source_id), key=f"src-{trial.id}")
        st.markdown("**2. Clip to rate**")
        listened = min(heard_ref, player(clip_sources(rater, trial.stimulus_id), key=f"stim-{trial.id}"))
        hint = "Play the reference and the clip to their end to enable the rating."
    else:
        if trial.source_id:
            st.markdown("**Source clip** (for comparison)")
            player(clip_sources(rater, trial.source_id), key=f"src-{trial.id}")
        st.markdown("**Clip to rate**")
        listened = player(clip_sources(rater, trial.stimulus_id), key=f"stim-{trial.id}")
        hint = "Play the clip to its end to enable the rating."
    enabled = listened >= need
    st.session_state[f"_listened-{trial.id}"] = listened
    if not enabled:
        st.caption(hint)
    answers = {q: _answer(QUESTIONS[q], f"ans-{trial.id}-{q}", not enabled) for q in trial.questions}
    missing = any(v is None for v in answers.values())
    st.button("Submit rating", key=f"submit-{trial.id}", type="primary", disabled=not enabled or missing,
              on_click=_submit, args=(rater.token, trial.id, trial.questions, trial.view_key))
    break_link(rater)


def mushra_page(rater: R.RaterView, trial: R.TrialView, shown: float) -> None:
    st.markdown("Click **Reference** and each version to listen; switching keeps the position. "
                "Tick *Loop* to repeat a region. Rate every version compared with the reference.")
    labels = [chr(ord("A") + k) for k in range(len(trial.members))]
    played = mushra_player(clip_sources(rater, trial.source_id),
                           [(lab, clip_sources(rater, sid)) for lab, (_, sid) in zip(labels, trial.members)],
                           key=f"mushra-{trial.view_key}", page=trial.view_key)
    all_played = all(played.get(lab, 0.0) > 0 for lab in labels)
    for lab, (tid, _) in zip(labels, trial.members):
        st.slider(f"{lab}", 0, 100, 0, key=f"mushra-{tid}",
                                help="80-100 Excellent, 60-80 Good, 40-60 Fair, 20-40 Poor, 0-20 Bad")
    st.caption("0-20 Bad · 20-40 Poor · 40-60 Fair · 60-80 Good · 80-100 Excellent")
    if not all_played:
        st.caption("Listen to every version (A, B, ...) to enable the answer.")
    st.button("Submit ratings", key=f"submit-{trial.view_key}", type="primary", disabled=not all_played,
              on_click=_submit_page, args=(rater.token, trial.members, trial.view_key))
    break_link(rater)


def break_link(rater: R.RaterView) -> None:
    with st.expander("Taking a break?"):
        st.markdown("Your answers are saved as you go. To continue later, keep this address:")
        st.code(resume_link(rater.token), language=None)


def done(rater: R.RaterView) -> None:
    st.title("Thank you!")
    st.success("You have finished the study. Your completion code is:")
    st.code(rater.completion_code, language=None)
    url = rater.study.config.get("completion_url")
    if url:
        st.link_button("Return to the study platform", R.completion_link(url, rater.completion_code), type="primary")


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
    with page_body("consent"):
        consent(study)
elif rater.stage == "headphones":
    with page_body("headphones"):
        headphones(rater)
elif rater.stage in ("consent", "trials"):
    trials(rater)
else:
    with page_body("done"):
        done(rater)
