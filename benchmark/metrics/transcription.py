"""Note-level, frame-level and multi-instrument transcription metrics.

Shaped like :mod:`mir_eval.transcription`: :func:`validate` first, then the metric
functions, then one :func:`evaluate` returning the named scores declared in
:mod:`musebench.metrics`. Conventions follow MT3 (Gardner et al., 2022; ``mt3/metrics.py``
and ``mt3/metrics_utils.py``) so that numbers are comparable with published results;
``docs/transcription.md`` explains every score and ``tests/data/transcription/`` holds
regression fixtures whose expected values were computed by calling mir_eval directly.

Summary of the conventions
--------------------------
* Pitches go to mir_eval in Hz (:func:`mir_eval.util.midi_to_hz`); onset tolerance 50 ms,
  pitch tolerance 50 cents; onset+offset uses ``offset_ratio=0.2`` and
  ``offset_min_tolerance=0.05``; onset-only uses ``offset_ratio=None``.
* Drum notes are removed before the note and frame scores (as MT3 does) and scored on
  onsets only in ``drum_onset_f1`` and inside the multi-instrument scores.
* Velocity scores use mir_eval's ``transcription_velocity`` rule (reference velocities
  normalised to [0, 1], estimated velocities fitted by least squares, tolerance 0.1).
* Both note sets are put in the canonical order of :meth:`Notes.sorted` first, on every
  path (:func:`evaluate`, :func:`note_counts`, :func:`note_scores`), so the result does not
  depend on the order of notes in a file. mir_eval's maximum matching, and therefore its
  velocity scores, can depend on it: the claim is "equal to mir_eval on onset-sorted notes",
  tested on mir_eval's own velocity fixtures (tests/data/transcription_velocity/).
* Empty input: when the reference or the estimate has no notes (after removing drums for
  the note and frame scores), the affected scores are 0 and a warning is issued, as in
  mir_eval. When *both* are empty the scores are also 0 (not 1): this is what mir_eval and
  MT3 report, and it keeps dataset means comparable with theirs.

The note matching is pluggable: every function takes ``matcher=``, a callable with the
signature and return value of :func:`mir_eval.transcription.match_notes`. The default is
:func:`musebench.metrics.matching.match_notes`, which forms only the candidate pairs within
the tolerances and returns exactly mir_eval's pairs in linear memory (docs/fast-matching.md);
the regression fixtures are scored by mir_eval itself and the tests compare to 1e-9.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ConfigError
from ..types import Notes

__all__ = [
    "GRANULARITIES",
    "MatchCounts",
    "Matcher",
    "validate",
    "match_notes",
    "velocity_filter",
    "note_counts",
    "note_scores",
    "piano_roll",
    "frame_scores",
    "map_programs",
    "program_aware_counts",
    "evaluate",
]

#: ``matcher(ref_intervals, ref_pitches_hz, est_intervals, est_pitches_hz, *, onset_tolerance,
#: pitch_tolerance, offset_ratio, offset_min_tolerance, strict) -> [(ref_i, est_j), ...]``
Matcher = Callable[..., Sequence[tuple[int, int]]]

#: MT3's program granularities (``mt3/vocabularies.py`` ``PROGRAM_GRANULARITIES``), applied
#: to non-drum notes only.
GRANULARITIES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "full": lambda programs: programs,
    "midi_class": lambda programs: 8 * (programs // 8),
    "flat": lambda programs: np.zeros_like(programs),
}

#: MT3 fills in velocity 100 (``note_sequences.DEFAULT_VELOCITY``) where none is known; used
#: for the piano roll of a note set whose velocities are all 0 ("unknown").
DEFAULT_VELOCITY = 100.0


@dataclass(frozen=True)
class MatchCounts:
    """Counts of a note matching: the sufficient statistics of precision/recall/F1.

    Attributes
    ----------
    n_ref, n_est, n_matched : int
        Reference notes, estimated notes, matched pairs.
    """

    n_ref: int
    n_est: int
    n_matched: int

    @property
    def precision(self) -> float:
        return self.n_matched / self.n_est if self.n_est else 0.0

    @property
    def recall(self) -> float:
        return self.n_matched / self.n_ref if self.n_ref else 0.0

    @property
    def f1(self) -> float:
        return _f_measure(self.precision, self.recall)

    def __add__(self, other: MatchCounts) -> MatchCounts:
        return MatchCounts(self.n_ref + other.n_ref, self.n_est + other.n_est,
                           self.n_matched + other.n_matched)


def _f_measure(precision: float, recall: float) -> float:
    """F1 as :func:`mir_eval.util.f_measure` computes it (0 when both are 0)."""
    if precision == 0 and recall == 0:
        return 0.0
    return 2.0 * precision * recall / (precision + recall)


def _default_matcher() -> Matcher:
    """The exact linear-memory matcher (same pairs as mir_eval's; see docs/fast-matching.md).

    Pass ``matcher=mir_eval.transcription.match_notes`` to use mir_eval's dense matcher itself.
    """
    from .matching import match_notes

    return match_notes


def _hz(pitches: np.ndarray) -> np.ndarray:
    """MIDI -> Hz with the expression of :func:`mir_eval.util.midi_to_hz` (bit-identical).

    Written out because ``import mir_eval.util`` imports all of mir_eval (scipy.stats among
    others): 1.5-3 s on a 2-core machine, once per process.
    """
    return 440.0 * (2.0 ** ((pitches - 69.0) / 12.0))


# --- validation ------------------------------------------------------------------------------

def validate(ref: Notes, est: Notes) -> tuple[Notes, Notes]:
    """Check both note sets and return them in canonical order.

    Parameters
    ----------
    ref, est : Notes
        Reference and estimated notes.

    Returns
    -------
    ref, est : Notes
        The same notes, ordered by :meth:`Notes.sorted`.

    Raises
    ------
    BadInputError
        When a note set is malformed (NaN, end <= start, pitch outside 0-127, ...); the
        message names "reference" or "estimate".

    Warns
    -----
    UserWarning
        When either set is empty: every score involving it is 0, as in mir_eval.
    """
    ref.validate(name="reference")
    est.validate(name="estimate")
    if len(ref) == 0:
        warnings.warn("reference notes are empty; scores involving them are 0", stacklevel=2)
    if len(est) == 0:
        warnings.warn("estimated notes are empty; scores involving them are 0", stacklevel=2)
    return ref.sorted(), est.sorted()


def _check_positive(**params: float | None) -> None:
    for name, value in params.items():
        if value is None:
            continue
        if not np.isfinite(value) or value <= 0:
            raise ConfigError(f"transcription metrics: {name} must be a positive number (got {value!r})")


# --- note matching ---------------------------------------------------------------------------

def match_notes(
    ref: Notes,
    est: Notes,
    *,
    onset_tolerance: float = 0.05,
    pitch_tolerance: float = 50.0,
    offset_ratio: float | None = 0.2,
    offset_min_tolerance: float = 0.05,
    matcher: Matcher | None = None,
) -> np.ndarray:
    """Match estimated to reference notes (mir_eval's rule, pitches in Hz).

    Parameters
    ----------
    ref, est : Notes
    onset_tolerance : float
        Seconds; onsets match when ``|ref - est| <= onset_tolerance``.
    pitch_tolerance : float
        Cents.
    offset_ratio : float or None
        ``None`` ignores offsets; otherwise offsets match within
        ``max(offset_ratio * ref_duration, offset_min_tolerance)``.
    offset_min_tolerance : float
        Seconds.
    matcher : Matcher, optional
        Defaults to :func:`mir_eval.transcription.match_notes`.

    Returns
    -------
    np.ndarray, shape=(k, 2), int64
        Pairs ``(ref_index, est_index)`` of a maximum matching.
    """
    if len(ref) == 0 or len(est) == 0:
        return np.zeros((0, 2), np.int64)
    matcher = matcher or _default_matcher()
    pairs = matcher(ref.intervals, _hz(ref.pitches), est.intervals, _hz(est.pitches),
                    onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance,
                    offset_ratio=offset_ratio, offset_min_tolerance=offset_min_tolerance,
                    strict=False)
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def velocity_filter(ref: Notes, est: Notes, matching: np.ndarray, *,
                    velocity_tolerance: float = 0.1) -> np.ndarray:
    """Keep the matched pairs whose velocities agree (mir_eval.transcription_velocity).

    Reference velocities are normalised to [0, 1] by their min and max over the whole
    reference (range at least 1); the matched estimated velocities are mapped onto them by
    a least-squares line; a pair is kept when the absolute difference is below
    ``velocity_tolerance``.

    Parameters
    ----------
    ref, est : Notes
    matching : np.ndarray, shape=(k, 2)
        Pairs from :func:`match_notes`.
    velocity_tolerance : float

    Returns
    -------
    np.ndarray, shape=(k', 2)
        The kept pairs.
    """
    if len(matching) == 0:
        return matching
    low, high = np.min(ref.velocities), np.max(ref.velocities)
    ref_v = (ref.velocities[matching[:, 0]] - low) / float(max(1, high - low))
    est_v = est.velocities[matching[:, 1]]
    design = np.vstack([est_v, np.ones(len(est_v))]).T
    slope, intercept = np.linalg.lstsq(design, ref_v, rcond=None)[0]
    return matching[np.abs(slope * est_v + intercept - ref_v) < velocity_tolerance]


def note_counts(
    ref: Notes,
    est: Notes,
    *,
    onset_tolerance: float = 0.05,
    pitch_tolerance: float = 50.0,
    offset_ratio: float | None = 0.2,
    offset_min_tolerance: float = 0.05,
    velocity_tolerance: float | None = None,
    matcher: Matcher | None = None,
) -> MatchCounts:
    """Count reference, estimated and matched notes.

    Both note sets are first put in the canonical order of :meth:`Notes.sorted`, as
    :func:`evaluate` does, so the velocity counts (which depend on the order mir_eval's matching
    sees) are the same whichever public function computes them.

    Parameters
    ----------
    ref, est : Notes
    onset_tolerance, pitch_tolerance, offset_ratio, offset_min_tolerance
        As in :func:`match_notes`.
    velocity_tolerance : float or None
        When given, matched pairs must also pass :func:`velocity_filter`.
    matcher : Matcher, optional

    Returns
    -------
    MatchCounts
    """
    ref, est = ref.sorted(), est.sorted()  # the canonical order, as evaluate(): one answer per question
    matching = match_notes(ref, est, onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance,
                           offset_ratio=offset_ratio, offset_min_tolerance=offset_min_tolerance,
                           matcher=matcher)
    if velocity_tolerance is not None:
        matching = velocity_filter(ref, est, matching, velocity_tolerance=velocity_tolerance)
    return MatchCounts(len(ref), len(est), len(matching))


def note_scores(ref: Notes, est: Notes, **kwargs) -> tuple[float, float, float]:
    """Precision, recall and F1 of :func:`note_counts` (same keyword arguments).

    Equals ``mir_eval.transcription.precision_recall_f1_overlap(...)[:3]`` (or the
    ``transcription_velocity`` version when ``velocity_tolerance`` is given) on the same notes,
    pitches in Hz, **in onset-sorted canonical order** (:meth:`Notes.sorted`); 0 when either set
    is empty. The note scores without velocity do not depend on order; the velocity scores do in
    mir_eval (on unsorted input they can differ by ~1e-3, see tests/data/transcription_velocity).
    """
    counts = note_counts(ref, est, **kwargs)
    return counts.precision, counts.recall, counts.f1


# --- frames ----------------------------------------------------------------------------------

def piano_roll(notes: Notes, *, frame_rate: float = 62.5, n_frames: int | None = None,
               min_duration: float = 0.05) -> np.ndarray:
    """Velocity piano roll built as MT3 builds it (through pretty_midi).

    MT3's ``metrics_utils.get_prettymidi_pianoroll`` lengthens every note shorter than
    ``min_duration`` to ``onset + min_duration``, converts the notes to pretty_midi and calls
    ``get_piano_roll(fs=frame_rate)``. That fills, for each note, the cells
    ``[int(onset * fs), int(offset * fs))`` of its pitch row with its velocity, summing
    overlapping notes of all instruments. No sustain pedal is applied here (MT3 replaces the
    control changes of the roll with "all notes off"; pedal is applied when reading MIDI).

    Parameters
    ----------
    notes : Notes
        Pitches are rounded to the nearest integer row. A set whose velocities are all 0
        (unknown) is drawn with velocity 100 (MT3's default velocity).
    frame_rate : float
        Frames per second.
    n_frames : int, optional
        Number of columns; default just long enough for the last note
        (``int(frame_rate * last_offset)``, as pretty_midi).
    min_duration : float
        Seconds.

    Returns
    -------
    np.ndarray, shape=(128, n_frames), float64
        Sum of the velocities of the notes sounding in each (pitch, frame) cell.
    """
    starts, ends = _frame_spans(notes, frame_rate=frame_rate, min_duration=min_duration)
    if n_frames is None:
        n_frames = int(ends.max()) if len(ends) else 0
    roll = np.zeros((128, n_frames))
    velocities = notes.velocities
    if len(notes) and not np.any(velocities):
        velocities = np.full(len(notes), DEFAULT_VELOCITY)
    rows = np.rint(notes.pitches).astype(np.int64)
    for row, start, end, velocity in zip(rows, starts, ends, velocities):
        roll[row, start:end] += velocity
    return roll


def _frame_spans(notes: Notes, *, frame_rate: float, min_duration: float) -> tuple[np.ndarray, np.ndarray]:
    onsets, offsets = notes.onsets, notes.offsets.copy()
    short = offsets - onsets < min_duration
    offsets[short] = onsets[short] + min_duration
    # int() of a non-negative float truncates, like astype(int64)
    return (onsets * frame_rate).astype(np.int64), (offsets * frame_rate).astype(np.int64)


def frame_scores(ref: Notes, est: Notes, *, frame_rate: float = 62.5, velocity_threshold: float = 30.0,
                 min_duration: float = 0.05) -> tuple[float, float, float]:
    """Frame precision, recall and F1 over active (pitch, frame) cells (MT3's rule).

    A reference cell is active when the velocity sum of its piano roll exceeds
    ``velocity_threshold`` (MT3: 30, "consistent with Cerberus"); an estimated cell when it
    exceeds 0. Precision and recall count active cells, as
    ``sklearn.metrics.precision_recall_fscore_support`` does for the positive class in MT3's
    ``metrics_utils.frame_metrics``; both are 0 when their denominator is 0.

    Parameters
    ----------
    ref, est : Notes
        Non-drum notes (drums are removed by :func:`evaluate`).
    frame_rate, min_duration
        As in :func:`piano_roll`.
    velocity_threshold : float

    Returns
    -------
    precision, recall, f1 : float
    """
    # pad both rolls to the longer one, as frame_metrics does (padding adds no active cell)
    spans = [_frame_spans(n, frame_rate=frame_rate, min_duration=min_duration) for n in (ref, est)]
    n_frames = max([int(e.max()) for _, e in spans if len(e)], default=0)
    tp = n_ref = n_est = 0
    # the rolls are built FRAME_CHUNK columns at a time: each cell still sums the velocities of
    # its notes in note order, so the activity of every cell (and the counts) equal those of
    # the whole rolls, in memory bounded by the chunk instead of the piece's length
    for lo in range(0, n_frames, FRAME_CHUNK):
        hi = min(lo + FRAME_CHUNK, n_frames)
        ref_on = _roll_chunk(ref, *spans[0], lo, hi) > velocity_threshold
        est_on = _roll_chunk(est, *spans[1], lo, hi) > 0
        tp += int(np.count_nonzero(ref_on & est_on))
        n_ref += int(np.count_nonzero(ref_on))
        n_est += int(np.count_nonzero(est_on))
    precision = tp / n_est if n_est else 0.0
    recall = tp / n_ref if n_ref else 0.0
    return precision, recall, _f_measure(precision, recall)


#: columns of the piano roll built at a time by :func:`frame_scores` (8 MiB of float64)
FRAME_CHUNK = 8192


def _roll_chunk(notes: Notes, starts: np.ndarray, ends: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Columns ``[lo, hi)`` of :func:`piano_roll`, with the same additions in the same order."""
    roll = np.zeros((128, hi - lo))
    velocities = notes.velocities
    if len(notes) and not np.any(velocities):
        velocities = np.full(len(notes), DEFAULT_VELOCITY)
    inside = np.flatnonzero((starts < hi) & (ends > lo) & (ends > starts))
    rows = np.rint(notes.pitches[inside]).astype(np.int64)
    for row, start, end, velocity in zip(rows, np.maximum(starts[inside], lo) - lo,
                                         np.minimum(ends[inside], hi) - lo, velocities[inside]):
        roll[row, start:end] += velocity
    return roll


# --- programs --------------------------------------------------------------------------------

def map_programs(notes: Notes, *, granularity: str) -> np.ndarray:
    """Track keys ``program`` per note for a granularity; drums are all put on program 0.

    Parameters
    ----------
    notes : Notes
    granularity : {"full", "midi_class", "flat"}
        full: program as is; midi_class: first program of its 8-program General MIDI class
        (``8 * (program // 8)``); flat: every program is 0.

    Returns
    -------
    np.ndarray, shape=(n,), int64
        The mapped programs. Drum notes get 0 whatever their program: MT3 maps no drum
        program, but all of its drum notes carry program 0 (its Slakh loader and its
        decoder both set it), so one drum track reproduces its scores while a drum-kit
        program number in a General MIDI file does not split the drums.
    """
    if granularity not in GRANULARITIES:
        raise ConfigError(f"transcription metrics: unknown program granularity {granularity!r} "
                          f"(known: {', '.join(GRANULARITIES)})")
    mapped = GRANULARITIES[granularity](notes.programs.copy())
    mapped[notes.is_drum] = 0
    return mapped


def program_aware_counts(
    ref: Notes,
    est: Notes,
    *,
    granularity: str = "full",
    onset_tolerance: float = 0.05,
    pitch_tolerance: float = 50.0,
    offset_ratio: float = 0.2,
    offset_min_tolerance: float = 0.05,
    matcher: Matcher | None = None,
    _cache: dict | None = None,
) -> dict[str, MatchCounts]:
    """Per-track note matching pooled over tracks (MT3's ``_program_aware_note_scores``).

    Notes are grouped into tracks by ``(mapped program, is_drum)`` (see
    :func:`map_programs`); every track present in the reference or the estimate is matched
    separately — onset+offset for non-drum tracks, onsets only for the drum track — and
    the counts are summed. MT3 sums ``precision * n_est`` and ``recall * n_ref`` per track,
    which equals summing matched counts; a track missing on one side adds its notes to that
    side's denominator with no matches.

    Returns
    -------
    dict
        ``{"all": ..., "drum": ..., "nondrum": ...}`` of :class:`MatchCounts`; the scores
        are their ``precision``/``recall``/``f1``.
    """
    cache = {} if _cache is None else _cache
    ref_keys = np.stack([map_programs(ref, granularity=granularity), ref.is_drum.astype(np.int64)], axis=1)
    est_keys = np.stack([map_programs(est, granularity=granularity), est.is_drum.astype(np.int64)], axis=1)
    tracks = sorted({tuple(k) for k in ref_keys.tolist()} | {tuple(k) for k in est_keys.tolist()})
    totals = {"drum": MatchCounts(0, 0, 0), "nondrum": MatchCounts(0, 0, 0)}
    for program, is_drum in tracks:
        ref_idx = np.flatnonzero((ref_keys[:, 0] == program) & (ref_keys[:, 1] == is_drum))
        est_idx = np.flatnonzero((est_keys[:, 0] == program) & (est_keys[:, 1] == is_drum))
        counts = _cached_counts(ref, est, ref_idx, est_idx, cache, onset_tolerance=onset_tolerance,
                                pitch_tolerance=pitch_tolerance,
                                offset_ratio=None if is_drum else offset_ratio,
                                offset_min_tolerance=offset_min_tolerance, matcher=matcher)
        side = "drum" if is_drum else "nondrum"
        totals[side] = totals[side] + counts
    totals["all"] = totals["drum"] + totals["nondrum"]
    return totals


def _cached_counts(ref: Notes, est: Notes, ref_idx: np.ndarray, est_idx: np.ndarray, cache: dict,
                   *, offset_ratio: float | None, **kwargs) -> MatchCounts:
    """Onset(+offset) counts of a subset, reusing identical subsets within one evaluate()."""
    key = (ref_idx.tobytes(), est_idx.tobytes(), offset_ratio)
    if key not in cache:
        cache[key] = match_notes(ref.select(ref_idx), est.select(est_idx), offset_ratio=offset_ratio, **kwargs)
    return MatchCounts(len(ref_idx), len(est_idx), len(cache[key]))


# --- MT3's extra scores ------------------------------------------------------------------------

#: MT3's onset-tolerance sweep (``mt3/metrics.py`` ``_note_onset_tolerance_sweep``, line 151), seconds
SWEEP_TOLERANCES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)


def sweep_name(tolerance: float) -> str:
    """``onset_offset_f1_at_10ms`` for 0.01 s, and so on."""
    return f"onset_offset_f1_at_{int(round(tolerance * 1000))}ms"


def onset_tolerance_sweep(ref: Notes, est: Notes, *, tolerances: Sequence[float] = SWEEP_TOLERANCES,
                          pitch_tolerance: float = 50.0, offset_ratio: float = 0.2,
                          matcher: Matcher | None = None) -> dict[str, float]:
    """Onset+offset F1 at each onset tolerance, the offset floor moving with it.

    MT3 (``mt3/metrics.py`` lines 149-172) calls mir_eval with ``onset_tolerance=tol`` and
    ``offset_min_tolerance=tol`` (offset ratio 0.2) on the drumless notes, for tol in 10, 20,
    50, 100, 200 and 500 ms. ``ref`` and ``est`` are the drumless notes.
    """
    out = {}
    for tol in tolerances:
        counts = note_counts(ref, est, onset_tolerance=tol, pitch_tolerance=pitch_tolerance,
                             offset_ratio=offset_ratio, offset_min_tolerance=tol, matcher=matcher)
        out[sweep_name(tol)] = counts.f1
    return out


def track_scores(ref: Notes, est: Notes, track_specs: Sequence[tuple[str, int, bool]], *,
                 onset_tolerance: float = 0.05, pitch_tolerance: float = 50.0, offset_ratio: float = 0.2,
                 offset_min_tolerance: float = 0.05, frame_rate: float = 62.5,
                 frame_velocity_threshold: float = 30.0, frame_min_duration: float = 0.05,
                 matcher: Matcher | None = None) -> dict[str, float]:
    """Scores per track spec, as MT3 computes them for Cerberus4 (``mt3/metrics.py`` lines 244-251).

    For each ``(name, program, is_drum)`` the notes of exactly that program and drum flag are
    taken from both sides (MT3's ``note_sequences.extract_track``; programs are compared as
    they are, so the dataset must give MT3's track programs) and scored: ``track_<name>_onset_f1``,
    ``track_<name>_onset_offset_f1`` (not for a drum track, whose offsets MT3 ignores) and
    ``track_<name>_frame_f1`` (a drum track drawn with every note 50 ms long, as MT3's
    ``get_prettymidi_pianoroll(is_drum=True)``).
    """
    out: dict[str, float] = {}
    tol: dict[str, Any] = dict(onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance,
                               offset_min_tolerance=offset_min_tolerance, matcher=matcher)
    for name, program, is_drum in track_specs:
        r = ref.select((ref.programs == program) & (ref.is_drum == is_drum))
        e = est.select((est.programs == program) & (est.is_drum == is_drum))
        out[f"track_{name}_onset_f1"] = note_counts(r, e, offset_ratio=None, **tol).f1
        if not is_drum:
            out[f"track_{name}_onset_offset_f1"] = note_counts(r, e, offset_ratio=offset_ratio, **tol).f1
        else:
            r, e = (Notes(np.stack([n.onsets, n.onsets + frame_min_duration], axis=1), n.pitches, n.velocities,
                          n.programs, n.is_drum) for n in (r, e))
        out[f"track_{name}_frame_f1"] = frame_scores(r, e, frame_rate=frame_rate,
                                                     velocity_threshold=frame_velocity_threshold,
                                                     min_duration=frame_min_duration)[2]
    return out


# --- everything ------------------------------------------------------------------------------

def evaluate(
    ref: Notes,
    est: Notes,
    *,
    onset_tolerance: float = 0.05,
    pitch_tolerance: float = 50.0,
    offset_ratio: float = 0.2,
    offset_min_tolerance: float = 0.05,
    velocity_tolerance: float = 0.1,
    frame_rate: float = 62.5,
    frame_velocity_threshold: float = 30.0,
    frame_min_duration: float = 0.05,
    matcher: Matcher | None = None,
    track_specs: Sequence[tuple[str, int, bool]] | None = None,
) -> dict[str, float]:
    """Compute every transcription score of one item.

    Parameters
    ----------
    ref, est : Notes
        Reference and estimated notes (sustain pedal already applied when wanted, see
        :func:`musebench.midi.read_midi`).
    onset_tolerance : float
        Seconds (mir_eval/MT3: 0.05).
    pitch_tolerance : float
        Cents (50).
    offset_ratio : float
        Share of the reference duration allowed as offset error (0.2).
    offset_min_tolerance : float
        Seconds, lower bound of the offset tolerance (0.05).
    velocity_tolerance : float
        mir_eval.transcription_velocity tolerance on normalised velocities (0.1).
    frame_rate : float
        Piano-roll frames per second (MT3: 62.5).
    frame_velocity_threshold : float
        Reference cells count as active above this velocity sum (MT3: 30).
    frame_min_duration : float
        Notes are lengthened to at least this many seconds in the piano roll (MT3: 0.05).
    matcher : Matcher, optional
        Replacement for :func:`mir_eval.transcription.match_notes`.
    track_specs : sequence of (name, program, is_drum), optional
        Tracks a dataset defines (Cerberus4: bass 32, drums, guitar 24, piano 0), scored one by
        one as MT3 does (:func:`track_scores`).

    Returns
    -------
    dict[str, float]
        ``onset_precision``, ``onset_recall``, ``onset_f1``, ``onset_offset_precision``,
        ``onset_offset_recall``, ``onset_offset_f1``, ``onset_velocity_f1``,
        ``onset_offset_velocity_f1``, ``frame_precision``, ``frame_recall``, ``frame_f1`` and
        MT3's onset-tolerance sweep ``onset_offset_f1_at_{10,20,50,100,200,500}ms`` (all on
        non-drum notes); ``multi_instrument_f1``/``_precision``/``_recall``,
        ``multi_instrument_f1_midi_class``, ``multi_instrument_f1_flat`` (program-aware, drums
        included onset-only) and ``multi_instrument_nondrum_f1`` (the same without the drum
        track); ``drum_onset_f1`` on **every** item (0 where neither side has drums: MT3
        records it for every example and averages over all of them), and
        ``drum_onset_f1_with_drums``, the same number only on items where the reference or the
        estimate has drum notes (its run mean is the mean over those items only); and
        ``track_<name>_*`` for each of ``track_specs``.

    Raises
    ------
    BadInputError
        Malformed notes (see :func:`validate`).
    ConfigError
        A tolerance or rate that is not a positive number.
    """
    _check_positive(onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance, offset_ratio=offset_ratio,
                    offset_min_tolerance=offset_min_tolerance, velocity_tolerance=velocity_tolerance,
                    frame_rate=frame_rate, frame_min_duration=frame_min_duration)
    if not np.isfinite(frame_velocity_threshold) or frame_velocity_threshold < 0:
        raise ConfigError("transcription metrics: frame_velocity_threshold must be a number >= 0 "
                          f"(got {frame_velocity_threshold!r})")
    ref, est = validate(ref, est)
    tolerances: dict[str, Any] = dict(onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance,
                                      offset_min_tolerance=offset_min_tolerance, matcher=matcher)
    ref_idx, est_idx = np.flatnonzero(~ref.is_drum), np.flatnonzero(~est.is_drum)
    ref_n, est_n = ref.select(ref_idx), est.select(est_idx)
    if len(ref) and not len(ref_n):
        warnings.warn("reference has only drum notes; note and frame scores are 0", stacklevel=2)
    if len(est) and not len(est_n):
        warnings.warn("estimate has only drum notes; note and frame scores are 0", stacklevel=2)

    cache: dict = {}
    scores: dict[str, float] = {}
    for prefix, ratio in (("onset", None), ("onset_offset", offset_ratio)):
        counts = _cached_counts(ref, est, ref_idx, est_idx, cache, offset_ratio=ratio, **tolerances)
        scores[f"{prefix}_precision"] = counts.precision
        scores[f"{prefix}_recall"] = counts.recall
        scores[f"{prefix}_f1"] = counts.f1
    for prefix, ratio in (("onset", None), ("onset_offset", offset_ratio)):
        matching = cache[(ref_idx.tobytes(), est_idx.tobytes(), ratio)]
        kept = velocity_filter(ref_n, est_n, matching, velocity_tolerance=velocity_tolerance)
        scores[f"{prefix}_velocity_f1"] = MatchCounts(len(ref_n), len(est_n), len(kept)).f1
    scores["frame_precision"], scores["frame_recall"], scores["frame_f1"] = frame_scores(
        ref_n, est_n, frame_rate=frame_rate, velocity_threshold=frame_velocity_threshold,
        min_duration=frame_min_duration)
    # MT3's sweep; the step equal to the main tolerances is the onset+offset matching already made
    same = [t for t in SWEEP_TOLERANCES if t == onset_tolerance == offset_min_tolerance]
    scores.update(onset_tolerance_sweep(ref_n, est_n, tolerances=[t for t in SWEEP_TOLERANCES if t not in same],
                                        pitch_tolerance=pitch_tolerance, offset_ratio=offset_ratio, matcher=matcher))
    scores.update({sweep_name(t): scores["onset_offset_f1"] for t in same})
    for granularity, name in (("full", "multi_instrument_f1"), ("midi_class", "multi_instrument_f1_midi_class"),
                              ("flat", "multi_instrument_f1_flat")):
        pooled = program_aware_counts(ref, est, granularity=granularity, offset_ratio=offset_ratio,
                                      _cache=cache, **tolerances)
        scores[name] = pooled["all"].f1
        if granularity == "full":
            scores["multi_instrument_precision"] = pooled["all"].precision
            scores["multi_instrument_recall"] = pooled["all"].recall
            scores["multi_instrument_nondrum_f1"] = pooled["nondrum"].f1
    drums = pooled["drum"]  # the drum track's counts do not depend on the granularity (the last: flat)
    # MT3: a drum onset F1 for every example (0 without drums on either side), averaged over all
    scores["drum_onset_f1"] = drums.f1
    if ref.is_drum.any() or est.is_drum.any():
        scores["drum_onset_f1_with_drums"] = drums.f1
    if track_specs:
        scores.update(track_scores(ref, est, track_specs, onset_tolerance=onset_tolerance,
                                   pitch_tolerance=pitch_tolerance, offset_ratio=offset_ratio,
                                   offset_min_tolerance=offset_min_tolerance, frame_rate=frame_rate,
                                   frame_velocity_threshold=frame_velocity_threshold,
                                   frame_min_duration=frame_min_duration, matcher=matcher))
    return {k: float(v) for k, v in scores.items()}
