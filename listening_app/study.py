"""Build a listening study from runs in ``results/`` or from a folder of audio with a manifest.

A study is built in memory (:func:`build_study`) and then saved in one transaction
(:func:`save_study`). Building picks the items, adds the hidden reference and a low anchor
where there is a reference, gold items with known answers, trap items and training examples,
loudness-normalises every clip to one study-wide target (ITU-R BS.1770, chosen so that nothing
clips) and gives every stimulus and trial an opaque random id. Condition (model) names stay on
the server: they are checked not to appear in any text a rater sees. Where the stimuli come from
(runs or a manifest) is :mod:`musebench.listening_app.sources`.
"""
from __future__ import annotations

import itertools
import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any
from collections.abc import Sequence

import numpy as np

from musebench.errors import ConfigError

from . import stimuli as sx
from .questions import PROTOCOL_QUESTIONS, QUESTIONS
from .sources import (CONDITION_KINDS, AudioRef, Entry, entries_from_manifest,  # noqa: F401 (re-exported)
                      entries_from_runs, load_clip)

FAMILIES = ("translation", "generation", "transcription")
PROTOCOLS = ("acr", "dcr", "mushra", "ab")
DEFAULT_QUESTIONS = {"translation": ("quality", "similarity"), "generation": ("quality",),
                     "transcription": ("quality", "similarity")}
DUPLICATE_WORKERS = ("resume", "refuse")
#: checks each protocol supports: (gold, traps). MUSHRA screens with its hidden reference instead.
_CHECKS = {"acr": (True, True), "dcr": (True, True), "mushra": (False, False), "ab": (True, False)}
_DEFAULT_CHECKS = {"acr": (2, 1), "dcr": (2, 1), "mushra": (0, 0), "ab": (2, 0)}


