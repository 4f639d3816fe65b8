"""The training material of the UMT: the train pieces (checked against the held-out ones),
their renderings per domain with pitch-shifted versions (cached), the random training batches
with the local pitch augmentation, and the fixed validation segments. See
:mod:`musebench.training.umt` for what is drawn from where."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import BadInputError
from ...io_utils import sha256_bytes
from . import UMTTrainConfig

_VALIDATION_CACHE: dict[tuple[tuple[str, ...], int, float], tuple[np.ndarray, np.ndarray]] = {}


def training_pieces(n: int) -> list[dict[str, Any]]:
    """The train pieces ``0 .. n-1`` with their seeds and MIDI bytes, checked against held-out data.

    Raises
    ------
    BadInputError
        A train seed or score equals one of the validation or test split (cannot happen with
        the hashed seeds, but it is what makes the evaluation honest, so it is checked).
    """
    from ...datasets import synth, synth_pairs

    held_seeds: dict[int, str] = {}
    held_scores: dict[str, str] = {}
    for split in ("validation", "test"):
        for i in range(synth.SPLIT_SIZES[split]):
            iid = synth.item_id(synth_pairs.VARIANT, split, i)
            held_seeds[synth.item_seed(synth_pairs.VARIANT, split, i)] = iid
            held_scores[sha256_bytes(synth_pairs.score_midi(split, i))] = iid
    out = []
    for i in range(n):
        seed = synth.item_seed(synth_pairs.VARIANT, "train", i)
        iid = synth.item_id(synth_pairs.VARIANT, "train", i)
        if seed in held_seeds:
            raise BadInputError(f"train umt: train piece {iid} has the seed of held-out piece {held_seeds[seed]}")
        midi = synth_pairs.score_midi("train", i)
        digest = sha256_bytes(midi)
        if digest in held_scores:
            raise BadInputError(f"train umt: train piece {iid} has the score of held-out piece {held_scores[digest]}")
        out.append({"id": iid, "seed": seed, "midi": midi, "midi_sha256": digest})
    return out


def _cache_dir() -> Path:
    from ...paths import data_home

    return data_home() / "umt-train"


def load_training_audio(config: UMTTrainConfig, *, sample_rate: int, progress: bool = False,
                        cache: bool = True) -> tuple[dict[str, list[np.ndarray]], dict[str, list[np.ndarray]],
                                                     dict[str, Any]]:
    """Mu-law classes of every training clip per domain, their pitch-shifted versions, and provenance.

    Returns
    -------
    clean : dict domain -> list of uint8 arrays (n_i,)
    shifted : dict domain -> list of uint8 arrays (aug_versions, n_i)
    data : dict
        ``fingerprint`` (sha256 over the rendered WAV bytes, pieces, programs and shifts),
        ``pieces``, ``programs``, ``seconds``, ``sample_rate``, ``soundfont_sha256``.
    """
    import io

    from tqdm.auto import tqdm

    from ...audio import resample
    from ...datasets import synth, synth_pairs
    from ...datasets.translation_domains import get_domain
    from ...models.translation.umt_networks import mu_law_encode

    pieces = training_pieces(config.pieces)
    programs = {name: get_domain(name).program for name in config.domains}
    rng = np.random.default_rng([config.seed, 7919])
    shifts = rng.uniform(-config.aug_semitones, config.aug_semitones,
                         size=(len(config.domains), config.pieces, config.aug_versions)).round(4)
    key = hashlib.sha256(json.dumps({"pieces": [p["midi_sha256"] for p in pieces], "programs": programs,
                                     "sr": sample_rate, "shifts": shifts.tolist(), "augment": config.augment,
                                     "generator": synth.GENERATOR_VERSION}, sort_keys=True).encode()).hexdigest()
    cache_path = _cache_dir() / f"{key[:24]}.npz"
    clean: dict[str, list[np.ndarray]]
    shifted: dict[str, list[np.ndarray]]
    if cache and cache_path.is_file():
        with np.load(cache_path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            clean = {d: [f[f"clean/{d}/{i}"] for i in range(config.pieces)] for d in config.domains}
            shifted = {d: [f[f"shifted/{d}/{i}"] for i in range(config.pieces)] for d in config.domains}
        return clean, shifted, meta
    import soundfile as sf

    clean = {d: [] for d in config.domains}
    shifted = {d: [] for d in config.domains}
    wav_hashes: dict[str, list[str]] = {d: [] for d in config.domains}
    seconds = {d: 0.0 for d in config.domains}
    specs = [(di, d, pi) for di, d in enumerate(config.domains) for pi in range(config.pieces)]
    notes_cache: dict[int, Any] = {}
    for di, d, pi in tqdm(specs, desc="umt: render train pieces", unit="clip", disable=not progress):
        if pi not in notes_cache:
            notes_cache[pi] = synth.notes_from_midi_bytes(pieces[pi]["midi"])
        wav = synth_pairs.render_wav(notes_cache[pi], programs[d])
        wav_hashes[d].append(sha256_bytes(wav))
        audio, sr = sf.read(io.BytesIO(wav), dtype="float32")
        audio = resample(audio, sr, sample_rate) if sr != sample_rate else audio
        seconds[d] += len(audio) / sample_rate
        clean[d].append(mu_law_encode(audio).astype(np.uint8))
        if config.augment:
            import librosa

            versions = [librosa.effects.pitch_shift(audio, sr=sample_rate, n_steps=float(s))[:len(audio)]
                        for s in shifts[di, pi]]
            shifted[d].append(np.stack([mu_law_encode(v).astype(np.uint8) for v in versions]))
        else:
            shifted[d].append(clean[d][-1][None])
    fingerprint = hashlib.sha256(json.dumps({"wav_sha256": wav_hashes, "shifts": shifts.tolist(),
                                             "sample_rate": sample_rate}, sort_keys=True).encode()).hexdigest()
    meta = {"source": "synth generator, variant piano, split train, rendered like synth-pairs",
            "generator_version": synth.GENERATOR_VERSION, "pieces": [p["id"] for p in pieces],
            "piece_seeds": [p["seed"] for p in pieces], "programs": programs,
            "seconds": {d: round(s, 3) for d, s in seconds.items()}, "sample_rate": sample_rate,
            "soundfont_sha256": synth.soundfont_sha256(), "fingerprint": fingerprint,
            "held_out_checked": "no train seed or score equals a validation or test piece",
            "pitch_shifts": shifts.tolist() if config.augment else None}
    if cache:
        arrays = {f"clean/{d}/{i}": a for d in config.domains for i, a in enumerate(clean[d])}
        arrays.update({f"shifted/{d}/{i}": a for d in config.domains for i, a in enumerate(shifted[d])})
        arrays["meta"] = np.array(json.dumps(meta))
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)  # type: ignore[arg-type]  # numpy's stub: a **key could be allow_pickle
        os.replace(tmp, cache_path)
    return clean, shifted, meta


def draw_batch(clean: dict[str, list[np.ndarray]], shifted: dict[str, list[np.ndarray]], domains: list[str], *,
               rng: np.random.Generator, per_domain: int, length: int, augment: bool, aug_min: int,
               aug_max: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random segments: clean classes ``(B, length)``, augmented classes, domain labels ``(B,)``.

    The batch is ordered by domain (``per_domain`` rows each).
    """
    batch = len(domains) * per_domain
    x = np.zeros((batch, length), np.int64)
    x_aug = np.zeros((batch, length), np.int64)
    labels = np.repeat(np.arange(len(domains)), per_domain)
    for row in range(batch):
        d = domains[labels[row]]
        k = int(rng.integers(len(clean[d])))
        clip = clean[d][k]
        start = int(rng.integers(0, max(1, len(clip) - length + 1)))
        seg = clip[start:start + length].astype(np.int64)
        x[row, :len(seg)] = seg
        x[row, len(seg):] = 128  # silence
        x_aug[row] = x[row]
        if augment:
            part = int(rng.integers(aug_min, aug_max + 1))
            a = int(rng.integers(0, max(1, length - part + 1)))
            version = shifted[d][k][int(rng.integers(len(shifted[d][k])))]
            src = version[start + a:start + a + part].astype(np.int64)
            x_aug[row, a:a + len(src)] = src
    return x, x_aug, labels


