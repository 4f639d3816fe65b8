"""Exact note matching in linear memory: mir_eval's results without its dense matrices.

``mir_eval.transcription.match_notes`` compares every reference note with every estimated
note through dense ``(n, m)`` matrices, so time and memory grow with the square of the note
count (20,000 notes: about 20 s and 13 GB). This module forms only the candidate pairs whose
onsets can be within the tolerance (a sorted-onset window search, done in bounded chunks),
applies mir_eval's own element-wise tests to those pairs, and runs mir_eval's maximum bipartite
matching on the resulting sparse graph, fed in the order mir_eval would feed it.

The results are mir_eval's, not approximations of them:

* the set of matchable pairs is identical (the same float operations in the same dtypes,
  including mir_eval's rounding of time distances to 4 decimals);
* the matched pairs themselves are identical to mir_eval's, so precision, recall, F-measure,
  the average overlap ratio and the velocity-aware scores (which depend on *which* pairs are
  matched, not only how many) are bitwise equal.

See ``docs/fast-matching.md`` for the argument and the measured figures.

Pitches are in Hz and times in seconds, as in mir_eval (``musebench.types.Notes`` stores MIDI
pitches: convert with ``440 * 2 ** ((midi - 69) / 12)``).
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..errors import BadInputError

__all__ = [
    "match_notes",
    "match_notes_with_velocity",
    "precision_recall_f1_overlap",
    "precision_recall_f1_overlap_with_velocity",
    "average_overlap_ratio",
    "candidate_pairs",
]

#: mir_eval rounds onset/offset distances to this many decimals before comparing
#: (``mir_eval.transcription.N_DECIMALS``).
N_DECIMALS = 4

#: Upper bound on the number of onset-window candidate pairs examined at once; keeps the
#: working memory bounded (about 60 bytes per pair) whatever the note count.
_CHUNK_PAIRS = 1 << 18


# --------------------------------------------------------------------------- validation
def _as_intervals(intervals, name: str) -> np.ndarray:
    arr = np.asarray(intervals)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise BadInputError(f"{name} intervals must have shape (n, 2), got {arr.shape}")
    _check_real(arr, f"{name} intervals")
    return arr


def _as_vector(values, n: int, name: str, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise BadInputError(f"{name} {what} must be one-dimensional, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise BadInputError(f"{name} {what} has {arr.shape[0]} values but there are {n} {name} notes")
    _check_real(arr, f"{name} {what}")
    return arr


def _check_real(arr: np.ndarray, label: str) -> None:
    if arr.dtype.kind not in "iuf":
        raise BadInputError(f"{label} must be real numbers, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and arr.size and not np.isfinite(arr).all():
        raise BadInputError(f"{label} contain NaN or infinite values")


def _check_intervals_valid(intervals: np.ndarray, name: str) -> None:
    """mir_eval.util.validate_intervals' conditions, with a one-line BadInputError."""
    if intervals.size == 0:
        return
    negative = (intervals < 0).any(axis=1)
    if negative.any():
        raise BadInputError(f"{name} intervals contain negative times (first at note {int(np.argmax(negative))})")
    bad = intervals[:, 1] <= intervals[:, 0]
    if bad.any():
        i = int(np.argmax(bad))
        raise BadInputError(
            f"{name} note {i} has a non-positive duration (onset {float(intervals[i, 0])!r}, "
            f"offset {float(intervals[i, 1])!r}); every note must end after it starts"
        )


def _check_pitches_positive(pitches: np.ndarray, name: str) -> None:
    if pitches.size and np.min(pitches) <= 0:
        lowest = float(np.min(pitches))
        raise BadInputError(f"{name} pitches must be positive frequencies in Hz (found {lowest!r})")


def _check_scalar(value, label: str) -> None:
    if not np.isfinite(value):
        raise BadInputError(f"{label} must be a finite number, got {value!r}")


def _prepare(ref_intervals, ref_pitches, est_intervals, est_pitches):
    ref_intervals = _as_intervals(ref_intervals, "reference")
    est_intervals = _as_intervals(est_intervals, "estimated")
    ref_pitches = _as_vector(ref_pitches, ref_intervals.shape[0], "reference", "pitches")
    est_pitches = _as_vector(est_pitches, est_intervals.shape[0], "estimated", "pitches")
    return ref_intervals, ref_pitches, est_intervals, est_pitches


