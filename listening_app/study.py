"""Build a listening study from runs in ``results/`` or from a folder of audio with a manifest.

A study is built in memory (:func:`build_study`) and then saved in one transaction
(:func:`save_study`). Building picks the items, adds the hidden reference and a low anchor
where there is a reference, gold items with known answers, trap items and training examples,
loudness-normalises every clip to one study-wide target (ITU-R BS.1770, chosen so that nothing
clips) and gives every stimulus and trial an opaque random id. Condition (model) names stay on
the server: they are checked not to appear in any text a rater sees. Where the stimuli come from
(runs or a manifest) is :mod:`listening_app.sources`.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from benchmark.errors import ConfigError

from . import stimuli as sx
from .questions import QUESTIONS
from .sources import (CONDITION_KINDS, AudioRef, Entry, entries_from_manifest,  # noqa: F401 (re-exported)
                      entries_from_runs, load_clip)

FAMILIES = ("translation", "generation", "transcription")
DEFAULT_QUESTIONS = {"translation": ("quality", "similarity"), "generation": ("quality",),
                     "transcription": ("quality", "similarity")}


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
    questions : tuple of str
        Keys of :data:`listening_app.questions.QUESTIONS` (default per family).
    n_items : int or None
        Items to sample (None: every item that has a clip from every condition).
    per_rater : int or None
        Test trials per rater (None: all); chosen for balanced coverage.
    n_gold, n_traps : int
        Gold items (known answer) and trap items (beep count) per rater.
    max_seconds : float or None
        Crop every clip to its first ``max_seconds``.
    target_lufs, headroom_db, max_gain_db : float
        Preferred loudness, required true-peak headroom, largest gain applied.
    headphone_trials, headphone_pass : int
        Trials of the antiphase headphone check, and how many must be right to pass.
    min_listen_fraction : float
        Fraction of a clip that must have been played before its rating is enabled.
    completion_code : str or None
        A fixed code for crowd platforms; None gives each rater their own random code.
    """

    name: str
    title: str = "Listening study"
    family: str = "translation"
    questions: tuple[str, ...] = ()
    n_items: int | None = None
    per_rater: int | None = None
    n_gold: int = 2
    n_traps: int = 1
    training: bool = True
    hidden_reference: bool = True
    low_anchor: bool = True
    anchor_cutoff_hz: float = 3500.0
    sample_rate: int = 44100
    max_seconds: float | None = 10.0
    target_lufs: float = -23.0
    headroom_db: float = 1.0
    max_gain_db: float = 40.0
    headphone_trials: int = 3
    headphone_pass: int = 2
    min_listen_fraction: float = 0.9
    completion_code: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ConfigError(f"study {self.name!r}: family must be one of {', '.join(FAMILIES)}, not {self.family!r}")
        self.questions = tuple(self.questions) or DEFAULT_QUESTIONS[self.family]
        for q in self.questions:
            if q not in QUESTIONS:
                raise ConfigError(f"study {self.name!r}: unknown question {q!r} (known: {', '.join(QUESTIONS)})")
        if not self.name or not self.name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ConfigError(f"study name {self.name!r} must be letters, digits, '-', '_' or '.'")
        for attr in ("n_items", "per_rater"):
            v = getattr(self, attr)
            if v is not None and v < 1:
                raise ConfigError(f"study {self.name!r}: {attr} must be at least 1, got {v}")
        if self.n_gold < 0 or self.n_traps < 0 or self.headphone_trials < 0:
            raise ConfigError(f"study {self.name!r}: n_gold, n_traps and headphone_trials must be >= 0")
        if self.n_gold and "quality" not in self.questions:
            raise ConfigError(f"study {self.name!r}: gold items grade the quality question; ask it or set n_gold=0")
        if not 0.0 <= self.min_listen_fraction <= 1.0:
            raise ConfigError(f"study {self.name!r}: min_listen_fraction must be in [0, 1]")
        if self.headphone_pass > self.headphone_trials:
            raise ConfigError(f"study {self.name!r}: headphone_pass ({self.headphone_pass}) exceeds "
                              f"headphone_trials ({self.headphone_trials})")

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["questions"] = list(self.questions)
        return d


