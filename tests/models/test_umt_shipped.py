"""The shipped umt-tiny checkpoint translates one test piece to its committed timbre correlation.

The expected values live in ``tests/data/umt/shipped_expected.json`` with the sha256 of the
checkpoint they were computed with (:func:`musebench.models.shipped.umt_case`); regenerate them
after shipping a new checkpoint with ``python scripts/generate_umt_expected.py``.

Generation samples 8-bit classes from the decoder's softmax, one sample after another, so a
last-bit difference in one logit can flip a sample and change everything after it. In float32
that happens between CPUs (another CPU's matrix kernels); the case therefore runs in float64,
where the same translation came out bit-identical with ATen's default and AVX2 kernels
(``ATEN_CPU_CAPABILITY``).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

EXPECTED = Path(__file__).resolve().parents[1] / "data" / "umt" / "shipped_expected.json"


def test_shipped_checkpoint_translates_to_the_committed_timbre_correlation():
    pytest.importorskip("torch")
    from musebench.models.shipped import umt_case
    from musebench.models.translation.umt import UMTTranslator

    expected = json.loads(EXPECTED.read_text())
    model = UMTTranslator(device="cpu")
    assert model.weights_sha256() == expected["checkpoint_sha256"], \
        "shipped checkpoint changed: rerun scripts/generate_umt_expected.py"
    assert model.domains == ("piano", "violin", "flute", "strings")
    got = umt_case()
    assert got["timbre_correlation"] == pytest.approx(expected["timbre_correlation"], abs=1e-6)
    assert got["timbre_correlation_dtw"] == pytest.approx(expected["timbre_correlation_dtw"], abs=1e-6)
    assert got["content_correlation"] == pytest.approx(expected["content_correlation"], abs=1e-6)