def _validate_full(ref_intervals, ref_pitches, est_intervals, est_pitches) -> None:
    """The checks of ``mir_eval.transcription.validate`` (without its empty-input warnings)."""
    _check_intervals_valid(ref_intervals, "reference")
    _check_intervals_valid(est_intervals, "estimated")
    _check_pitches_positive(ref_pitches, "reference")
    _check_pitches_positive(est_pitches, "estimated")


# --------------------------------------------------------------------------- candidates
def _onset_windows(ref_onsets: np.ndarray, est_onsets: np.ndarray, onset_tolerance: float):
    """Per estimated note, the slice of onset-sorted reference notes that may match.

    The window is wider than the tolerance by a margin that covers mir_eval's rounding of
    distances to ``N_DECIMALS`` decimals and any float rounding in ``est +- window``; the
    exact test applied afterwards decides. Returns (order, lo, hi) with ``order`` the
    stable onset sort of the reference notes.
    """
    ref64 = ref_onsets.astype(np.float64, copy=False)
    est64 = est_onsets.astype(np.float64, copy=False)
    order = np.argsort(ref64, kind="stable")
    ref_sorted = ref64[order]
    scale = max(float(np.max(np.abs(ref64))) if ref64.size else 0.0,
                float(np.max(np.abs(est64))) if est64.size else 0.0)
    # rounding to 4 decimals can lower a distance by 0.5e-4; 1e-3 is a wide safety margin,
    # the relative term covers float32 inputs and very long recordings.
    window = max(float(onset_tolerance), 0.0) + 1e-3 + 1e-6 * (scale + abs(float(onset_tolerance)))
    lo = np.searchsorted(ref_sorted, est64 - window, side="left")
    hi = np.searchsorted(ref_sorted, est64 + window, side="right")
    return order, lo, hi


