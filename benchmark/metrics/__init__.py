"""Metric registry: every score name MuseBench reports, its family and direction.

The computations live in one module per family (``transcription``, ``translation``,
``generation``), each shaped like mir_eval's: ``validate()``, metric functions, ``evaluate()``.
This catalogue only declares names, so listing metrics imports nothing heavy.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..registry import Registry


@dataclass(frozen=True)
class MetricSpec:
    name: str
    family: str
    higher_is_better: bool
    description: str
    aggregate: str = "mean"  # "mean" over items, or "set" (computed once over the whole run)


METRICS: Registry[MetricSpec] = Registry("metric", entry_point_group="musebench.metrics")  # plug-in metrics, e.g. frechet_clap


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


__all__ = ["METRICS", "MetricSpec", "get_metric"]