@dataclass
class BuiltStimulus:
    id: str
    item: str
    role: str                 # test | source | gold | trap | training
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
    source_id: str | None
    kind: str                 # test | gold | trap | training
    questions: tuple[str, ...]
    expected: dict[str, Any] | None = None
    caption: str | None = None
    position: int = 0


@dataclass
class BuiltStudy:
    config: StudyConfig
    public_id: str
    conditions: list[dict[str, Any]]  # name, kind, run_dir, info
    stimuli: list[BuiltStimulus]
    trials: list[BuiltTrial]
    target_lufs: float
    items: list[str]

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


def build_study(entries: Sequence[Entry], config: StudyConfig) -> BuiltStudy:
    """Pick items and stimuli, add reference/anchor/gold/trap/training clips, normalise loudness.

    Raises
    ------
    ConfigError
        No item has a clip from every condition; the similarity question without source audio;
        a condition name that appears in rater-facing text.
    """
    rng = np.random.default_rng(config.seed)
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
    common = set.intersection(*(set(v) for v in by_cond.values()))
    if not common:
        raise ConfigError(f"study {config.name!r}: no item has a clip from every condition "
                          f"({', '.join(sorted(by_cond))})")
    items = sorted(common)
    if config.n_items is not None and config.n_items < len(items):
        items = sorted(rng.choice(items, size=config.n_items, replace=False).tolist())

    def first(item: str, attr: str) -> AudioRef | None:
        return next((getattr(by_cond[c][item], attr) for c in by_cond if getattr(by_cond[c][item], attr)), None)

    sources = {i: first(i, "source") for i in items}
    references = {i: first(i, "reference") for i in items}
    needs_source = any(QUESTIONS[q].needs_source for q in config.questions)
    if needs_source and any(s is None for s in sources.values()):
        lacking = sorted(i for i, s in sources.items() if s is None)
        raise ConfigError(f"study {config.name!r}: the similarity question needs source audio, missing for "
                          f"item(s) {', '.join(lacking[:5])}{' ...' if len(lacking) > 5 else ''}")
    has_ref = all(r is not None for r in references.values())
    sr, cut = config.sample_rate, config.max_seconds

    cache: dict[Any, np.ndarray] = {}

    def load(ref: AudioRef) -> np.ndarray:
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

    source_ids: dict[str, str] = {}
    if needs_source:
        for i in items:
            source_ids[i] = add_stim(i, "source", None, load(sources[i])).id
    system_conds = [c for c in conds if conds[c]["kind"] == "system"]
    for c in list(conds):
        for i in items:
            s = add_stim(i, "test", c, load(by_cond[c][i].path))
            trials.append(BuiltTrial(new_id(), s.id, source_ids.get(i), "test", config.questions))
    if has_ref and config.hidden_reference and "reference" not in conds:
        conds["reference"] = {"name": "reference", "kind": "reference", "run_dir": None, "info": {"hidden": True}}
        for i in items:
            s = add_stim(i, "test", "reference", load(references[i]))
            trials.append(BuiltTrial(new_id(), s.id, source_ids.get(i), "test", config.questions))
    if has_ref and config.low_anchor and "anchor" not in conds:
        conds["anchor"] = {"name": "anchor", "kind": "anchor", "run_dir": None,
                           "info": {"lowpass_hz": config.anchor_cutoff_hz}}
        for i in items:
            a = sx.lowpass(load(references[i]), sample_rate=sr, cutoff_hz=config.anchor_cutoff_hz)
            s = add_stim(i, "test", "anchor", a)
            trials.append(BuiltTrial(new_id(), s.id, source_ids.get(i), "test", config.questions))

    clip_pool = system_conds or list(conds)

    def some_clip(i: str) -> np.ndarray:
        return load(by_cond[clip_pool[int(rng.integers(len(clip_pool)))]][i].path)

    # gold items: a clean reference (expected 4-5) and strongly degraded clips (expected 1-2)
    for g in range(config.n_gold):
        i = items[int(rng.integers(len(items)))]
        if has_ref and g % 2 == 0:
            s = add_stim(i, "gold", None, load(references[i]), gold="good")
            expected = {"quality": [4, 5]}
        else:
            s = add_stim(i, "gold", None, sx.strong_degradation(some_clip(i), sample_rate=sr,
                                                                seed=int(rng.integers(2**31))), gold="bad")
            expected = {"quality": [1, 2]}
        trials.append(BuiltTrial(new_id(), s.id, source_ids.get(i), "gold", config.questions, expected))
    # trap items: a clip that ends with 1-5 beeps; every answer must equal the count
    for _ in range(config.n_traps):
        i = items[int(rng.integers(len(items)))]
        k = int(rng.integers(1, 6))
        s = add_stim(i, "trap", None, sx.with_beeps(some_clip(i), sample_rate=sr, count=k), beeps=k)
        trials.append(BuiltTrial(new_id(), s.id, source_ids.get(i), "trap", config.questions,
                                 {q: [k, k] for q in config.questions}))
    if config.training:
        plan = (["good"] if has_ref else []) + ["bad", "typical", "trap"]
        for pos, what in enumerate(plan):
            i = items[pos % len(items)]
            if what == "good":
                audio = load(references[i])
            elif what == "bad":
                audio = sx.strong_degradation(some_clip(i), sample_rate=sr, seed=int(rng.integers(2**31)))
            elif what == "typical":
                audio = some_clip(i)
            else:
                audio = sx.with_beeps(some_clip(i), sample_rate=sr, count=2)
            s = add_stim(i, "training", None, audio, training=what)
            trials.append(BuiltTrial(new_id(), s.id, source_ids.get(i), "training", config.questions,
                                     {q: [2, 2] for q in config.questions} if what == "trap" else None,
                                     TRAINING_TEXT[what], position=pos))

    check_no_names([config.title] + [t.caption or "" for t in trials], names=list(conds))
    target = _normalise(stims, config)
    return BuiltStudy(config=config, public_id=secrets.token_urlsafe(12), conditions=list(conds.values()),
                      stimuli=stims, trials=trials, target_lufs=target, items=items)