def _window_chunks(order: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (ref_idx, est_idx) candidate arrays, at most about ``_CHUNK_PAIRS`` at a time."""
    counts = hi - lo
    m = counts.shape[0]
    if m == 0:
        return
    ends = np.cumsum(counts)  # pairs up to and including estimate i
    total = int(ends[-1])
    if total == 0:
        return
    start = 0
    done = 0  # pairs before estimate ``start``
    while start < m:
        stop = int(np.searchsorted(ends, done + _CHUNK_PAIRS, side="right"))
        stop = min(max(stop, start + 1), m)
        c = counts[start:stop]
        n_pairs = int(ends[stop - 1]) - done
        if n_pairs:
            est_idx = np.repeat(np.arange(start, stop), c)
            first = np.repeat(lo[start:stop] - (np.cumsum(c) - c), c)
            ref_idx = order[first + np.arange(n_pairs)]
            yield ref_idx, est_idx
        done = int(ends[stop - 1])
        start = stop


def candidate_pairs(
    ref_intervals,
    ref_pitches,
    est_intervals,
    est_pitches,
    *,
    onset_tolerance: float = 0.05,
    pitch_tolerance: float = 50.0,
    offset_ratio: float | None = 0.2,
    offset_min_tolerance: float = 0.05,
    strict: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """All (reference, estimate) pairs that satisfy mir_eval's matching criteria.

    Equal, as a set, to ``np.where(note_hit_matrix)`` in ``mir_eval.transcription.match_notes``,
    computed without any ``(n, m)`` array.

    Parameters
    ----------
    ref_intervals : np.ndarray, shape=(n, 2)
        Reference onsets and offsets in seconds.
    ref_pitches : np.ndarray, shape=(n,)
        Reference pitches in Hz.
    est_intervals : np.ndarray, shape=(m, 2)
        Estimated onsets and offsets in seconds.
    est_pitches : np.ndarray, shape=(m,)
        Estimated pitches in Hz.
    onset_tolerance, pitch_tolerance, offset_ratio, offset_min_tolerance, strict
        As in :func:`match_notes`.

    Returns
    -------
    ref_idx, est_idx : np.ndarray, shape=(k,), int64
        The hit pairs, sorted by estimate index, then reference index.
    """
    ref_intervals, ref_pitches, est_intervals, est_pitches = _prepare(
        ref_intervals, ref_pitches, est_intervals, est_pitches)
    return _candidate_pairs(ref_intervals, ref_pitches, est_intervals, est_pitches,
                            onset_tolerance, pitch_tolerance, offset_ratio, offset_min_tolerance, strict)


def _candidate_pairs(ref_intervals, ref_pitches, est_intervals, est_pitches,
                     onset_tolerance, pitch_tolerance, offset_ratio, offset_min_tolerance, strict):
    for value, label in ((onset_tolerance, "onset_tolerance"), (pitch_tolerance, "pitch_tolerance"),
                         (offset_min_tolerance, "offset_min_tolerance")):
        _check_scalar(value, label)
    if offset_ratio is not None:
        _check_scalar(offset_ratio, "offset_ratio")
        # mir_eval computes the reference durations through util.validate_intervals
        _check_intervals_valid(ref_intervals, "reference")
    empty = np.zeros(0, dtype=np.int64)
    if ref_intervals.shape[0] == 0 or est_intervals.shape[0] == 0:
        return empty, empty

    cmp = np.less if strict else np.less_equal
    ref_on, est_on = ref_intervals[:, 0], est_intervals[:, 0]
    # The same whole-array operations as mir_eval, so every element is computed identically.
    ref_log, est_log = np.log2(ref_pitches), np.log2(est_pitches)
    if offset_ratio is not None:
        ref_off, est_off = ref_intervals[:, 1], est_intervals[:, 1]
        ref_durations = np.abs(np.diff(ref_intervals, axis=-1)).flatten()
        offset_tolerances = np.maximum(offset_ratio * ref_durations, offset_min_tolerance)

    kept_ref, kept_est = [], []
    order, lo, hi = _onset_windows(ref_on, est_on, onset_tolerance)
    for r, e in _window_chunks(order, lo, hi):
        onset_distances = np.around(np.abs(ref_on[r] - est_on[e]), decimals=N_DECIMALS)
        hit = cmp(onset_distances, onset_tolerance)
        r, e = r[hit], e[hit]
        pitch_distances = np.abs(1200 * (ref_log[r] - est_log[e]))
        hit = cmp(pitch_distances, pitch_tolerance)
        r, e = r[hit], e[hit]
        if offset_ratio is not None:
            offset_distances = np.around(np.abs(ref_off[r] - est_off[e]), decimals=N_DECIMALS)
            hit = cmp(offset_distances, offset_tolerances[r])
            r, e = r[hit], e[hit]
        kept_ref.append(r)
        kept_est.append(e)
    if not kept_ref:
        return empty, empty
    r = np.concatenate(kept_ref).astype(np.int64, copy=False)
    e = np.concatenate(kept_est).astype(np.int64, copy=False)
    srt = np.lexsort((r, e))
    return r[srt], e[srt]


# --------------------------------------------------------------------------- matching
def _maximum_matching(ref_idx: np.ndarray, est_idx: np.ndarray, n_ref: int, n_est: int) -> list[tuple[int, int]]:
    """mir_eval's maximum matching of the hit graph, sorted by reference index.

    ``ref_idx``/``est_idx`` must be sorted by estimate, then reference (as returned by
    :func:`_candidate_pairs`). mir_eval builds ``G = {est: [ref, ...]}`` by scanning its hit
    matrix row by row, so the keys come in order of (smallest reference neighbour, estimate)
    and each neighbour list is ascending; it then runs ``mir_eval.util._bipartite_match``
    (Hopcroft-Karp) on ``G``. We build the same dict and call the same function, except for
    edges whose two ends have no other edge: such an isolated edge is its own connected
    component and belongs to every maximum matching, and Hopcroft-Karp processes connected
    components independently (each phase only touches vertices reachable from the component's
    own free vertices, in their relative order), so leaving these components out does not
    change the pairs chosen elsewhere.
    """
    if ref_idx.size == 0:
        return []
    ref_degree = np.bincount(ref_idx, minlength=n_ref)
    est_degree = np.bincount(est_idx, minlength=n_est)
    isolated = (ref_degree[ref_idx] == 1) & (est_degree[est_idx] == 1)
    pairs_ref = [ref_idx[isolated]]
    pairs_est = [est_idx[isolated]]

    r, e = ref_idx[~isolated], est_idx[~isolated]
    if r.size:
        from mir_eval.util import _bipartite_match

        starts = np.flatnonzero(np.r_[True, e[1:] != e[:-1]])
        stops = np.r_[starts[1:], e.size]
        keys = e[starts]
        first_ref = r[starts]  # neighbour lists are ascending: the first is the smallest
        key_order = np.lexsort((keys, first_ref))
        r_list = r.tolist()
        graph = {}
        for k, a, b in zip(keys[key_order].tolist(), starts[key_order].tolist(), stops[key_order].tolist()):
            graph[k] = r_list[a:b]
        matched = _bipartite_match(graph)  # {ref: est}
        if matched:
            pairs_ref.append(np.fromiter(matched.keys(), dtype=np.int64, count=len(matched)))
            pairs_est.append(np.fromiter(matched.values(), dtype=np.int64, count=len(matched)))

    mr = np.concatenate(pairs_ref)
    me = np.concatenate(pairs_est)
    srt = np.argsort(mr, kind="stable")
    return list(zip(mr[srt].tolist(), me[srt].tolist()))


def match_notes(
    ref_intervals,
    ref_pitches,
    est_intervals,
    est_pitches,
    *,
    onset_tolerance: float = 0.05,
    pitch_tolerance: float = 50.0,
    offset_ratio: float | None = 0.2,
    offset_min_tolerance: float = 0.05,
    strict: bool = False,
) -> list[tuple[int, int]]:
    """Maximum matching of reference and estimated notes, equal to mir_eval's.

    A pair ``(i, j)`` can match when, as in ``mir_eval.transcription.match_notes``:
    ``round(|ref_onset[i] - est_onset[j]|, 4) <= onset_tolerance``;
    ``|1200 * (log2(ref_pitch[i]) - log2(est_pitch[j]))| <= pitch_tolerance``; and, unless
    ``offset_ratio`` is None, ``round(|ref_offset[i] - est_offset[j]|, 4) <=
    max(offset_ratio * ref_duration[i], offset_min_tolerance)`` (``<`` everywhere when
    ``strict``). Returns the same pairs as mir_eval, in O(n + m + k) memory for k matchable
    pairs instead of O(n * m).

    Parameters
    ----------
    ref_intervals : np.ndarray, shape=(n, 2)
        Reference onsets and offsets in seconds.
    ref_pitches : np.ndarray, shape=(n,)
        Reference pitches in Hz.
    est_intervals : np.ndarray, shape=(m, 2)
        Estimated onsets and offsets in seconds.
    est_pitches : np.ndarray, shape=(m,)
        Estimated pitches in Hz.
    onset_tolerance : float
        Onset tolerance in seconds.
    pitch_tolerance : float
        Pitch tolerance in cents.
    offset_ratio : float or None
        Offset tolerance as a share of the reference duration; None ignores offsets.
    offset_min_tolerance : float
        Smallest offset tolerance in seconds.
    strict : bool
        Use ``<`` instead of ``<=`` in all three tests.

    Returns
    -------
    list of (int, int)
        ``(reference index, estimate index)`` pairs, sorted by reference index.

    Raises
    ------
    BadInputError
        Malformed shapes, non-numeric or non-finite values (mir_eval lets NaN through and
        never matches it); when offsets are used, negative times or non-positive reference
        durations (mir_eval raises ValueError there).
    """
    ref_intervals, ref_pitches, est_intervals, est_pitches = _prepare(
        ref_intervals, ref_pitches, est_intervals, est_pitches)
    r, e = _candidate_pairs(ref_intervals, ref_pitches, est_intervals, est_pitches,
                            onset_tolerance, pitch_tolerance, offset_ratio, offset_min_tolerance, strict)
    return _maximum_matching(r, e, ref_intervals.shape[0], est_intervals.shape[0])


def _velocity_filter(matching, ref_velocities: np.ndarray, est_velocities: np.ndarray,
                     velocity_tolerance: float) -> list[tuple[int, int]]:
    """mir_eval.transcription_velocity's rescaling, regression and velocity test."""
    if not matching:
        return []
    min_velocity, max_velocity = np.min(ref_velocities), np.max(ref_velocities)
    velocity_range = max(1, max_velocity - min_velocity)
    ref_scaled = (ref_velocities - min_velocity) / float(velocity_range)
    pairs = np.array(matching)
    ref_matched = ref_scaled[pairs[:, 0]]
    est_matched = est_velocities[pairs[:, 1]]
    design = np.vstack([est_matched, np.ones(len(est_matched))]).T
    slope, intercept = np.linalg.lstsq(design, ref_matched, rcond=None)[0]
    est_rescaled = slope * est_matched + intercept
    keep = np.abs(est_rescaled - ref_matched) < velocity_tolerance
    return [(int(a), int(b)) for a, b in pairs[keep]]


def match_notes_with_velocity(
    ref_intervals,
    ref_pitches,
    ref_velocities,
    est_intervals,
    est_pitches,
    est_velocities,
    *,
    onset_tolerance: float = 0.05,
    pitch_tolerance: float = 50.0,
    offset_ratio: float | None = 0.2,
    offset_min_tolerance: float = 0.05,
    strict: bool = False,
    velocity_tolerance: float = 0.1,
) -> list[tuple[int, int]]:
    """Note matching with velocities, equal to ``mir_eval.transcription_velocity.match_notes``.

    First :func:`match_notes`; then reference velocities are scaled to [0, 1] by their range
    (at least 1), a least-squares line maps the matched estimated velocities onto the matched
    reference ones, and a matched pair is kept when the mapped velocity is strictly within
    ``velocity_tolerance``. Pairs are not re-matched after this filter (as in mir_eval), so the
    result depends on which maximum matching was chosen; this one chooses mir_eval's.

    Parameters
    ----------
    ref_intervals, ref_pitches, est_intervals, est_pitches
        As in :func:`match_notes`.
    ref_velocities : np.ndarray, shape=(n,)
        Reference MIDI velocities (0-127).
    est_velocities : np.ndarray, shape=(m,)
        Estimated velocities (any scale: the regression absorbs it).
    onset_tolerance, pitch_tolerance, offset_ratio, offset_min_tolerance, strict
        As in :func:`match_notes`.
    velocity_tolerance : float
        Largest accepted difference of the rescaled velocities (exclusive).

    Returns
    -------
    list of (int, int)
        Matched pairs, sorted by reference index. Empty when nothing matches (mir_eval raises
        ValueError when the reference is empty).
    """
    ref_intervals, ref_pitches, est_intervals, est_pitches = _prepare(
        ref_intervals, ref_pitches, est_intervals, est_pitches)
    ref_velocities = _as_vector(ref_velocities, ref_intervals.shape[0], "reference", "velocities")
    est_velocities = _as_vector(est_velocities, est_intervals.shape[0], "estimated", "velocities")
    _check_scalar(velocity_tolerance, "velocity_tolerance")
    matching = match_notes(ref_intervals, ref_pitches, est_intervals, est_pitches,
                           onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance,
                           offset_ratio=offset_ratio, offset_min_tolerance=offset_min_tolerance,
                           strict=strict)
    return _velocity_filter(matching, ref_velocities, est_velocities, velocity_tolerance)


# --------------------------------------------------------------------------- scores
def average_overlap_ratio(ref_intervals, est_intervals, matching) -> float:
    """Mean overlap ratio of matched notes, equal to ``mir_eval.transcription.average_overlap_ratio``.

    The overlap ratio of a pair is the length of their intersection over the span from the
    earlier onset to the later offset.

    Parameters
    ----------
    ref_intervals : np.ndarray, shape=(n, 2)
        Reference onsets and offsets in seconds.
    est_intervals : np.ndarray, shape=(m, 2)
        Estimated onsets and offsets in seconds.
    matching : list of (int, int)
        Matched (reference index, estimate index) pairs.

    Returns
    -------
    float
        The mean ratio in [0, 1]; 0.0 when ``matching`` is empty.
    """
    if len(matching) == 0:
        return 0.0
    pairs = np.asarray(matching, dtype=np.int64).reshape(-1, 2)
    ref = np.asarray(ref_intervals)[pairs[:, 0]]
    est = np.asarray(est_intervals)[pairs[:, 1]]
    overlap = np.minimum(ref[:, 1], est[:, 1]) - np.maximum(ref[:, 0], est[:, 0])
    span = np.maximum(ref[:, 1], est[:, 1]) - np.minimum(ref[:, 0], est[:, 0])
    return float(np.mean(overlap / span))


def _f_measure(precision: float, recall: float, beta: float) -> float:
    if precision == 0 and recall == 0:
        return 0.0
    return (1 + beta**2) * precision * recall / ((beta**2) * precision + recall)


def _scores(matching, ref_intervals, est_intervals, beta: float) -> tuple[float, float, float, float]:
    precision = float(len(matching)) / est_intervals.shape[0]
    recall = float(len(matching)) / ref_intervals.shape[0]
    f_measure = _f_measure(precision, recall, beta)
    return precision, recall, f_measure, average_overlap_ratio(ref_intervals, est_intervals, matching)


def precision_recall_f1_overlap(
    ref_intervals,
    ref_pitches,
    est_intervals,
    est_pitches,
    *,
    onset_tolerance: float = 0.05,
    pitch_tolerance: float = 50.0,
    offset_ratio: float | None = 0.2,
    offset_min_tolerance: float = 0.05,
    strict: bool = False,
    beta: float = 1.0,
) -> tuple[float, float, float, float]:
    """Note precision, recall, F-measure and average overlap ratio, equal to mir_eval's.

    Drop-in for ``mir_eval.transcription.precision_recall_f1_overlap`` with the same inputs
    (pitches in Hz), checks and results, in linear memory.

    Parameters
    ----------
    ref_intervals, ref_pitches, est_intervals, est_pitches
        As in :func:`match_notes`.
    onset_tolerance, pitch_tolerance, offset_ratio, offset_min_tolerance, strict
        As in :func:`match_notes`.
    beta : float
        F-measure weight.

    Returns
    -------
    precision, recall, f_measure, avg_overlap_ratio : float
        All 0.0 when either side has no notes (mir_eval also warns there; this does not).

    Raises
    ------
    BadInputError
        Where mir_eval's ``validate`` raises ValueError (bad shapes, negative times,
        non-positive durations, non-positive pitches), and for NaN or infinite values.
    """
    ref_intervals, ref_pitches, est_intervals, est_pitches = _prepare(
        ref_intervals, ref_pitches, est_intervals, est_pitches)
    _validate_full(ref_intervals, ref_pitches, est_intervals, est_pitches)
    if ref_pitches.shape[0] == 0 or est_pitches.shape[0] == 0:
        return 0.0, 0.0, 0.0, 0.0
    matching = match_notes(ref_intervals, ref_pitches, est_intervals, est_pitches,
                           onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance,
                           offset_ratio=offset_ratio, offset_min_tolerance=offset_min_tolerance,
                           strict=strict)
    return _scores(matching, ref_intervals, est_intervals, beta)


def precision_recall_f1_overlap_with_velocity(
    ref_intervals,
    ref_pitches,
    ref_velocities,
    est_intervals,
    est_pitches,
    est_velocities,
    *,
    onset_tolerance: float = 0.05,
    pitch_tolerance: float = 50.0,
    offset_ratio: float | None = 0.2,
    offset_min_tolerance: float = 0.05,
    strict: bool = False,
    velocity_tolerance: float = 0.1,
    beta: float = 1.0,
) -> tuple[float, float, float, float]:
    """Velocity-aware scores, equal to ``mir_eval.transcription_velocity.precision_recall_f1_overlap``.

    Parameters
    ----------
    ref_intervals, ref_pitches, ref_velocities, est_intervals, est_pitches, est_velocities
        As in :func:`match_notes_with_velocity`.
    onset_tolerance, pitch_tolerance, offset_ratio, offset_min_tolerance, strict, velocity_tolerance
        As in :func:`match_notes_with_velocity`.
    beta : float
        F-measure weight.

    Returns
    -------
    precision, recall, f_measure, avg_overlap_ratio : float
        All 0.0 when either side has no notes.

    Raises
    ------
    BadInputError
        Where mir_eval's ``validate`` raises ValueError (as in
        :func:`precision_recall_f1_overlap`, plus negative velocities), and for NaN or
        infinite values.
    """
    ref_intervals, ref_pitches, est_intervals, est_pitches = _prepare(
        ref_intervals, ref_pitches, est_intervals, est_pitches)
    ref_velocities = _as_vector(ref_velocities, ref_intervals.shape[0], "reference", "velocities")
    est_velocities = _as_vector(est_velocities, est_intervals.shape[0], "estimated", "velocities")
    _validate_full(ref_intervals, ref_pitches, est_intervals, est_pitches)
    for velocities, name in ((ref_velocities, "reference"), (est_velocities, "estimated")):
        if velocities.size and np.min(velocities) < 0:
            raise BadInputError(f"{name} velocities must not be negative (found {float(np.min(velocities))!r})")
    if ref_pitches.shape[0] == 0 or est_pitches.shape[0] == 0:
        return 0.0, 0.0, 0.0, 0.0
    matching = match_notes_with_velocity(
        ref_intervals, ref_pitches, ref_velocities, est_intervals, est_pitches, est_velocities,
        onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance, offset_ratio=offset_ratio,
        offset_min_tolerance=offset_min_tolerance, strict=strict, velocity_tolerance=velocity_tolerance)
    return _scores(matching, ref_intervals, est_intervals, beta)