@dataclass
class StudyConfig:
    """What a study asks and how it is built (stored with the study).

    Attributes
    ----------
    name : str
        Server-side name (CLI, admin page); never shown to raters.
    title : str
        Shown to raters; must not contain a condition name.
    family : str
        translation, generation or transcription.
    protocol : str
        ``acr`` (absolute 1-5 ratings, ITU-T P.800 / P.808), ``dcr`` (degradation against the
        reference, P.800 Annex D), ``mushra`` (ITU-R BS.1534-3) or ``ab`` (pairwise preference).
    questions : tuple of str
        Keys of :data:`musebench.listening_app.questions.QUESTIONS` (default per family and protocol).
    n_items : int or None
        Items to sample for the test trials (None: every item that has a clip from every
        condition, less the items held out for gold, trap and training clips).
    per_rater : int or None
        Test trials per rater (MUSHRA: item pages per rater; None: all); chosen for balanced coverage.
    raters_per_trial : int or None
        Fill every test trial (MUSHRA: page) to this many raters, then refuse new raters.
    n_gold, n_traps : int or None
        Gold items (known answer) and trap items (beep count) per rater (None: the protocol's default).
    max_seconds : float or None
        Crop every clip to its first ``max_seconds``.
    target_lufs, headroom_db, max_gain_db : float
        Preferred loudness, required true-peak headroom, largest gain applied.
    headphone_trials, headphone_pass : int
        Trials of the antiphase headphone check, and how many must be right to pass (Woods et al.
        2017: 6 trials, 5 right; a guesser passes with probability 13/729 = 1.8 %).
    min_listen_fraction : float
        Share of a clip's duration that must pass, on the server's clock, between showing a trial
        and accepting its answer (0 turns the check off).
    completion_code : str or None
        A fixed code for crowd platforms; None gives each rater their own random code.
    completion_url : str or None
        Where a finishing rater is sent back (``{code}`` is replaced by the completion code;
        without it ``cc=<code>`` is appended), e.g. Prolific's completion URL.
    duplicate_workers : str
        A second start with the same crowd-platform worker id ``resume``s the first rater or is
        ``refuse``d.
    """

    name: str
    title: str = "Listening study"
    family: str = "translation"
    protocol: str = "acr"
    questions: tuple[str, ...] = ()
    n_items: int | None = None
    per_rater: int | None = None
    raters_per_trial: int | None = None
    n_gold: int | None = None
    n_traps: int | None = None
    training: bool = True
    hidden_reference: bool = True
    low_anchor: bool = True
    anchor_cutoff_hz: float = 3500.0
    mid_anchor_cutoff_hz: float = 7000.0
    sample_rate: int = 44100
    max_seconds: float | None = 10.0
    target_lufs: float = -23.0
    headroom_db: float = 1.0
    max_gain_db: float = 40.0
    headphone_trials: int = 6
    headphone_pass: int = 5
    min_listen_fraction: float = 0.9
    completion_code: str | None = None
    completion_url: str | None = None
    duplicate_workers: str = "resume"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ConfigError(f"study {self.name!r}: family must be one of {', '.join(FAMILIES)}, not {self.family!r}")
        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"study {self.name!r}: protocol must be one of {', '.join(PROTOCOLS)}, "
                              f"not {self.protocol!r}")
        fixed = PROTOCOL_QUESTIONS.get(self.protocol)
        if fixed and self.questions and tuple(self.questions) != fixed:
            raise ConfigError(f"study {self.name!r}: protocol {self.protocol!r} asks {', '.join(fixed)} only, "
                              f"not {', '.join(self.questions)}")
        self.questions = tuple(self.questions) or fixed or DEFAULT_QUESTIONS[self.family]
        for q in self.questions:
            if q not in QUESTIONS:
                raise ConfigError(f"study {self.name!r}: unknown question {q!r} (known: {', '.join(QUESTIONS)})")
            if self.protocol == "acr" and q in ("degradation", "mushra", "preference"):
                raise ConfigError(f"study {self.name!r}: question {q!r} belongs to another protocol "
                                  f"(--protocol {'dcr' if q == 'degradation' else 'ab' if q == 'preference' else q})")
        if not self.name or not self.name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ConfigError(f"study name {self.name!r} must be letters, digits, '-', '_' or '.'")
        gold_ok, traps_ok = _CHECKS[self.protocol]
        d_gold, d_traps = _DEFAULT_CHECKS[self.protocol]
        self.n_gold = d_gold if self.n_gold is None else self.n_gold
        self.n_traps = d_traps if self.n_traps is None else self.n_traps
        if self.n_gold and not gold_ok:
            raise ConfigError(f"study {self.name!r}: protocol {self.protocol!r} has no gold items "
                              "(its hidden reference screens raters); use --gold 0")
        if self.n_traps and not traps_ok:
            raise ConfigError(f"study {self.name!r}: protocol {self.protocol!r} has no trap items "
                              "(a beep count is no answer on its scale); use --traps 0")
        for attr in ("n_items", "per_rater", "raters_per_trial"):
            v = getattr(self, attr)
            if v is not None and v < 1:
                raise ConfigError(f"study {self.name!r}: {attr} must be at least 1, got {v}")
        if self.n_gold < 0 or self.n_traps < 0 or self.headphone_trials < 0:
            raise ConfigError(f"study {self.name!r}: n_gold, n_traps and headphone_trials must be >= 0")
        if self.n_gold and self.protocol == "acr" and "quality" not in self.questions:
            raise ConfigError(f"study {self.name!r}: gold items grade the quality question; ask it or set n_gold=0")
        if not 0.0 <= self.min_listen_fraction <= 1.0:
            raise ConfigError(f"study {self.name!r}: min_listen_fraction must be in [0, 1]")
        if self.headphone_pass > self.headphone_trials:
            raise ConfigError(f"study {self.name!r}: headphone_pass ({self.headphone_pass}) exceeds "
                              f"headphone_trials ({self.headphone_trials})")
        if self.duplicate_workers not in DUPLICATE_WORKERS:
            raise ConfigError(f"study {self.name!r}: duplicate_workers must be 'resume' or 'refuse', "
                              f"not {self.duplicate_workers!r}")
        if self.completion_url is not None and not self.completion_url.startswith(("https://", "http://")):
            raise ConfigError(f"study {self.name!r}: completion URL {self.completion_url!r} must start with "
                              "https:// or http://")

    @property
    def n_checks(self) -> int:
        return (self.n_gold or 0) + (self.n_traps or 0) + (1 if self.training else 0)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["questions"] = list(self.questions)
        return d


@dataclass
class BuiltStimulus:
    id: str
    item: str
    role: str                 # test | source | reference | gold | trap | training
    condition: str | None
    audio: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    wav: bytes = b""
    sha256: str = ""
    duration_s: float = 0.0
    loudness_lufs: float | None = None
    gain_db: float = 0.0
    peak_dbfs: float = 0.0


@dataclass
class BuiltTrial:
    id: str
    stimulus_id: str
    source_id: str | None     # ACR: the source clip; DCR and MUSHRA: the open reference
    kind: str                 # test | gold | trap | training
    questions: tuple[str, ...]
    expected: dict[str, Any] | None = None
    caption: str | None = None
    position: int = 0
    other_id: str | None = None   # A/B: clip B
    page: str | None = None       # MUSHRA: the page (item) this trial is rated on


