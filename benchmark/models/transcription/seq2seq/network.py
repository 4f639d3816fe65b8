"""The encoder-decoder Transformer and its input features (PyTorch).

Shape of MT3's T5.1.1 network (``mt3/network.py``, ``mt3/gin/model.gin``): pre-norm layers
with RMS layer norm and no biases, gated-GELU feed-forward (``mlp_activations = ('gelu',
'linear')``), fixed sinusoidal position embeddings added to the encoder inputs and to the
decoder token embeddings (``layers.FixedEmbed``), a dense projection of the spectrogram frames
into the encoder (``continuous_inputs``), separate output projection
(``logits_via_embedding = False``), dropout 0.1.

Features (``mt3/spectrograms.py``): 16 kHz audio, FFT size 2048, log mel spectrogram from
20 Hz. Two things differ, both for the CPU: the hop is 160 samples (10 ms, so that one frame is
one time step of the vocabulary) instead of 128, and pairs of frames are stacked before the
input projection (``frame_stack``), halving the encoder length; each mel bin is standardised
by the mean and standard deviation of the training data (stored with the weights).

One addition (not in MT3): every decoder input also gets the sinusoidal embedding of the
*current segment time* (the value of the latest shift token so far), at the encoder's
position scale, so that cross-attention can find "the frames after now" from the start of
training. ``time_embedding = False`` turns it off.

Decoding (:func:`greedy_decode`) is greedy with a key/value cache: the cross-attention keys
and values are computed once per segment, and each step appends one position to the
self-attention cache.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ....errors import ConfigError

SAMPLE_RATE = 16000
HOP = 160
N_FFT = 2048
FMIN = 20.0
LOG_EPS = 1e-5


@dataclass(frozen=True)
class NetConfig:
    """Sizes of the network (recorded in the checkpoint)."""

    vocab_size: int
    n_mels: int = 229
    frame_stack: int = 2
    d_model: int = 256
    n_heads: int = 4
    d_ff: int = 1024
    encoder_layers: int = 4
    decoder_layers: int = 4
    dropout: float = 0.1
    max_frames: int = 1024
    max_tokens: int = 1024
    time_embedding: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetConfig:
        try:
            return cls(**data)
        except TypeError as exc:
            raise ConfigError(f"seq2seq network config: {exc}") from None


#: named sizes; ``small`` is T5.1.1-small's shape as MT3 uses it (model.gin, 8+8 layers)
SIZES: dict[str, dict[str, Any]] = {
    "tiny": dict(d_model=192, n_heads=4, d_ff=512, encoder_layers=3, decoder_layers=3, dropout=0.05),
    "small": dict(d_model=512, n_heads=8, d_ff=1024, encoder_layers=8, decoder_layers=8, dropout=0.1, frame_stack=1,
                  n_mels=512),
}


# ---- features ---------------------------------------------------------------------------
_MEL_CACHE: dict[tuple[int, int], torch.Tensor] = {}


def mel_filters(n_mels: int) -> torch.Tensor:
    """Slaney-style mel filterbank (Slaney mel scale, area-normalised triangles, as librosa's
    ``filters.mel`` default) from FMIN to 8 kHz, shape (n_mels, N_FFT // 2 + 1); computed
    here so that inference does not import librosa."""
    key = (n_mels, N_FFT)
    if key not in _MEL_CACHE:
        def hz_to_mel(f):
            f = np.asarray(f, dtype=np.float64)
            lin = f / (200.0 / 3)
            log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
            return np.where(f >= 1000.0, log, lin)

        def mel_to_hz(m):
            m = np.asarray(m, dtype=np.float64)
            lin = m * (200.0 / 3)
            log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
            return np.where(m >= 15.0, log, lin)

        fft_freqs = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
        edges = mel_to_hz(np.linspace(hz_to_mel(FMIN), hz_to_mel(SAMPLE_RATE / 2), n_mels + 2))
        widths = np.diff(edges)
        ramps = edges[:, None] - fft_freqs[None, :]
        lower = -ramps[:-2] / widths[:-1, None]
        upper = ramps[2:] / widths[1:, None]
        weights = np.maximum(0, np.minimum(lower, upper)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
        _MEL_CACHE[key] = torch.from_numpy(weights.astype(np.float32))
    return _MEL_CACHE[key]


def log_mel(audio: np.ndarray | torch.Tensor, n_mels: int) -> torch.Tensor:
    """Log mel spectrogram, one frame per 10 ms (frame ``i`` centred on sample ``160 i``).

    Returns
    -------
    torch.Tensor, shape=(ceil(n / 160), n_mels), float32
    """
    x = torch.as_tensor(np.asarray(audio, dtype=np.float32)) if not torch.is_tensor(audio) else audio.float()
    n_frames = max(1, math.ceil(x.shape[-1] / HOP))
    window = torch.hann_window(N_FFT)
    spec = torch.stft(x, N_FFT, hop_length=HOP, window=window, center=True, pad_mode="constant",
                      return_complex=True)
    power = spec.abs() ** 2
    mel = mel_filters(n_mels) @ power
    return torch.log(mel + LOG_EPS).T[:n_frames].contiguous()


def silence_frame(n_mels: int) -> torch.Tensor:
    """The log mel frame of digital silence (used to pad segments)."""
    return torch.full((n_mels,), math.log(LOG_EPS))


# ---- layers -----------------------------------------------------------------------------
class RMSNorm(nn.Module):
    """T5 layer norm: scale only, no mean subtraction, no bias."""

    def __init__(self, d: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def sinusoid(positions: torch.Tensor, d: int) -> torch.Tensor:
    """Fixed sinusoidal embeddings (``layers.FixedEmbed``: sin in the first half, cos in the second)."""
    half = d // 2
    scale = math.log(10000.0) / max(1, half - 1)
    freqs = torch.exp(-scale * torch.arange(half, dtype=torch.float32, device=positions.device))
    angles = positions.float().unsqueeze(-1) * freqs
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class Attention(nn.Module):
    def __init__(self, d: int, heads: int, dropout: float):
        super().__init__()
        self.h = heads
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.dropout = dropout

    def split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        return x.view(b, n, self.h, d // self.h).transpose(1, 2)

    def forward(self, x: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor], *, causal: bool = False,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        q = self.split(self.q(x))
        k, v = kv
        p = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=causal and mask is None)
        b, h, n, hd = out.shape
        return self.o(out.transpose(1, 2).reshape(b, n, h * hd))

    def keys_values(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.split(self.k(x)), self.split(self.v(x))


class FeedForward(nn.Module):
    """Gated GELU (T5.1.1 ``('gelu', 'linear')``)."""

    def __init__(self, d: int, d_ff: int, dropout: float):
        super().__init__()
        self.wi0 = nn.Linear(d, d_ff, bias=False)
        self.wi1 = nn.Linear(d, d_ff, bias=False)
        self.wo = nn.Linear(d_ff, d, bias=False)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.wo(self.drop(F.gelu(self.wi0(x), approximate="tanh") * self.wi1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, c: NetConfig):
        super().__init__()
        self.norm1, self.attn = RMSNorm(c.d_model), Attention(c.d_model, c.n_heads, c.dropout)
        self.norm2, self.ff = RMSNorm(c.d_model), FeedForward(c.d_model, c.d_ff, c.dropout)
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.drop(self.attn(h, self.attn.keys_values(h), mask=mask))
        return x + self.drop(self.ff(self.norm2(x)))


class DecoderLayer(nn.Module):
    def __init__(self, c: NetConfig):
        super().__init__()
        self.norm1, self.self_attn = RMSNorm(c.d_model), Attention(c.d_model, c.n_heads, c.dropout)
        self.norm2, self.cross_attn = RMSNorm(c.d_model), Attention(c.d_model, c.n_heads, c.dropout)
        self.norm3, self.ff = RMSNorm(c.d_model), FeedForward(c.d_model, c.d_ff, c.dropout)
        self.drop = nn.Dropout(c.dropout)

    def forward(self, y: torch.Tensor, memory_kv: tuple[torch.Tensor, torch.Tensor],
                memory_mask: torch.Tensor | None, cache: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        h = self.norm1(y)
        k, v = self.self_attn.keys_values(h)
        if cache is not None:  # incremental: one new position, attend to all cached ones
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
            y = y + self.self_attn(h, (k, v))
        else:
            y = y + self.drop(self.self_attn(h, (k, v), causal=True))
        y = y + self.drop(self.cross_attn(self.norm2(y), memory_kv, mask=memory_mask))
        return y + self.drop(self.ff(self.norm3(y)))


class Seq2SeqNet(nn.Module):
    """Spectrogram segments -> event tokens."""

    mel_mean: torch.Tensor  # buffers: per-bin standardisation of the log mel input
    mel_std: torch.Tensor

    def __init__(self, config: NetConfig, *, shift_ids: tuple[int, int], steps_per_frame: float):
        super().__init__()
        c = self.config = config
        self.shift_lo, self.shift_hi = shift_ids
        self.steps_per_frame = float(steps_per_frame)  # vocabulary steps per encoder position
        self.register_buffer("mel_mean", torch.zeros(c.n_mels))
        self.register_buffer("mel_std", torch.ones(c.n_mels))
        self.input_proj = nn.Linear(c.n_mels * c.frame_stack, c.d_model, bias=False)
        self.encoder = nn.ModuleList([EncoderLayer(c) for _ in range(c.encoder_layers)])
        self.encoder_norm = RMSNorm(c.d_model)
        self.embed = nn.Embedding(c.vocab_size, c.d_model)
        self.decoder = nn.ModuleList([DecoderLayer(c) for _ in range(c.decoder_layers)])
        self.decoder_norm = RMSNorm(c.d_model)
        self.logits = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.drop = nn.Dropout(c.dropout)
        nn.init.normal_(self.embed.weight, std=1.0)

    @property
    def decoder_layers(self) -> list[DecoderLayer]:
        """The decoder's layers with their type (``decoder`` holds them, under the state dict's names)."""
        return [cast(DecoderLayer, layer) for layer in self.decoder]

    # -- encoder ------------------------------------------------------------------------
    def encode(self, frames: torch.Tensor, frame_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """frames (B, T, n_mels) raw log mel -> (memory (B, T / stack, d), key mask or None)."""
        c = self.config
        x = (frames - self.mel_mean) / self.mel_std
        b, t, m = x.shape
        t2 = t // c.frame_stack
        x = x[:, :t2 * c.frame_stack].reshape(b, t2, m * c.frame_stack)
        x = self.input_proj(x) + sinusoid(torch.arange(t2, device=x.device), c.d_model)
        x = self.drop(x)
        mask = None
        if frame_mask is not None:
            keep = frame_mask[:, :t2 * c.frame_stack].reshape(b, t2, c.frame_stack).any(-1)
            mask = keep[:, None, None, :]
        for layer in self.encoder:
            x = layer(x, mask)
        return self.encoder_norm(x), mask

    # -- decoder ------------------------------------------------------------------------
    def current_time(self, tokens: torch.Tensor) -> torch.Tensor:
        """Latest shift value at or before each position (0 before the first)."""
        is_shift = (tokens >= self.shift_lo) & (tokens <= self.shift_hi)
        values = torch.where(is_shift, tokens - self.shift_lo, torch.full_like(tokens, -1))
        return torch.cummax(values, dim=-1).values.clamp(min=0)

    def embed_tokens(self, tokens: torch.Tensor, positions: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        c = self.config
        y = self.embed(tokens) + sinusoid(positions, c.d_model)
        if c.time_embedding:
            y = y + sinusoid(times / self.steps_per_frame, c.d_model)
        return y

    def forward(self, frames: torch.Tensor, decoder_input: torch.Tensor,
                frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher-forced logits (B, L, vocab)."""
        memory, mask = self.encode(frames, frame_mask)
        positions = torch.arange(decoder_input.shape[1], device=decoder_input.device)
        y = self.drop(self.embed_tokens(decoder_input, positions, self.current_time(decoder_input)))
        for layer in self.decoder_layers:
            y = layer(y, layer.cross_attn.keys_values(memory), mask)
        return self.logits(self.decoder_norm(y))


