"""Metric registry: every score name MuseBench reports, its family, direction and, for metrics
that are a function of one item's inputs, the function itself.

The built-in computations live in one module per family (``transcription``, ``translation``,
``generation``), each shaped like mir_eval's: ``validate()``, metric functions, ``evaluate()``;
the family computes them all at once (the note matching is shared by a dozen scores), so their
entries here declare a name and hold no function. A plug-in adds a metric as lm-eval does,
with the function itself (:func:`register_metric`): the family calls it on every item with
that family's inputs (:data:`FUNCTION_INPUTS`) and the parameters the metric declares.
Listing metrics imports nothing heavy: a function may be a lazy ``"module:attr"`` string.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..registry import Registry, import_target

#: what a metric function receives on each item, by family (keyword arguments), besides its params
FUNCTION_INPUTS: dict[str, tuple[str, ...]] = {
    # Notes of the dataset's reference and of the model's output (musebench.types.Notes)
    "transcription": ("reference", "estimate"),
    # musebench.metrics.translation_features.Features of the source, the output and the paired
    # reference rendering (None where the item has none)
    "translation": ("source", "output", "reference"),
    # the generated clip (mono float32 at the task's sample rate) and that rate
    "generation": ("audio", "sample_rate"),
}


@dataclass(frozen=True)
class MetricSpec:
    """One metric of the catalogue.

    Attributes
    ----------
    name, family : str
    higher_is_better : bool
    description : str
    aggregate : {"mean", "set"}
        ``mean`` over items, or ``set`` (computed once over the whole run by the family).
    function : callable or str, optional
        The metric itself, ``function(**inputs, **params) -> float`` with the family's
        :data:`FUNCTION_INPUTS`, or a lazy ``"module:attr"``; None for the built-in metrics
        that the family's ``evaluate()`` computes.
    params : mapping
        The parameters ``function`` is called with (its declared defaults).
    """

    name: str
    family: str
    higher_is_better: bool
    description: str
    aggregate: str = "mean"
    function: Callable[..., float] | str | None = field(default=None, compare=False)
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def resolve(self) -> Callable[..., float] | None:
        """The function (imported if it is a lazy target), or None."""
        if isinstance(self.function, str):
            return import_target(self.function)
        return self.function

    def __call__(self, **inputs: Any) -> float:
        """Score one item: ``function(**inputs, **params)`` as a float."""
        fn = self.resolve()
        if fn is None:
            raise ConfigError(f"metric {self.name!r} is computed by the {self.family} family, not by a function")
        return float(fn(**inputs, **dict(self.params)))


METRICS: Registry[MetricSpec] = Registry("metric", entry_point_group="musebench.metrics")


def register_metric(name: str, *, family: str, higher_is_better: bool, description: str = "",
                    params: Mapping[str, Any] | None = None, replace: bool = False
                    ) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Decorator: register a per-item metric function under ``name`` (lm-eval's ``register_metric``).

    The family calls ``function(**inputs, **params)`` on every scored item, ``inputs`` being
    the keyword arguments :data:`FUNCTION_INPUTS` lists for ``family``; the run reports the
    mean over items with a bootstrap CI, like every per-item metric. ``params`` are checked
    against the function's signature here, so a misspelled parameter fails at registration.

    Examples
    --------
    >>> @register_metric("note_count_ratio", family="transcription", higher_is_better=True,
    ...                  params={"cap": 2.0})                       # doctest: +SKIP
    ... def note_count_ratio(*, reference, estimate, cap):
    ...     return min(cap, len(estimate) / max(1, len(reference)))

    Raises
    ------
    ConfigError
        Unknown family, a function that does not accept the family's inputs or the declared
        ``params``, or ``name`` already registered (without ``replace``).
    """
    if family not in FUNCTION_INPUTS:
        raise ConfigError(f"metric {name!r}: family must be one of {', '.join(FUNCTION_INPUTS)}, not {family!r}")
    declared = dict(params or {})

    def decorator(fn: Callable[..., float]) -> Callable[..., float]:
        try:
            inspect.signature(fn).bind(**{k: None for k in FUNCTION_INPUTS[family]}, **declared)
        except TypeError as exc:
            raise ConfigError(f"metric {name!r}: {getattr(fn, '__name__', fn)!s} cannot be called with the "
                              f"{family} inputs ({', '.join(FUNCTION_INPUTS[family])}) and params "
                              f"{sorted(declared)}: {exc}") from None
        spec = MetricSpec(name, family, higher_is_better, description or (fn.__doc__ or name).strip().splitlines()[0],
                          "mean", fn, declared)
        METRICS.register(name, spec, replace=replace)
        return fn

    return decorator


def function_scores(metric_names: tuple[str, ...] | list[str], **inputs: Any) -> dict[str, float]:
    """The scores of those of ``metric_names`` whose spec holds a function, on one item.

    Families call it from ``score()`` with their :data:`FUNCTION_INPUTS`; the built-in metrics
    (no function) are skipped, and so are names this process does not know: a run's worker
    process knows the built-in and entry-point metrics, not those registered at run time in the
    process that started the run (the task was checked there; a set-level plug-in such as a
    ``frechet_<embedding>`` is computed there too). Such a function metric is scored only by
    ``--worker inline`` runs; plug-ins declare theirs through the entry point.
    """
    out = {}
    for name in metric_names:
        if name not in METRICS:
            continue
        spec = METRICS.get(name)
        if spec.function is not None:
            out[name] = spec(**inputs)
    return out


def _add(family: str, name: str, higher: bool, description: str, aggregate: str = "mean") -> None:
    METRICS.register(name, MetricSpec(name, family, higher, description, aggregate))