@dataclass
class BuiltStudy:
    config: StudyConfig
    public_id: str
    conditions: list[dict[str, Any]]  # name, kind, run_dir, info
    stimuli: list[BuiltStimulus]
    trials: list[BuiltTrial]
    target_lufs: float
    items: list[str]
    check_items: list[str] = field(default_factory=list)

    def loudness_log(self) -> list[dict[str, Any]]:
        """Per clip: role, condition, item, loudness before, gain, true peak after (server side)."""
        return [{"stimulus": s.id, "role": s.role, "condition": s.condition, "item": s.item,
                 "loudness_lufs": s.loudness_lufs, "gain_db": round(s.gain_db, 3),
                 "peak_dbfs": round(s.peak_dbfs, 3), "duration_s": round(s.duration_s, 3)} for s in self.stimuli]


def new_id() -> str:
    """An opaque, unguessable id (128 random bits, hex)."""
    return secrets.token_hex(16)


# --------------------------------------------------------------------------- building
TRAINING_TEXT = {
    "good": "Training: a clean recording. Most listeners rate its quality Excellent (5) or Good (4).",
    "bad": "Training: a heavily degraded clip. Most listeners rate its quality Bad (1) or Poor (2).",
    "typical": "Training: a typical clip from this study. Rate it as you hear it.",
    "trap": ("Training: this clip ends with 2 beeps. Whenever a clip ends with beeps, answer every "
             "question with the number of beeps (here: 2), whatever you heard before them."),
}
TRAINING_TEXT_DCR = {
    "good": "Training: here the second clip is identical to the reference. Most listeners answer 5 (inaudible).",
    "bad": "Training: here the second clip is heavily degraded. Most listeners answer 1 or 2.",
    "typical": "Training: a typical pair from this study. Rate it as you hear it.",
    "trap": TRAINING_TEXT["trap"],
}
TRAINING_TEXT_AB = {
    "bad": "Training: one of these clips is heavily degraded. Most listeners prefer the other one.",
    "typical": "Training: a typical pair from this study. Choose the clip you prefer.",
}
TRAINING_TEXT_MUSHRA = ("Training: one page to get to know the clips and the scale. One of the clips is the "
                        "reference itself; rate it 100. These ratings are not analysed.")