def noisy_inputs(x: np.ndarray, rng: np.random.Generator, std: float) -> np.ndarray:
    """The decoders' teacher-forced input: mu-law classes ``x`` plus Gaussian noise of ``std``
    classes, rounded to whole classes and clipped to 0-255 (the training targets stay ``x``)."""
    noise = np.rint(rng.normal(0.0, std, size=x.shape)).astype(np.int64)
    return np.clip(x + noise, 0, 255)


def validation_segments(config: UMTTrainConfig, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed validation segments: mu-law classes ``(2 * n_domains, length)`` and domain labels.

    Validation pieces 0-1, rendered in each domain (never trained on); the segment starts a
    third into the piece. Cached per (domains, rate, segment length).
    """
    import io

    import soundfile as sf

    from ...audio import resample
    from ...datasets import synth, synth_pairs
    from ...datasets.translation_domains import get_domain
    from ...models.translation.umt_networks import mu_law_encode

    key = (tuple(config.domains), sr, config.segment_seconds)
    if key not in _VALIDATION_CACHE:
        length = int(round(config.segment_seconds * sr))
        rows, labels = [], []
        for j, d in enumerate(config.domains):
            for i in range(2):
                notes = synth.notes_from_midi_bytes(synth_pairs.score_midi("validation", i))
                audio, r = sf.read(io.BytesIO(synth_pairs.render_wav(notes, get_domain(d).program)), dtype="float32")
                audio = resample(audio, r, sr)
                start = len(audio) // 3
                rows.append(mu_law_encode(audio[start:start + length]))
                labels.append(j)
        _VALIDATION_CACHE[key] = (np.stack(rows), np.array(labels))
    return _VALIDATION_CACHE[key]
