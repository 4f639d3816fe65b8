"""The ``umt`` translation model: registry, domain errors, segments, determinism, checkpoints."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from musebench.errors import ConfigError  # noqa: E402
from musebench.models.base import Context  # noqa: E402
from musebench.models.translation import umt_networks as un  # noqa: E402
from musebench.types import Item  # noqa: E402


def _checkpoint(tmp_path, domains=("piano", "violin")):
    from musebench.models.translation.umt import CHECKPOINT

    torch.manual_seed(0)
    cfg = un.UMTConfig(sample_rate=8000, encoder_channels=4, encoder_blocks=1, encoder_layers=2, latent_channels=4,
                       pool=40, decoder_blocks=1, decoder_layers=3, residual_channels=6, skip_channels=6,
                       classifier_layers=1, classifier_channels=4, domains=list(domains))
    net = un.UMT(cfg)
    path = tmp_path / "umt-test"
    CHECKPOINT.save(path, arrays=net.state_dict(), config={"model": "umt", "size": "test", "network": cfg.to_dict(),
                                                          "domains": list(domains)})
    return path


def _item(source="piano", unseen=False, iid="x-000"):
    return Item(id=iid, dataset="synth-pairs", audio_path=None, files={},
                metadata={"source_domain": source, "unseen_source": unseen})


def _audio(seconds=0.37, sr=8000):
    t = np.arange(int(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_registered_with_declared_parameters():
    from musebench.models import get_model_class
    from musebench.models.translation import BUILTIN

    assert BUILTIN["umt"] == "musebench.models.translation.umt:UMTTranslator"
    cls = get_model_class("umt", family="translation")
    spec = cls.parameters()
    assert {"checkpoint", "temperature", "segment_seconds", "warmup_seconds", "allow_unseen_source"} <= set(spec)
    assert spec["temperature"].default == 1.0 and "temperature" in spec["temperature"].help.lower()


def test_unknown_target_and_undeclared_unseen_source_are_one_line_errors(tmp_path):
    from musebench.models.translation.umt import UMTTranslator

    m = UMTTranslator(checkpoint=str(_checkpoint(tmp_path)), device="cpu")
    assert m.domains == ("piano", "violin") and m.sample_rate == 8000
    with pytest.raises(ConfigError, match=r"no decoder for target domain 'flute' \(it has: piano, violin\)") as e:
        m.translate(_audio(), sample_rate=8000, target_domain="flute", context=Context(item=_item(), seed=0))
    assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match=r"source domain 'clarinet' of item x-000 is not one .*it has: piano, violin"):
        m.translate(_audio(), sample_rate=8000, target_domain="violin", context=Context(item=_item("clarinet"), seed=0))
    # declared unseen (synth-pairs' clarinet pair), or allowed by parameter: translated
    out, sr = m.translate(_audio(), sample_rate=8000, target_domain="violin",
                          context=Context(item=_item("clarinet", unseen=True), seed=0))
    assert sr == 8000 and out.shape == (len(_audio()),)
    m2 = UMTTranslator(checkpoint=str(_checkpoint(tmp_path)), device="cpu", allow_unseen_source=True)
    m2.translate(_audio(), sample_rate=8000, target_domain="piano", context=Context(item=_item("clarinet"), seed=0))


def test_output_is_seeded_and_independent_of_batching(tmp_path):
    from musebench.models.translation.umt import UMTTranslator

    m = UMTTranslator(checkpoint=str(_checkpoint(tmp_path)), device="cpu", segment_seconds=0.1,
                      warmup_seconds=0.02, crossfade_seconds=0.005)
    a, b = _audio(0.37), _audio(0.21)[::-1].copy()
    ca, cb = Context(item=_item(iid="a"), seed=11), Context(item=_item(iid="b"), seed=12)
    one_a, _ = m.translate(a, sample_rate=8000, target_domain="violin", context=ca)
    one_b, _ = m.translate(b, sample_rate=8000, target_domain="piano", context=cb)
    both = m.translate_batch([a, b], sample_rate=8000, target_domains=["violin", "piano"], contexts=[ca, cb])
    assert np.array_equal(both[0][0], one_a) and np.array_equal(both[1][0], one_b)
    again, _ = m.translate(a, sample_rate=8000, target_domain="violin", context=ca)
    assert np.array_equal(again, one_a)
    other, _ = m.translate(a, sample_rate=8000, target_domain="violin", context=Context(item=_item(), seed=99))
    assert not np.array_equal(other, one_a)
    assert one_a.dtype == np.float32 and np.isfinite(one_a).all() and np.abs(one_a).max() <= 1.0
    # input at another rate is resampled to the network's; the output stays at the network's rate
    out16, sr = m.translate(np.repeat(a, 2), sample_rate=16000, target_domain="violin", context=ca)
    assert sr == 8000 and abs(len(out16) - len(a)) <= 1


def test_segment_plan_covers_the_item_with_warmup(tmp_path):
    from musebench.models.translation.umt import UMTTranslator

    m = UMTTranslator(checkpoint=str(_checkpoint(tmp_path)), device="cpu", segment_seconds=0.1, warmup_seconds=0.02,
                      crossfade_seconds=0.005)
    m.load()
    seg, warm, fade, spans = m._plan(2961)
    assert (seg, warm, fade) == (800, 160, 40)
    assert spans == [(0, 800), (640, 1600), (1440, 2400), (2240, 3000)]  # padded to whole latent frames (40)
    with pytest.raises(ConfigError, match="crossfade_seconds"):
        UMTTranslator(checkpoint=str(_checkpoint(tmp_path)), warmup_seconds=0.01, crossfade_seconds=0.02)


def test_checkpoint_sha256_is_recorded(tmp_path):
    from musebench.io_utils import sha256_file
    from musebench.models.translation.umt import UMTTranslator

    path = _checkpoint(tmp_path)
    m = UMTTranslator(checkpoint=str(path), device="cpu")
    assert m.weights_sha256() == sha256_file(path.with_name("umt-test.npz"))
    info = m.info()
    assert info["params"] == {"checkpoint": str(path)} and info["checkpoint"]["domains"] == ["piano", "violin"]
    with pytest.raises(Exception, match="UMT checkpoint file not found"):
        UMTTranslator(checkpoint=str(tmp_path / "nope"))