# --- transcription (docs/transcription.md) -------------------------------------------------
for _kind, _desc in (("onset", "onset within 50 ms, pitch within 50 cents"),
                     ("onset_offset", "onset as above and offset within max(50 ms, 20% of duration)")):
    _add("transcription", f"{_kind}_precision", True, f"note precision, {_desc} (mir_eval)")
    _add("transcription", f"{_kind}_recall", True, f"note recall, {_desc} (mir_eval)")
    _add("transcription", f"{_kind}_f1", True, f"note F1, {_desc} (mir_eval)")
_add("transcription", "onset_velocity_f1", True, "onset F1 with velocities matched (mir_eval.transcription_velocity)")
_add("transcription", "onset_offset_velocity_f1", True, "onset+offset F1 with velocities matched")
_add("transcription", "frame_f1", True, "F1 of 62.5 fps piano-roll frames (MT3)")
_add("transcription", "multi_instrument_f1", True, "program-aware onset+offset F1, full program granularity (MT3)")
_add("transcription", "multi_instrument_f1_midi_class", True, "program-aware onset+offset F1, MIDI program classes")
_add("transcription", "multi_instrument_f1_flat", True, "onset+offset F1 ignoring programs (MT3 'flat')")
_add("transcription", "drum_onset_f1", True, "drum onset F1 (onsets only, drum notes only); 0 on items without "
     "drums, so the run mean is over all items (MT3)")
_add("transcription", "drum_onset_f1_with_drums", True, "drum onset F1 on items whose reference or estimate has "
     "drums only (its mean is over those items)")
_add("transcription", "frame_precision", True, "precision of 62.5 fps piano-roll frames (MT3)")
_add("transcription", "frame_recall", True, "recall of 62.5 fps piano-roll frames (MT3)")
_add("transcription", "multi_instrument_precision", True, "program-aware onset+offset precision, full granularity (MT3)")
_add("transcription", "multi_instrument_recall", True, "program-aware onset+offset recall, full granularity (MT3)")
_add("transcription", "multi_instrument_nondrum_f1", True, "program-aware onset+offset F1 of the non-drum tracks, "
     "full granularity (MT3 'Nondrum onset + offset + program F1')")
for _tol in (10, 20, 50, 100, 200, 500):
    _add("transcription", f"onset_offset_f1_at_{_tol}ms", True, f"onset+offset F1 with onset tolerance and offset "
         f"floor {_tol} ms (MT3's onset-tolerance sweep)")
# Cerberus4's track specs (MT3 CERBERUS4_CONFIG): one set of scores per track
for _track, _drum in (("bass", False), ("drums", True), ("guitar", False), ("piano", False)):
    _add("transcription", f"track_{_track}_onset_f1", True, f"onset F1 of the {_track} track (MT3 track spec)")
    if not _drum:
        _add("transcription", f"track_{_track}_onset_offset_f1", True, f"onset+offset F1 of the {_track} track")
    _add("transcription", f"track_{_track}_frame_f1", True, f"frame F1 of the {_track} track")

# --- translation (docs/translation.md) ---------------------------------------------------
_add("translation", "content_correlation", True, "normalized correlation of chroma content features, source vs output")
_add("translation", "content_correlation_dtw", True, "as content_correlation after fastdtw alignment")
_add("translation", "timbre_correlation", True, "normalized correlation of MFCC timbre features, output vs reference")
_add("translation", "timbre_correlation_dtw", True, "as timbre_correlation after fastdtw alignment")
_add("translation", "source_timbre_correlation", False, "MFCC correlation, output vs source (lower: timbre moved)")
_add("translation", "pitch_accuracy", True, "onset F1 of judge-transcribed output notes vs the source notes")
_add("translation", "target_domain_distance", False, "Frechet distance of output MFCC stats to the target domain", "set")

# --- generation (docs/generation.md) -----------------------------------------------------
_add("generation", "frechet_mfcc", False, "Frechet distance of MFCC/spectral-statistics window embeddings, "
     "generated vs reference clips", "set")
# frechet_pitch (Basic Pitch posteriorgram windows) was dropped in generation tasks v2: it ranked white
# noise above real piano (0.669 vs 0.665-0.704 for the LSTMs, 0.690 for piano; docs/generation.md)
_add("generation", "frechet_inf_mfcc", False, "FAD-inf of the MFCC window embeddings: the Frechet distance "
     "extrapolated to infinitely many generated windows (fadtk's score_inf)", "set")
_add("generation", "kad_mfcc", False, "Kernel Audio Distance of the MFCC window embeddings: unbiased MMD^2, "
     "Gaussian kernel, x100 (kadtk)", "set")
_add("generation", "silence_ratio", False, "share of 64 ms frames below -60 dBFS")
_add("generation", "clipping_ratio", False, "share of samples at or above 0.999 of full scale")
_add("generation", "spectral_flatness", False, "mean spectral flatness of non-silent frames (1 = white noise or silence)")
_add("generation", "pitch_salience", True, "mean strongest-key activation of the Basic Pitch posteriorgram")
_add("generation", "seed_coherence", True, "pitch-class-profile correlation between seed and continuation")
_add("generation", "continuation_correlation", True, "pitch-class-profile correlation, generated vs true continuation")
_add("generation", "memorization_distance", True, "distance to the nearest training windows, relative to held-out "
     "clips (1 = typical novel clip, 0 = copy)")
_add("generation", "memorized_ratio", False, "share of generated clips flagged as copies of training clips", "set")


def get_metric(name: str) -> MetricSpec:
    return METRICS.get(name)


__all__ = ["METRICS", "MetricSpec", "FUNCTION_INPUTS", "get_metric", "register_metric", "function_scores"]
