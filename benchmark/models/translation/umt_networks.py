"""Networks of the Universal Music Translation Network (Mor, Wolf, Polyak and Taigman, ICLR 2019,
arXiv:1805.07848), in PyTorch.

* :class:`Encoder` -- the shared, non-causal encoder E (paper Sec. 3.1): a width-3 input
  convolution, ``blocks x layers`` residual layers (ReLU, non-causal dilated convolution of
  width 3 with dilation ``2^i``, ReLU, 1x1 convolution, residual sum), a 1x1 convolution to
  ``latent_channels`` and an average pooling over ``pool`` samples (the paper's 800 samples =
  50 ms at 16 kHz, 64 channels: 12.5x fewer numbers than samples).
* :class:`DomainClassifier` -- the domain-confusion network C (Sec. 3.1): 1x1 convolutions with
  ELU (three of 100 channels in the paper) on the latent, averaged over time into one logit per
  domain. It is trained on the latent through :func:`grad_reverse`, which multiplies the
  gradient reaching the encoder by ``-lambda``: one backward pass gives C its own loss and E
  the paper's ``- lambda * L(C(E(x)), j)`` term (Sec. 3.3).
* :class:`WaveNetDecoder` -- one autoregressive WaveNet D^j per domain (Sec. 3.1): causal
  dilated convolutions of width 2 with gated tanh/sigmoid units, residual and skip 1x1
  convolutions, the latent upsampled to the audio rate by nearest-neighbour repetition and added
  (through a 1x1 projection) to every layer and to the output stage; a softmax over 256 mu-law
  classes (8-bit mu-law, Sec. 3.1/3.3). The input sample enters as its companded value in
  [-1, 1] through a width-2 causal convolution.
* :class:`FastGenerator` -- the "fast WaveNet" queue method: each layer keeps a queue of its
  last ``dilation`` inputs, so one generated sample costs one evaluation of the layer stack
  (a handful of small matrix products per layer), not a receptive field. It generates a batch
  of independent streams (segments of one or many items) at once. :func:`naive_generate` is
  the step-by-step reference (the whole network re-run over the receptive field for every
  sample), used by the tests to show the two agree.

Shapes: audio classes ``(batch, time)`` int64 in 0-255; latents ``(batch, latent, frames)``;
logits ``(batch, 256, time)``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

N_CLASSES = 256
MU = 255


# ---- mu-law ---------------------------------------------------------------------------------
def mu_law_encode(audio: np.ndarray | torch.Tensor) -> Any:
    """Audio in [-1, 1] -> 8-bit mu-law classes 0-255 (values beyond +-1 are clipped)."""
    if isinstance(audio, torch.Tensor):
        x = audio.clamp(-1.0, 1.0)
        y = torch.sign(x) * torch.log1p(MU * x.abs()) / np.log1p(MU)
        return ((y + 1.0) / 2.0 * MU + 0.5).floor().long().clamp(0, MU)
    xn = np.clip(np.asarray(audio, dtype=np.float64), -1.0, 1.0)
    yn = np.sign(xn) * np.log1p(MU * np.abs(xn)) / np.log1p(MU)
    return np.clip(np.floor((yn + 1.0) / 2.0 * MU + 0.5), 0, MU).astype(np.int64)


def mu_law_decode(classes: np.ndarray | torch.Tensor) -> Any:
    """Mu-law classes 0-255 -> audio in [-1, 1] (float32)."""
    if isinstance(classes, torch.Tensor):
        y = companded(classes)
        return torch.sign(y) * ((1.0 + MU) ** y.abs() - 1.0) / MU
    yn = 2.0 * np.asarray(classes, dtype=np.float64) / MU - 1.0
    return (np.sign(yn) * ((1.0 + MU) ** np.abs(yn) - 1.0) / MU).astype(np.float32)


def companded(classes: torch.Tensor) -> torch.Tensor:
    """Mu-law classes -> their companded value in [-1, 1] (what the networks read)."""
    return classes.to(torch.get_default_dtype()) * (2.0 / MU) - 1.0  # float32 unless the default says otherwise


# ---- configuration ----------------------------------------------------------------------------
@dataclass
class UMTConfig:
    """Sizes of one UMT network (all recorded in the checkpoint).

    ``paper`` (:func:`paper_config`) uses the sizes of Mor et al. (Sec. 3.1; widths from the
    authors' code): 16 kHz, encoder 3 blocks x 10 layers of 128 channels, latent 64 channels
    pooled over 800 samples, decoders 4 blocks x 10 layers of 128 residual/skip channels
    (receptive field 4,094 samples, the paper's "4,093 samples, 250 ms"; the authors'
    MusicNet script uses 14 layers per block), classifier 3 x 100 channels, lambda 1e-2. ``tiny`` (:func:`tiny_config`) is what the 2-core
    CPU can train; see docs/translation.md ("umt").
    """

    sample_rate: int = 8000
    encoder_channels: int = 32
    encoder_blocks: int = 2
    encoder_layers: int = 8
    latent_channels: int = 32
    pool: int = 400
    decoder_blocks: int = 2
    decoder_layers: int = 8
    residual_channels: int = 32
    skip_channels: int = 64
    classifier_layers: int = 3
    classifier_channels: int = 64
    domains: list[str] = field(default_factory=lambda: ["piano", "violin", "flute", "strings"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UMTConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown UMT network setting(s) {', '.join(unknown)}")
        out = cls(**data)
        out.domains = list(out.domains)
        return out


def tiny_config(domains: list[str] | None = None) -> UMTConfig:
    cfg = UMTConfig()
    if domains is not None:
        cfg.domains = list(domains)
    return cfg


def paper_config(domains: list[str] | None = None) -> UMTConfig:
    cfg = UMTConfig(sample_rate=16000, encoder_channels=128, encoder_blocks=3, encoder_layers=10,
                    latent_channels=64, pool=800, decoder_blocks=4, decoder_layers=10, residual_channels=128,
                    skip_channels=128, classifier_layers=3, classifier_channels=100)
    if domains is not None:
        cfg.domains = list(domains)
    return cfg


SIZES = {"tiny": tiny_config, "paper": paper_config}


# ---- gradient reversal ------------------------------------------------------------------------
class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, scale: float) -> torch.Tensor:  # noqa: D401
        ctx.scale = float(scale)
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.scale * grad, None


def grad_reverse(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Identity in the forward pass; multiplies the gradient by ``-scale`` in the backward pass."""
    return _GradReverse.apply(x, scale)


# ---- encoder ----------------------------------------------------------------------------------
class _EncoderLayer(nn.Module):
    def __init__(self, channels: int, dilation: int):
        super().__init__()
        self.dilated = nn.Conv1d(channels, channels, kernel_size=3, padding=dilation, dilation=dilation)
        self.mix = nn.Conv1d(channels, channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mix(F.relu(self.dilated(F.relu(x))))


class Encoder(nn.Module):
    """Shared non-causal encoder: classes ``(B, T)`` -> latent ``(B, latent, T // pool)``."""

    def __init__(self, cfg: UMTConfig):
        super().__init__()
        self.pool = cfg.pool
        self.start = nn.Conv1d(1, cfg.encoder_channels, kernel_size=3, padding=1)
        self.layers = nn.Sequential(*[_EncoderLayer(cfg.encoder_channels, 2 ** i)
                                      for _ in range(cfg.encoder_blocks) for i in range(cfg.encoder_layers)])
        self.out = nn.Conv1d(cfg.encoder_channels, cfg.latent_channels, kernel_size=1)
        self.receptive_field = 3 + cfg.encoder_blocks * sum(2 * 2 ** i for i in range(cfg.encoder_layers))

    def forward(self, classes: torch.Tensor) -> torch.Tensor:
        x = companded(classes).unsqueeze(1)
        x = self.out(self.layers(self.start(x)))
        return F.avg_pool1d(x, self.pool)


class DomainClassifier(nn.Module):
    """Domain-confusion network: latent ``(B, latent, frames)`` -> logits ``(B, n_domains)``."""

    def __init__(self, cfg: UMTConfig):
        super().__init__()
        convs: list[nn.Module] = []
        for i in range(cfg.classifier_layers):
            convs += [nn.Conv1d(cfg.latent_channels if i == 0 else cfg.classifier_channels,
                                cfg.classifier_channels, kernel_size=1), nn.ELU()]
        convs.append(nn.Conv1d(cfg.classifier_channels if cfg.classifier_layers else cfg.latent_channels,
                               len(cfg.domains), kernel_size=1))
        self.net = nn.Sequential(*convs)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).mean(dim=2)


# ---- decoder ----------------------------------------------------------------------------------
class _DecoderLayer(nn.Module):
    def __init__(self, residual: int, skip: int, latent: int, dilation: int):
        super().__init__()
        self.dilation = dilation
        self.dilated = nn.Conv1d(residual, 2 * residual, kernel_size=2, dilation=dilation)
        self.cond = nn.Conv1d(latent, 2 * residual, kernel_size=1)
        self.res_skip = nn.Conv1d(residual, residual + skip, kernel_size=1)
        self.residual = residual

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.dilated(F.pad(x, (self.dilation, 0))) + self.cond(cond)
        a, b = h.chunk(2, dim=1)
        out = self.res_skip(torch.tanh(a) * torch.sigmoid(b))
        return x + out[:, :self.residual], out[:, self.residual:]


def upsample(z: torch.Tensor, pool: int, length: int) -> torch.Tensor:
    """Nearest-neighbour upsampling of latent frames to ``length`` samples (frame = ``t // pool``)."""
    up = z.repeat_interleave(pool, dim=2)
    if up.shape[2] < length:
        up = F.pad(up, (0, length - up.shape[2]), mode="replicate")
    return up[:, :, :length]


class WaveNetDecoder(nn.Module):
    """One domain's autoregressive WaveNet decoder, conditioned on the upsampled latent."""

    def __init__(self, cfg: UMTConfig):
        super().__init__()
        r, s, z = cfg.residual_channels, cfg.skip_channels, cfg.latent_channels
        self.pool = cfg.pool
        self.start = nn.Conv1d(1, r, kernel_size=2)
        self.layers = nn.ModuleList([_DecoderLayer(r, s, z, 2 ** i)
                                     for _ in range(cfg.decoder_blocks) for i in range(cfg.decoder_layers)])
        self.skip_start = nn.Conv1d(r, s, kernel_size=1)
        self.fc = nn.Conv1d(s, s, kernel_size=1)
        self.fc_cond = nn.Conv1d(z, s, kernel_size=1)
        self.logits = nn.Conv1d(s, N_CLASSES, kernel_size=1)
        #: how many past samples one output depends on
        self.receptive_field = 2 + sum(layer.dilation for layer in self.stack)

    @property
    def stack(self) -> list[_DecoderLayer]:
        """The residual layers with their type (``layers`` holds them, under the state dict's names)."""
        return [cast(_DecoderLayer, layer) for layer in self.layers]

    def forward(self, classes: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits: ``logits[:, :, t]`` predicts ``classes[:, t]`` from samples < t."""
        length = classes.shape[1]
        x = F.pad(companded(classes), (1, 0))[:, :-1].unsqueeze(1)  # shift right: input at t is sample t-1
        cond = upsample(z, self.pool, length)
        h = self.start(F.pad(x, (1, 0)))
        skip = self.skip_start(h)
        for layer in self.layers:
            h, s = layer(h, cond)
            skip = skip + s
        out = self.fc(F.relu(skip)) + self.fc_cond(cond)
        return self.logits(F.relu(out))


class UMT(nn.Module):
    """Encoder, domain classifier and one decoder per domain."""

    def __init__(self, cfg: UMTConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.classifier = DomainClassifier(cfg)
        self.decoders = nn.ModuleList([WaveNetDecoder(cfg) for _ in cfg.domains])

    def domain_index(self, name: str) -> int:
        return self.cfg.domains.index(name)


# ---- generation ---------------------------------------------------------------------------------
def _sample(logits: torch.Tensor, uniform: torch.Tensor, temperature: float) -> torch.Tensor:
    """Draw classes from softmax(logits / T) by inverting the CDF at ``uniform`` (B,); T = 0: argmax."""
    if temperature <= 0:
        return logits.argmax(dim=1)
    probs = torch.softmax(logits / temperature, dim=1)
    cdf = probs.cumsum(dim=1)
    idx = torch.searchsorted(cdf, (uniform * cdf[:, -1]).unsqueeze(1)).squeeze(1)
    return idx.clamp(0, N_CLASSES - 1)


def _bias(conv: nn.Conv1d) -> torch.Tensor:
    """The bias of a convolution (every one here has one)."""
    if conv.bias is None:
        raise ValueError(f"{conv}: a convolution without bias")
    return conv.bias


class FastGenerator:
    """Queue-based ("fast WaveNet") generation with one decoder, for a batch of streams.

    Every layer's width-2 dilated convolution needs its input from ``dilation`` steps ago:
    a ring buffer of the last ``dilation`` inputs per layer supplies it, so a step is one pass
    through the stack. The latent's contribution to every layer (and to the output stage) is
    projected once per latent frame before the loop.
    """

    def __init__(self, decoder: WaveNetDecoder):
        self.dec = decoder
        self.r = decoder.start.out_channels
        w = decoder.start.weight  # (r, 1, 2): taps [t-1, t] over the shifted input
        self.start_w = w[:, 0, :].t().contiguous()  # (2, r)
        self.start_b = _bias(decoder.start)
        #: per layer: dilation, stacked taps, their bias, residual/skip 1x1 weight and bias
        self.layers: list[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]] = []
        for layer in decoder.stack:
            wd = layer.dilated.weight  # (2r, r, 2): tap 0 = x[t - d], tap 1 = x[t]
            w_cat = torch.cat([wd[:, :, 0], wd[:, :, 1]], dim=1).t().contiguous()  # (2r, 2r)
            self.layers.append((layer.dilation, w_cat, _bias(layer.dilated),
                                layer.res_skip.weight[:, :, 0].t().contiguous(), _bias(layer.res_skip)))
        self.skip_w = decoder.skip_start.weight[:, :, 0].t().contiguous()
        self.skip_b = _bias(decoder.skip_start)
        self.fc_w = decoder.fc.weight[:, :, 0].t().contiguous()
        self.fc_b = _bias(decoder.fc)
        self.out_w = decoder.logits.weight[:, :, 0].t().contiguous()
        self.out_b = _bias(decoder.logits)
        cond_w = [layer.cond.weight[:, :, 0] for layer in decoder.stack] + [decoder.fc_cond.weight[:, :, 0]]
        cond_b = [_bias(layer.cond) for layer in decoder.stack] + [_bias(decoder.fc_cond)]
        self.cond_w = torch.cat(cond_w, dim=0).t().contiguous()  # (latent, L * 2r + s)
        self.cond_b = torch.cat(cond_b, dim=0)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, n_samples: int, *, uniform: torch.Tensor | None = None,
                 temperature: float = 1.0, generator: torch.Generator | None = None,
                 return_logits: bool = False) -> Any:
        """Generate ``n_samples`` classes per stream, conditioned on ``z`` ``(B, latent, frames)``.

        ``uniform`` ``(B, n_samples)`` fixes the random draws (else drawn from ``generator``).
        Returns classes ``(B, n_samples)`` (and the logits ``(B, 256, n_samples)`` if asked).
        """
        dec = self.dec
        batch = z.shape[0]
        device = z.device
        pool = dec.pool
        if uniform is None:
            uniform = torch.rand(batch, n_samples, generator=generator, device="cpu").to(device)
        cond = torch.einsum("bzf,zc->bfc", z, self.cond_w) + self.cond_b  # (B, frames, L*2r + s)
        n_frames = cond.shape[1]
        r2 = 2 * self.r
        queues = [torch.zeros(batch, d, self.r, device=device) for d, *_ in self.layers]
        prev_in = torch.zeros(batch, 1, device=device)  # x at step t-2 (the shifted input's t-1)
        cur_in = torch.zeros(batch, 1, device=device)   # sample t-1 (silence = companded 0)
        out = torch.empty(batch, n_samples, dtype=torch.long, device=device)
        logits_all = torch.empty(batch, N_CLASSES, n_samples, device=device) if return_logits else None
        for t in range(n_samples):
            c = cond[:, min(t // pool, n_frames - 1)]
            h = torch.addmm(self.start_b, torch.cat([prev_in, cur_in], dim=1), self.start_w)
            skip = torch.addmm(self.skip_b, h, self.skip_w)
            pos = t
            for k, (d, w_cat, b, w_rs, b_rs) in enumerate(self.layers):
                q = queues[k]
                slot = pos % d
                past = q[:, slot]
                g = torch.addmm(b, torch.cat([past, h], dim=1), w_cat) + c[:, k * r2:(k + 1) * r2]
                q[:, slot] = h
                a, s = g.chunk(2, dim=1)
                rs = torch.addmm(b_rs, torch.tanh(a) * torch.sigmoid(s), w_rs)
                h = h + rs[:, :self.r]
                skip = skip + rs[:, self.r:]
            o = torch.addmm(self.fc_b, F.relu(skip), self.fc_w) + c[:, len(self.layers) * r2:]
            logits = torch.addmm(self.out_b, F.relu(o), self.out_w)
            if logits_all is not None:
                logits_all[:, :, t] = logits
            cls = _sample(logits, uniform[:, t], temperature)
            out[:, t] = cls
            prev_in = cur_in
            cur_in = companded(cls).unsqueeze(1)
        return (out, logits_all) if return_logits else out


@torch.no_grad()
def naive_generate(decoder: WaveNetDecoder, z: torch.Tensor, n_samples: int, *, uniform: torch.Tensor,
                   temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Step-by-step reference generation: for every sample, the teacher-forced network
    (:meth:`WaveNetDecoder.forward`) is re-run over everything generated so far and its last
    logits are sampled. Quadratic in length; for tests.

    Returns classes ``(B, n_samples)`` and logits ``(B, 256, n_samples)``.
    """
    batch = z.shape[0]
    classes = torch.zeros(batch, n_samples, dtype=torch.long)
    logits_all = torch.empty(batch, N_CLASSES, n_samples)
    for t in range(n_samples):
        # classes[:, t] is still a placeholder: the shift keeps it out of logits[:, :, t]
        logits = decoder(classes[:, :t + 1], z)[:, :, t]
        logits_all[:, :, t] = logits
        classes[:, t] = _sample(logits, uniform[:, t], temperature)
    return classes, logits_all
