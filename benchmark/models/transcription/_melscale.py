"""A minimal stand-in for ``torchaudio.functional.melscale_fbanks`` (HTK mel scale, no norm).

transkun builds its mel filterbank with torchaudio when the model is constructed, but
torchaudio's PyPI wheels do not match the pinned CPU torch, so it is not installed. The
checkpoint stores the filterbank as a buffer (``framewiseFeatureExtractor.freq2mels``), which
``load_state_dict`` overwrites anyway; this stand-in only has to produce a tensor of the right
shape, and it reproduces the stored one exactly (checked in the tests).

:func:`torchaudio_stub` puts a fake ``torchaudio`` module with just this function into
``sys.modules`` for the duration of a ``with`` block, and only when the real torchaudio is
not importable.
"""
from __future__ import annotations

import contextlib
import importlib.util
import math
import sys
import types
from collections.abc import Iterator


def hz_to_mel_htk(freq: float) -> float:
    """Frequency in Hz -> HTK mel: ``2595 * log10(1 + f / 700)``."""
    return 2595.0 * math.log10(1.0 + freq / 700.0)


def melscale_fbanks(n_freqs: int, f_min: float, f_max: float, n_mels: int, sample_rate: int,
                    norm: str | None = None, mel_scale: str = "htk"):
    """Triangular mel filterbank, shape ``(n_freqs, n_mels)``, float32 torch tensor.

    Parameters
    ----------
    n_freqs : int
        Number of STFT bins (``n_fft // 2 + 1``), spread linearly over 0 .. ``sample_rate // 2`` Hz.
    f_min, f_max : float
        Lowest and highest filter edge in Hz.
    n_mels : int
        Number of filters; their ``n_mels + 2`` edges are equally spaced on the HTK mel scale.
    sample_rate : int
        Sample rate of the audio in Hz.
    norm, mel_scale
        Only ``norm=None`` and ``mel_scale="htk"`` (what transkun uses) are supported.

    Returns
    -------
    torch.Tensor, shape=(n_freqs, n_mels)
        Filter ``j`` rises linearly from edge ``j`` to a peak of 1 at edge ``j + 1`` and falls
        back to 0 at edge ``j + 2``.
    """
    import torch

    if norm is not None or mel_scale != "htk":
        raise NotImplementedError("melscale_fbanks stand-in supports only norm=None, mel_scale='htk'")
    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs)
    mel_edges = torch.linspace(hz_to_mel_htk(f_min), hz_to_mel_htk(f_max), n_mels + 2)
    hz_edges = 700.0 * (10.0 ** (mel_edges / 2595.0) - 1.0)
    widths = hz_edges[1:] - hz_edges[:-1]                           # (n_mels + 1,)
    distance = hz_edges.unsqueeze(0) - all_freqs.unsqueeze(1)       # (n_freqs, n_mels + 2)
    rising = -distance[:, :-2] / widths[:-1]
    falling = distance[:, 2:] / widths[1:]
    return torch.clamp(torch.minimum(rising, falling), min=0.0)


@contextlib.contextmanager
def torchaudio_stub() -> Iterator[None]:
    """Make ``import torchaudio`` give a module with ``functional.melscale_fbanks`` inside the block.

    Does nothing when a real torchaudio is importable or already imported. The stub is removed
    from ``sys.modules`` on exit, so nothing outside the block sees it.
    """
    if "torchaudio" in sys.modules or importlib.util.find_spec("torchaudio") is not None:
        yield
        return
    stub = types.ModuleType("torchaudio")
    functional = types.ModuleType("torchaudio.functional")
    functional.melscale_fbanks = melscale_fbanks  # type: ignore[attr-defined]
    stub.functional = functional  # type: ignore[attr-defined]
    stub.__musebench_stub__ = True  # type: ignore[attr-defined]
    sys.modules["torchaudio"] = stub
    sys.modules["torchaudio.functional"] = functional
    try:
        yield
    finally:
        for name, module in (("torchaudio", stub), ("torchaudio.functional", functional)):
            if sys.modules.get(name) is module:
                del sys.modules[name]