def _pick_items(common: list[str], config: StudyConfig, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """(test items, check items): gold, trap and training clips come from items no test trial uses."""
    name, n = config.name, config.n_items
    if n is not None and n > len(common):
        raise ConfigError(f"study {name!r}: --items {n} asks for more items than the runs have: "
                          f"{len(common)} item(s) have a clip from every condition")
    if not config.n_checks:
        items = common if n is None else rng.choice(common, size=n, replace=False).tolist()
        return sorted(items), []
    if n is None:
        hold = min(3, max(1, len(common) // 5))
        n = len(common) - hold
    if n < 1 or n >= len(common):
        raise ConfigError(f"study {name!r}: gold, trap and training clips never reuse a test clip, so they need "
                          f"an item no test trial uses: {len(common)} item(s) available, {n or 0} asked for the "
                          "tests (ask for fewer --items, or --gold 0 --traps 0 --no-training)")
    order = rng.permutation(len(common))
    items = sorted(common[i] for i in order[:n])
    spare = sorted(common[i] for i in order[n:])
    return items, spare


def build_study(entries: Sequence[Entry], config: StudyConfig) -> BuiltStudy:
    """Pick items and stimuli, add reference/anchor/gold/trap/training clips, normalise loudness.

    Raises
    ------
    ConfigError
        No item has a clip from every condition; more items asked than there are; no item left
        for the check clips; the similarity question without source audio; DCR or MUSHRA without
        a reference for every item; a condition name that appears in rater-facing text.
    """
    rng = np.random.default_rng(config.seed)
    proto = config.protocol
    if not entries:
        raise ConfigError(f"study {config.name!r}: no stimuli given")
    conds: dict[str, dict[str, Any]] = {}
    by_cond: dict[str, dict[str, Entry]] = {}
    for e in entries:
        if e.kind not in CONDITION_KINDS:
            raise ConfigError(f"study {config.name!r}: condition {e.condition!r} has unknown kind {e.kind!r}")
        conds.setdefault(e.condition, {"name": e.condition, "kind": e.kind,
                                       "run_dir": str(e.run_dir) if e.run_dir else None, "info": {}})
        if e.item in by_cond.setdefault(e.condition, {}):
            raise ConfigError(f"study {config.name!r}: condition {e.condition!r} has two clips for item {e.item!r}")
        by_cond[e.condition][e.item] = e
    common = sorted(set.intersection(*(set(v) for v in by_cond.values())))
    if not common:
        raise ConfigError(f"study {config.name!r}: no item has a clip from every condition "
                          f"({', '.join(sorted(by_cond))})")
    items, check_items = _pick_items(common, config, rng)
    used = items + check_items

    def first(item: str, attr: str) -> AudioRef | None:
        return next((getattr(by_cond[c][item], attr) for c in by_cond if getattr(by_cond[c][item], attr)), None)

    sources = {i: first(i, "source") for i in used}
    references = {i: first(i, "reference") for i in used}
    needs_source = proto == "acr" and any(QUESTIONS[q].needs_source for q in config.questions)
    if needs_source and any(s is None for s in sources.values()):
        lacking = sorted(i for i, s in sources.items() if s is None)
        raise ConfigError(f"study {config.name!r}: the similarity question needs source audio, missing for "
                          f"item(s) {', '.join(lacking[:5])}{' ...' if len(lacking) > 5 else ''}")
    has_ref = all(r is not None for r in references.values())
    if proto in ("dcr", "mushra") and not has_ref:
        lacking = sorted(i for i, r in references.items() if r is None)
        raise ConfigError(f"study {config.name!r}: protocol {proto!r} compares every clip with a reference, "
                          f"missing for item(s) {', '.join(lacking[:5])}{' ...' if len(lacking) > 5 else ''}")
    sr, cut = config.sample_rate, config.max_seconds

    cache: dict[Any, np.ndarray] = {}

    def load(ref: AudioRef | None) -> np.ndarray:
        assert ref is not None, "a clip the study's checks said exists"
        key = ref if not callable(ref) else id(ref)
        if key not in cache:
            cache[key] = load_clip(ref, sample_rate=sr, max_seconds=cut)
        return cache[key]

    stims: list[BuiltStimulus] = []
    trials: list[BuiltTrial] = []

    def add_stim(item: str, role: str, condition: str | None, audio: np.ndarray, **info) -> BuiltStimulus:
        s = BuiltStimulus(id=new_id(), item=item, role=role, condition=condition, audio=audio, info=info)
        stims.append(s)
        return s

    # the clip played beside each trial: ACR's source (similarity), DCR's and MUSHRA's open reference
    beside: dict[str, str] = {}
    if needs_source:
        for i in used:
            beside[i] = add_stim(i, "source", None, load(sources[i])).id
    elif proto in ("dcr", "mushra"):
        for i in used:
            beside[i] = add_stim(i, "reference", None, load(references[i])).id
    system_conds = [c for c in conds if conds[c]["kind"] == "system"]
    # the conditions' clips per item: systems, hidden reference, anchors
    variants: dict[str, Any] = {c: (lambda i, c=c: load(by_cond[c][i].path)) for c in conds}
    if has_ref and config.hidden_reference and "reference" not in conds:
        conds["reference"] = {"name": "reference", "kind": "reference", "run_dir": None, "info": {"hidden": True}}
        variants["reference"] = lambda i: load(references[i])
    if has_ref and config.low_anchor:
        anchors = ([("anchor-3.5kHz", config.anchor_cutoff_hz), ("anchor-7kHz", config.mid_anchor_cutoff_hz)]
                   if proto == "mushra" else [("anchor", config.anchor_cutoff_hz)])
        for aname, cutoff in anchors:
            if aname in conds:
                continue
            conds[aname] = {"name": aname, "kind": "anchor", "run_dir": None, "info": {"lowpass_hz": cutoff}}
            variants[aname] = (lambda i, f=cutoff: sx.lowpass(load(references[i]), sample_rate=sr, cutoff_hz=f))

    def add_unit(i: str, kind: str, *, position: int = 0, caption: str | None = None) -> None:
        """All conditions of item ``i`` as trials of ``kind`` (ACR, DCR, MUSHRA) or as pairs (A/B)."""
        clips = {c: add_stim(i, "test" if kind == "test" else "training", c if kind == "test" else None,
                             variants[c](i)) for c in conds}
        if proto == "ab":
            for a, b in itertools.permutations(list(conds), 2):
                trials.append(BuiltTrial(new_id(), clips[a].id, None, kind, config.questions, None, caption,
                                         position, other_id=clips[b].id))
            return
        page = new_id() if proto == "mushra" else None
        for c in conds:
            trials.append(BuiltTrial(new_id(), clips[c].id, beside.get(i), kind, config.questions, None, caption,
                                     position, page=page))

    for i in items:
        add_unit(i, "test")

    clip_pool = system_conds or list(by_cond)

    def some_clip(i: str) -> np.ndarray:
        return load(by_cond[clip_pool[int(rng.integers(len(clip_pool)))]][i].path)

    def check_item(k: int) -> str:
        return check_items[k % len(check_items)]

    def degraded(i: str) -> np.ndarray:
        return sx.strong_degradation(some_clip(i), sample_rate=sr, seed=int(rng.integers(2**31)))

    def clean(i: str) -> np.ndarray:
        return load(references[i]) if has_ref else some_clip(i)

    # gold items: a clean clip (expected 4-5) and strongly degraded clips (expected 1-2); A/B: clean vs degraded
    for g in range(config.n_gold or 0):
        i = check_item(g)
        if proto == "ab":
            good = add_stim(i, "gold", None, clean(i), gold="clean")
            bad = add_stim(i, "gold", None, degraded(i), gold="bad")
            first_good = bool(rng.integers(2))
            a, b = (good, bad) if first_good else (bad, good)
            trials.append(BuiltTrial(new_id(), a.id, None, "gold", config.questions,
                                     {"preference": [1, 1] if first_good else [2, 2]}, other_id=b.id))
            continue
        q = "degradation" if proto == "dcr" else "quality"
        if has_ref and g % 2 == 0:
            s = add_stim(i, "gold", None, load(references[i]), gold="good")
            expected = {q: [4, 5]}
        else:
            s = add_stim(i, "gold", None, degraded(i), gold="bad")
            expected = {q: [1, 2]}
        trials.append(BuiltTrial(new_id(), s.id, beside.get(i), "gold", config.questions, expected))
    # trap items: a clip that ends with 1-5 beeps, as long as the clip it is made from; every answer = the count
    for t in range(config.n_traps or 0):
        i = check_item((config.n_gold or 0) + t)
        k = int(rng.integers(1, 6))
        s = add_stim(i, "trap", None, sx.with_beeps(some_clip(i), sample_rate=sr, count=k), beeps=k)
        trials.append(BuiltTrial(new_id(), s.id, beside.get(i), "trap", config.questions,
                                 {q: [k, k] for q in config.questions}))
    if config.training:
        i0 = check_items[-1]
        if proto == "mushra":
            add_unit(i0, "training", caption=TRAINING_TEXT_MUSHRA)
        elif proto == "ab":
            for pos, what in enumerate(("bad", "typical")):
                i = check_item(pos)
                if what == "bad":
                    a = add_stim(i, "training", None, clean(i), training="clean")
                    b = add_stim(i, "training", None, degraded(i), training="bad")
                else:
                    a = add_stim(i, "training", None, some_clip(i), training="typical")
                    b = add_stim(i, "training", None, clean(i) if has_ref else some_clip(i), training="typical")
                trials.append(BuiltTrial(new_id(), a.id, None, "training", config.questions, None,
                                         TRAINING_TEXT_AB[what], position=pos, other_id=b.id))
        else:
            text_ = TRAINING_TEXT_DCR if proto == "dcr" else TRAINING_TEXT
            plan = (["good"] if has_ref else []) + ["bad", "typical", "trap"]
            for pos, what in enumerate(plan):
                i = check_item(pos)
                if what == "good":
                    audio = load(references[i])
                elif what == "bad":
                    audio = degraded(i)
                elif what == "typical":
                    audio = some_clip(i)
                else:
                    audio = sx.with_beeps(some_clip(i), sample_rate=sr, count=2)
                s = add_stim(i, "training", None, audio, training=what)
                trials.append(BuiltTrial(new_id(), s.id, beside.get(i), "training", config.questions,
                                         {q: [2, 2] for q in config.questions} if what == "trap" else None,
                                         text_[what], position=pos))

    check_no_names([config.title] + [t.caption or "" for t in trials], names=list(conds))
    target = _normalise(stims, config)
    return BuiltStudy(config=config, public_id=secrets.token_urlsafe(12), conditions=list(conds.values()),
                      stimuli=stims, trials=trials, target_lufs=target, items=items, check_items=check_items)


def _normalise(stims: list[BuiltStimulus], config: StudyConfig) -> float:
    from musebench.audio import audio_bytes
    from musebench.io_utils import sha256_bytes

    sr = config.sample_rate
    levels = [sx.measure(s.audio, sample_rate=sr) for s in stims]
    target = sx.choose_target(levels, preferred_lufs=config.target_lufs, headroom_db=config.headroom_db,
                              max_gain_db=config.max_gain_db)
    for s, lv in zip(stims, levels):
        gain = sx.gain_for(lv, target_lufs=target, headroom_db=config.headroom_db, max_gain_db=config.max_gain_db)
        out = sx.apply_gain(s.audio, gain)
        s.loudness_lufs = None if lv.loudness_lufs is None else round(lv.loudness_lufs, 3)
        s.gain_db = float(gain)
        s.peak_dbfs = float(lv.peak_dbfs + gain) if lv.peak_dbfs > sx.SILENCE_DB else sx.SILENCE_DB
        s.wav = audio_bytes(out, sr, format="WAV", subtype="PCM_16")
        s.sha256 = sha256_bytes(s.wav)
        s.duration_s = out.shape[0] / sr
        s.audio = np.zeros(0, dtype=np.float32)  # free memory; the WAV bytes are what is kept
    return target


def check_no_names(texts: Sequence[str], *, names: Sequence[str]) -> None:
    """Raise ConfigError if a condition name occurs (case-insensitively) in rater-facing text."""
    generic = {"reference", "anchor"}
    for text in texts:
        low = text.lower()
        for name in names:
            if name.lower() not in generic and len(name) >= 2 and name.lower() in low:
                raise ConfigError(f"rater-facing text {text[:60]!r} contains condition name {name!r}")


# --------------------------------------------------------------------------- saving
def save_study(store, built: BuiltStudy, *, replace: bool = False) -> int:
    """Write a built study in one transaction; return its database id.

    ``replace`` deletes an existing study of the same name first, but only if no rater has
    started it.
    """
    from sqlalchemy import delete, func, select, insert as sa_insert

    from .store import Condition, Rater, Stimulus, Study, Trial, utcnow

    cfg = built.config
    with store.write() as conn:
        old = conn.execute(select(Study.id).where(Study.name == cfg.name)).scalar()
        if old is not None:
            if not replace:
                raise ConfigError(f"study {cfg.name!r} already exists in {store.url} (use --replace or another name)")
            n = conn.execute(select(func.count()).select_from(Rater).where(Rater.study_id == old)).scalar()
            if n:
                raise ConfigError(f"study {cfg.name!r} has {n} rater(s); refusing to replace it")
            conn.execute(delete(Trial).where(Trial.study_id == old))  # no rater: no rating either
            conn.execute(delete(Stimulus).where(Stimulus.study_id == old))
            conn.execute(delete(Condition).where(Condition.study_id == old))
            conn.execute(delete(Study).where(Study.id == old))
        config_json = json.dumps({**cfg.to_json(), "target_lufs_used": built.target_lufs, "items": built.items,
                                  "check_items": built.check_items})
        study_id = conn.execute(sa_insert(Study).values(
            name=cfg.name, public_id=built.public_id, title=cfg.title, family=cfg.family, config_json=config_json,
            status="open", created_at=utcnow())).inserted_primary_key[0]
        cond_ids = {}
        for c in built.conditions:
            cond_ids[c["name"]] = conn.execute(sa_insert(Condition).values(
                study_id=study_id, name=c["name"], kind=c["kind"], run_dir=c["run_dir"],
                info_json=json.dumps(c["info"]))).inserted_primary_key[0]
        conn.execute(sa_insert(Stimulus), [dict(
            id=s.id, study_id=study_id, condition_id=cond_ids.get(s.condition) if s.condition else None,
            item=s.item, role=s.role, audio=s.wav, sha256=s.sha256, sample_rate=cfg.sample_rate,
            duration_s=s.duration_s, loudness_lufs=s.loudness_lufs, gain_db=s.gain_db, peak_dbfs=s.peak_dbfs,
            info_json=json.dumps(s.info)) for s in built.stimuli])
        conn.execute(sa_insert(Trial), [dict(
            id=t.id, study_id=study_id, stimulus_id=t.stimulus_id, source_id=t.source_id, kind=t.kind,
            questions=",".join(t.questions), expected_json=json.dumps(t.expected) if t.expected else None,
            caption=t.caption, position=t.position, assigned_count=0, other_id=t.other_id, page=t.page)
            for t in built.trials])
    return int(study_id)