def _normalise(stims: list[BuiltStimulus], config: StudyConfig) -> float:
    from benchmark.audio import audio_bytes
    from benchmark.io_utils import sha256_bytes

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
    from sqlalchemy import delete, func, select

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
        config_json = json.dumps({**cfg.to_json(), "target_lufs_used": built.target_lufs, "items": built.items})
        study_id = conn.execute(Study.__table__.insert().values(
            name=cfg.name, public_id=built.public_id, title=cfg.title, family=cfg.family, config_json=config_json,
            status="open", created_at=utcnow())).inserted_primary_key[0]
        cond_ids = {}
        for c in built.conditions:
            cond_ids[c["name"]] = conn.execute(Condition.__table__.insert().values(
                study_id=study_id, name=c["name"], kind=c["kind"], run_dir=c["run_dir"],
                info_json=json.dumps(c["info"]))).inserted_primary_key[0]
        conn.execute(Stimulus.__table__.insert(), [dict(
            id=s.id, study_id=study_id, condition_id=cond_ids.get(s.condition) if s.condition else None,
            item=s.item, role=s.role, audio=s.wav, sha256=s.sha256, sample_rate=cfg.sample_rate,
            duration_s=s.duration_s, loudness_lufs=s.loudness_lufs, gain_db=s.gain_db, peak_dbfs=s.peak_dbfs,
            info_json=json.dumps(s.info)) for s in built.stimuli])
        conn.execute(Trial.__table__.insert(), [dict(
            id=t.id, study_id=study_id, stimulus_id=t.stimulus_id, source_id=t.source_id, kind=t.kind,
            questions=",".join(t.questions), expected_json=json.dumps(t.expected) if t.expected else None,
            caption=t.caption, position=t.position, assigned_count=0) for t in built.trials])
    return int(study_id)
