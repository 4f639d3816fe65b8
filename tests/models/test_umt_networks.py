"""UMT networks: shapes, receptive fields, gradient reversal, fast = naive generation, overfitting."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from musebench.models.translation import umt_networks as un  # noqa: E402


def small(**kw) -> un.UMTConfig:
    base = dict(sample_rate=8000, encoder_channels=8, encoder_blocks=1, encoder_layers=3, latent_channels=4, pool=16,
                decoder_blocks=2, decoder_layers=3, residual_channels=8, skip_channels=12, classifier_layers=2,
                classifier_channels=6, domains=["a", "b", "c"])
    base.update(kw)
    return un.UMTConfig(**base)


@pytest.fixture(autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_mu_law_round_trip_and_silence():
    x = np.linspace(-1, 1, 1001)
    c = un.mu_law_encode(x)
    assert c.min() == 0 and c.max() == 255 and c.dtype == np.int64
    assert int(un.mu_law_encode(np.zeros(1))[0]) == 128
    y = un.mu_law_decode(c)
    # 8-bit mu-law: the error is below half a quantisation step, at most ~0.035 near full scale
    assert np.max(np.abs(y - x)) < 0.04
    assert np.max(np.abs(y[np.abs(x) < 0.01] - x[np.abs(x) < 0.01])) < 0.001
    t = un.mu_law_encode(torch.from_numpy(x))
    assert torch.equal(t, torch.from_numpy(c))
    assert np.allclose(un.mu_law_decode(t).numpy(), y, atol=1e-6)


def test_shapes():
    cfg = small()
    net = un.UMT(cfg)
    x = torch.randint(0, 256, (5, 160))
    z = net.encoder(x)
    assert z.shape == (5, 4, 10)
    assert net.classifier(z).shape == (5, 3)
    assert net.decoders[1](x, z).shape == (5, 256, 160)
    assert len(net.decoders) == 3


def test_tiny_and_paper_sizes():
    tiny, paper = un.tiny_config(), un.paper_config()
    assert (paper.sample_rate, paper.pool, paper.latent_channels) == (16000, 800, 64)
    assert (paper.encoder_blocks, paper.encoder_layers, paper.decoder_blocks, paper.decoder_layers) == (3, 10, 4, 10)
    assert un.WaveNetDecoder(paper).receptive_field == 4094  # the paper: 4,093 samples (250 ms)
    assert paper.classifier_channels == 100 and paper.classifier_layers == 3
    # the tiny encoder keeps the paper's latent rate: 20 frames per second
    assert tiny.sample_rate / tiny.pool == paper.sample_rate / paper.pool == 20
    dec = un.WaveNetDecoder(tiny)
    assert dec.receptive_field == 2 + 2 * 255 == 512  # 64 ms at 8 kHz
    assert un.Encoder(tiny).receptive_field == 3 + 2 * 2 * 255


def test_decoder_receptive_field_and_causality():
    cfg = small()
    dec = un.WaveNetDecoder(cfg)
    rf = dec.receptive_field
    assert rf == 2 + 2 * (1 + 2 + 4)
    n, t = 64, 50
    x = torch.randint(0, 256, (1, n))
    z = torch.randn(1, cfg.latent_channels, n // cfg.pool)
    inp = un.companded(x).requires_grad_(True)
    # differentiate logits[t] with respect to the (float) input samples through the same path
    shifted = torch.nn.functional.pad(inp, (1, 0))[:, :-1].unsqueeze(1)
    cond = un.upsample(z, cfg.pool, n)
    h = dec.start(torch.nn.functional.pad(shifted, (1, 0)))
    skip = dec.skip_start(h)
    for layer in dec.layers:
        h, s = layer(h, cond)
        skip = skip + s
    out = dec.logits(torch.relu(dec.fc(torch.relu(skip)) + dec.fc_cond(cond)))
    out[0, :, t].sum().backward()
    nonzero = np.nonzero(inp.grad[0].numpy())[0]
    assert nonzero.min() == t - rf and nonzero.max() == t - 1  # samples t-rf .. t-1, never t or later


def test_encoder_is_non_causal_with_its_receptive_field():
    cfg = small(pool=1)
    enc = un.Encoder(cfg)
    x = un.companded(torch.randint(0, 256, (1, 80))).requires_grad_(True)
    h = enc.out(enc.layers(enc.start(x.unsqueeze(1))))
    h[0, :, 40].sum().backward()
    nonzero = np.nonzero(x.grad[0].numpy())[0]
    half = (enc.receptive_field - 1) // 2
    assert nonzero.min() == 40 - half and nonzero.max() == 40 + half


def test_gradient_reversal_flips_the_sign():
    x = torch.randn(4, 3, requires_grad=True)
    w = torch.randn(4, 3)
    (un.grad_reverse(x, 0.25) * w).sum().backward()
    assert torch.allclose(x.grad, -0.25 * w)
    y = torch.randn(4, 3)
    assert torch.equal(un.grad_reverse(y, 3.0), y)
    # the classifier gets its own gradient, the encoder the reversed one
    cfg = small()
    net = un.UMT(cfg)
    cls = torch.tensor([0, 1])
    x = torch.randint(0, 256, (2, 64))
    loss_plain = torch.nn.functional.cross_entropy(net.classifier(net.encoder(x)), cls)
    g_plain = torch.autograd.grad(loss_plain, [net.encoder.out.weight, net.classifier.net[0].weight])
    loss_rev = torch.nn.functional.cross_entropy(net.classifier(un.grad_reverse(net.encoder(x), 0.01)), cls)
    g_rev = torch.autograd.grad(loss_rev, [net.encoder.out.weight, net.classifier.net[0].weight])
    assert torch.allclose(g_rev[0], -0.01 * g_plain[0], atol=1e-9)
    assert torch.allclose(g_rev[1], g_plain[1])


@pytest.mark.parametrize("temperature", [1.0, 0.0])
def test_fast_generation_equals_naive(temperature):
    torch.manual_seed(3)
    cfg = small()
    dec = un.WaveNetDecoder(cfg).eval()
    batch, n = 3, 70  # longer than the receptive field (16)
    z = torch.randn(batch, cfg.latent_channels, -(-n // cfg.pool))
    u = torch.rand(batch, n, generator=torch.Generator().manual_seed(5))
    fast, fast_logits = un.FastGenerator(dec).generate(z, n, uniform=u, temperature=temperature, return_logits=True)
    slow, slow_logits = un.naive_generate(dec, z, n, uniform=u, temperature=temperature)
    assert torch.equal(fast, slow)
    assert float((fast_logits - slow_logits).abs().max()) < 1e-5
    assert len(set(fast[0].tolist())) > 3  # it really generated something


def test_sampling_inverts_the_cdf():
    logits = torch.log(torch.tensor([[0.25, 0.25, 0.5] + [1e-12] * 253]))
    u = torch.tensor([0.1])
    assert un._sample(logits, u, 1.0).item() == 0
    assert un._sample(logits, torch.tensor([0.3]), 1.0).item() == 1
    assert un._sample(logits, torch.tensor([0.9]), 1.0).item() == 2
    assert un._sample(logits, torch.tensor([0.1]), 0.0).item() == 2


def test_tiny_model_overfits_one_clip_in_seconds():
    torch.manual_seed(0)
    cfg = small(domains=["a", "b"])
    net = un.UMT(cfg)
    t = np.arange(320) / 8000
    clip = torch.from_numpy(un.mu_law_encode(0.6 * np.sin(2 * np.pi * 440 * t)))[None]
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    first = None
    for _ in range(300):
        loss = torch.nn.functional.cross_entropy(net.decoders[0](clip, net.encoder(clip)), clip)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert first > 5.0  # about log(256) = 5.55 at the start
    assert loss.item() < 0.8  # measured 0.69 after 300 steps (about 5 s on one core)