@torch.inference_mode()
def greedy_decode(net: Seq2SeqNet, memory: torch.Tensor, mask: torch.Tensor | None, *, max_tokens: int,
                  eos: int, start: int = 0) -> list[list[int]]:
    """Greedy decoding with a key/value cache; returns each sequence's tokens up to (excluding) EOS."""
    b = memory.shape[0]
    device = memory.device
    cross = [layer.cross_attn.keys_values(memory) for layer in net.decoder_layers]
    caches: list[dict[str, torch.Tensor]] = [{} for _ in net.decoder]
    token = torch.full((b,), start, dtype=torch.long, device=device)
    time = torch.zeros(b, dtype=torch.long, device=device)
    done = torch.zeros(b, dtype=torch.bool, device=device)
    out = torch.full((b, max_tokens), eos, dtype=torch.long, device=device)
    for i in range(max_tokens):
        is_shift = (token >= net.shift_lo) & (token <= net.shift_hi)
        time = torch.where(is_shift, torch.maximum(time, token - net.shift_lo), time)
        y = net.embed_tokens(token[:, None], torch.tensor([i], device=device), time[:, None])
        for layer, kv, cache in zip(net.decoder, cross, caches):
            y = layer(y, kv, mask, cache)
        logits = net.logits(net.decoder_norm(y))[:, 0]
        token = logits.argmax(-1)
        token = torch.where(done, torch.full_like(token, eos), token)
        out[:, i] = token
        done |= token == eos
        if bool(done.all()):
            break
    result = []
    for row in out.tolist():
        result.append(row[:row.index(eos)] if eos in row else row)
    return result
