"""Signal processing for stimuli: loudness, anchors, gold and trap clips, the headphone check.

Loudness follows ITU-R BS.1770-4 (integrated, gated), measured with pyloudnorm. A study has
ONE loudness target: the preferred level (-23 LUFS by default) lowered, when needed, so that no
clip's true peak (4x oversampled) exceeds ``-headroom_db`` dBFS after its gain.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musebench.errors import BadInputError

SILENCE_DB = -150.0  # reported peak of an all-zero clip
_BLOCK_S = 0.4       # BS.1770 gating block


@dataclass(frozen=True)
class Level:
    """Loudness and true peak of one clip, before normalisation."""

    loudness_lufs: float | None  # None: silent (below the absolute gate)
    peak_dbfs: float


def integrated_loudness(audio: np.ndarray, *, sample_rate: int) -> float | None:
    """BS.1770 integrated loudness in LUFS; None for a silent clip.

    Clips shorter than one 400 ms gating block are looped to one block: looping keeps the mean
    power, which is what the measurement integrates.
    """
    import warnings

    import pyloudnorm as pyln

    x = np.asarray(audio, dtype=np.float64)
    need = int(np.ceil(_BLOCK_S * sample_rate)) + 1
    if x.shape[0] < need:
        reps = int(np.ceil(need / max(x.shape[0], 1)))
        x = np.tile(x, (reps,) + (1,) * (x.ndim - 1))[:need]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyloudnorm warns about clipping on loud inputs
        value = pyln.Meter(sample_rate).integrated_loudness(x)
    return float(value) if np.isfinite(value) else None


def true_peak_dbfs(audio: np.ndarray, *, sample_rate: int, oversample: int = 4) -> float:
    """Peak level in dBFS after ``oversample``-times oversampling (an estimate of the true peak)."""
    from musebench.audio import resample

    x = np.asarray(audio, dtype=np.float32)
    up = resample(x, sample_rate, sample_rate * oversample) if oversample > 1 else x
    peak = float(max(np.max(np.abs(up)), np.max(np.abs(x)))) if x.size else 0.0
    return float(20.0 * np.log10(peak)) if peak > 0 else SILENCE_DB


def measure(audio: np.ndarray, *, sample_rate: int) -> Level:
    return Level(integrated_loudness(audio, sample_rate=sample_rate), true_peak_dbfs(audio, sample_rate=sample_rate))


def choose_target(levels: list[Level], *, preferred_lufs: float = -23.0, headroom_db: float = 1.0,
                  max_gain_db: float = 40.0) -> float:
    """The study's loudness target: ``preferred_lufs``, lowered until no clip would clip.

    A clip with loudness L and true peak P reaches P + (T - L) after normalising to T; keeping
    that at or below ``-headroom_db`` gives T <= L - P - headroom. Silent clips, and clips whose
    gain would be capped at ``max_gain_db``, do not constrain the target.
    """
    target = float(preferred_lufs)
    for lv in levels:
        if lv.loudness_lufs is None:
            continue
        gain = target - lv.loudness_lufs
        if gain > max_gain_db:
            continue  # capped; its peak is checked against the capped gain in normalise()
        target = min(target, lv.loudness_lufs - lv.peak_dbfs - headroom_db)
    return target


def gain_for(level: Level, *, target_lufs: float, headroom_db: float = 1.0, max_gain_db: float = 40.0) -> float:
    """Gain in dB that brings ``level`` to ``target_lufs`` (0 for silence; capped; never clipping)."""
    if level.loudness_lufs is None:
        return 0.0
    gain = min(target_lufs - level.loudness_lufs, max_gain_db)
    return min(gain, -headroom_db - level.peak_dbfs) if level.peak_dbfs > SILENCE_DB else gain


def apply_gain(audio: np.ndarray, gain_db: float) -> np.ndarray:
    return (np.asarray(audio, dtype=np.float32) * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32)


# --------------------------------------------------------------------------- degradations
def lowpass(audio: np.ndarray, *, sample_rate: int, cutoff_hz: float, order: int = 8) -> np.ndarray:
    """Zero-phase Butterworth low-pass: the MUSHRA low anchor uses 3.5 kHz."""
    from scipy.signal import butter, sosfiltfilt

    if not 0 < cutoff_hz < sample_rate / 2:
        raise BadInputError(f"low-pass cutoff {cutoff_hz} Hz must lie between 0 and {sample_rate / 2} Hz")
    sos = butter(order, cutoff_hz, btype="low", fs=sample_rate, output="sos")
    x = np.asarray(audio, dtype=np.float64)
    if x.shape[0] <= 3 * (2 * len(sos) + 1):
        return x.astype(np.float32)
    return sosfiltfilt(sos, x, axis=0).astype(np.float32)


def strong_degradation(audio: np.ndarray, *, sample_rate: int, seed: int, snr_db: float = 0.0) -> np.ndarray:
    """An unmistakably bad copy (1 kHz low-pass, white noise at ``snr_db``, 4-bit quantisation).

    Used for gold items with a known answer (Bad or Poor) and for the "bad" training example.
    """
    rng = np.random.default_rng(seed)
    x = lowpass(audio, sample_rate=sample_rate, cutoff_hz=min(1000.0, sample_rate / 4))
    power = float(np.mean(x.astype(np.float64) ** 2)) or 1e-4
    noise = rng.standard_normal(x.shape) * np.sqrt(power / 10 ** (snr_db / 10))
    y = x + noise
    scale = float(np.max(np.abs(y))) or 1.0
    y = np.round(y / scale * 7) / 7 * scale  # 4-bit levels
    return y.astype(np.float32)


def with_beeps(audio: np.ndarray, *, sample_rate: int, count: int, freq_hz: float = 1000.0,
               min_head_s: float = 0.5) -> np.ndarray:
    """A trap clip as long as ``audio``: its start, a pause, then ``count`` beeps up to its end.

    Raters are told to answer every question of a clip that ends with beeps with the number of
    beeps; only a rater who listened to the end can do so. The trap has the length of the clip
    it is made from, so its length does not give it away (only clips shorter than
    ``min_head_s`` plus the beeps, 0.5 + 0.5 + 0.35 ``count`` seconds, come out longer).
    """
    if not 1 <= count <= 5:
        raise BadInputError(f"trap beep count must be 1..5, got {count}")
    x = np.asarray(audio, dtype=np.float32)
    beep_n, gap_n, pause_n = int(0.15 * sample_rate), int(0.2 * sample_rate), int(0.5 * sample_rate)
    tail_n = pause_n + count * (beep_n + gap_n)
    head = x[: max(x.shape[0] - tail_n, int(min_head_s * sample_rate))]
    level = float(np.sqrt(np.mean(head.astype(np.float64) ** 2))) if head.size else 0.1
    amp = float(np.clip(level * np.sqrt(2) * 2, 0.05, 0.5))
    t = np.arange(beep_n) / sample_rate
    beep = amp * np.sin(2 * np.pi * freq_hz * t) * _ramp(t.size, int(0.01 * sample_rate))
    gap = np.zeros(gap_n, dtype=np.float32)
    parts = [head, np.zeros(pause_n, dtype=np.float32)]
    for _ in range(count):
        parts += [beep.astype(np.float32), gap]
    return np.concatenate(parts).astype(np.float32)


def _ramp(n: int, r: int) -> np.ndarray:
    env = np.ones(n)
    r = max(1, min(r, n // 2))
    env[:r] = np.linspace(0, 1, r)
    env[-r:] = np.linspace(1, 0, r)
    return env


# --------------------------------------------------------------------------- headphone check
#: length of one headphone-check trial at the defaults: three 1 s tones with 0.5 s gaps
HEADPHONE_TRIAL_S = 4.0


def guess_pass_rate(trials: int, needed: int) -> float:
    """Probability that a listener who guesses (1 in 3 per trial) gets ``needed`` of ``trials`` right.

    Woods et al. (2017): 6 trials, 5 needed: 13/729 = 1.8 %; 2 of 3: 7/27 = 25.9 %.
    """
    from math import comb

    return float(sum(comb(trials, k) * (1 / 3) ** k * (2 / 3) ** (trials - k) for k in range(needed, trials + 1)))


def headphone_check(*, seed: int, sample_rate: int = 44100, tone_s: float = 1.0, freq_hz: float = 200.0,
                    level_dbfs: float = -20.0) -> tuple[np.ndarray, int]:
    """One trial of the Woods et al. (2017) antiphase headphone screening.

    Three stereo tones: one in phase, one 6 dB quieter, one with the channels in antiphase. Over
    headphones the quiet one is the quietest; over loudspeakers the antiphase tone cancels in
    the air and sounds quieter. Returns ``(audio (n, 2) float32, answer in 1..3)``.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(["normal", "quiet", "antiphase"])
    t = np.arange(int(tone_s * sample_rate)) / sample_rate
    tone = 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq_hz * t) * _ramp(t.size, int(0.1 * sample_rate))
    gap = np.zeros((int(0.5 * sample_rate), 2))
    parts = []
    for kind in order:
        if kind == "normal":
            st = np.stack([tone, tone], axis=1)
        elif kind == "quiet":
            st = np.stack([tone, tone], axis=1) * 10 ** (-6 / 20)
        else:
            st = np.stack([tone, -tone], axis=1)
        parts += [st, gap]
    answer = int(list(order).index("quiet")) + 1
    return np.concatenate(parts[:-1]).astype(np.float32), answer
