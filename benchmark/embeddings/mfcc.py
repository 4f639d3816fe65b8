"""``mfcc``: MFCC and spectral statistics (librosa), the built-in timbre embedding.

Frame features at 16 kHz (1024-point FFT, hop 256, 64 mel bands up to 8 kHz): 20 MFCCs,
spectral centroid, bandwidth and 85 % roll-off (as fractions of the Nyquist frequency),
spectral flatness, zero-crossing rate and RMS level in dBFS / 20 (floored at -100 dBFS).
Each window holds the mean and the standard deviation of these 26 features: 52 dimensions.

:func:`mfcc` is MuseBench's one MFCC computation: this embedding and the translation metrics'
timbre features (:mod:`musebench.metrics.translation_features`) both call it, each with its
own dB floor.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import Embedding

N_MFCC = 20
N_FFT = 1024
HOP = 256
N_MELS = 64
#: floor of the mel power (about 90 dB below a full-scale sine), so digital silence stays finite
AMIN = 1e-4


def mfcc(mel_power: np.ndarray, *, n_mfcc: int, amin: float, top_db: float | None) -> np.ndarray:
    """MFCCs of a mel power spectrogram: :func:`librosa.power_to_db` (``ref=1.0``) then
    :func:`librosa.feature.mfcc` (DCT-II, orthonormal).

    Parameters
    ----------
    mel_power : np.ndarray, shape=(n_mels, n_frames)
        Mel band power (librosa's layout: frames along the last axis).
    n_mfcc : int
        Coefficients kept, c0 (the overall level) included.
    amin : float
        Absolute floor of the power before the logarithm.
    top_db : float or None
        Floor the dB values this far below their maximum (None: no relative floor).

    Returns
    -------
    np.ndarray, shape=(n_mfcc, n_frames), the dtype of ``mel_power``
    """
    import librosa

    db = librosa.power_to_db(mel_power, ref=1.0, amin=amin, top_db=top_db)
    return np.asarray(librosa.feature.mfcc(S=db, n_mfcc=n_mfcc))


class MFCCEmbedding(Embedding):
    name: ClassVar[str] = "mfcc"
    sample_rate: ClassVar[int] = 16000
    stats: ClassVar[tuple[str, ...]] = ("mean", "std")

    @property
    def dim(self) -> int:
        return (N_MFCC + 6) * len(self.stats)

    def frames(self, audio: np.ndarray) -> tuple[np.ndarray, float]:
        """Frame features, shape (n_frames, 26), at 62.5 frames per second."""
        import librosa

        sr = self.sample_rate
        y = np.asarray(audio, dtype=np.float32)
        if len(y) < N_FFT:
            y = np.concatenate([y, np.zeros(N_FFT - len(y), np.float32)])
        power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP, center=True)) ** 2
        mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=N_MELS, fmax=sr / 2)
        coefficients = mfcc(mel, n_mfcc=N_MFCC, amin=AMIN, top_db=None)
        mag = np.sqrt(power)
        nyquist = sr / 2.0
        centroid = librosa.feature.spectral_centroid(S=mag, sr=sr, n_fft=N_FFT)[0] / nyquist
        bandwidth = librosa.feature.spectral_bandwidth(S=mag, sr=sr, n_fft=N_FFT)[0] / nyquist
        rolloff = librosa.feature.spectral_rolloff(S=mag, sr=sr, n_fft=N_FFT)[0] / nyquist
        flatness = librosa.feature.spectral_flatness(S=mag)[0]
        zcr = librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP, center=True)[0]
        rms = librosa.feature.rms(S=mag, frame_length=N_FFT)[0]
        level = np.maximum(20.0 * np.log10(np.maximum(rms, 1e-5)), -100.0) / 20.0
        n = min(coefficients.shape[1], len(zcr))
        features = np.concatenate([coefficients[:, :n].T, np.stack([centroid[:n], bandwidth[:n], rolloff[:n],
                                                            flatness[:n], zcr[:n], level[:n]], axis=1)], axis=1)
        return features.astype(np.float64), sr / HOP
