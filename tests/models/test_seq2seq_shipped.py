"""The shipped seq2seq checkpoints load and transcribe one synth test item each to the
committed scores (tests/data/seq2seq/shipped.json, written by scripts/generate_seq2seq_expected.py
with :func:`musebench.models.shipped.seq2seq_case`)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from musebench.models.shipped import SEQ2SEQ_CASES, seq2seq_case

EXPECTED = Path(__file__).resolve().parents[1] / "data" / "seq2seq" / "shipped.json"


@pytest.mark.parametrize("name", sorted(SEQ2SEQ_CASES))
def test_shipped_checkpoint_transcribes_to_the_committed_scores(name):
    from musebench.io_utils import sha256_file
    from musebench.models import get_model_class

    expected = json.loads(EXPECTED.read_text())[name]
    weights = get_model_class(name)(device="cpu").weights_files()[0]
    assert sha256_file(weights) == expected["weights_sha256"], \
        f"{weights} changed: rerun scripts/generate_seq2seq_expected.py"
    got = seq2seq_case(name)
    assert got["item"] == expected["item"] and got["n_est"] == expected["n_est"]
    assert sorted(got["scores"]) == sorted(expected["scores"])
    for k, v in expected["scores"].items():
        assert got["scores"][k] == pytest.approx(v, abs=1e-6), k
    assert expected["scores"]["onset_f1"] > 0.1  # a trained model, not noise
