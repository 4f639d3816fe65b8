"""The shipped seq2seq checkpoints load and transcribe one synth test item each to the
committed scores (tests/data/seq2seq/shipped.json, written by scripts/generate_seq2seq_expected.py)."""
from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import pytest

EXPECTED = Path(__file__).resolve().parents[1] / "data" / "seq2seq" / "shipped.json"
CASES = {"seq2seq-piano": ("piano", "test", 0), "mt3": ("ensemble", "test", 0)}
SCORES = ("onset_f1", "onset_offset_f1", "onset_velocity_f1", "frame_f1", "multi_instrument_f1", "drum_onset_f1")


def transcribe_case(name: str, variant: str, split: str, index: int) -> dict:
    """Build the synth item in memory, transcribe it on the CPU with the shipped checkpoint, score it."""
    import soundfile as sf
    import torch

    from musebench.datasets import synth
    from musebench.io_utils import sha256_file
    from musebench.metrics.transcription import evaluate
    from musebench.models import get_model_class

    built = synth.build_item(variant, split, index)
    audio, sr = sf.read(io.BytesIO(built.wav), dtype="float32")
    ref = synth.notes_from_midi_bytes(built.midi)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = get_model_class(name)(device="cpu")
        model.load()
        est = model.transcribe(audio, sample_rate=sr, context=None)
    finally:
        torch.set_num_threads(before)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = evaluate(ref, est)
    return {"item": built.id, "weights_sha256": sha256_file(model.weights_files()[0]), "n_est": len(est),
            "scores": {k: float(scores[k]) for k in SCORES if k in scores}}


@pytest.mark.parametrize("name", sorted(CASES))
def test_shipped_checkpoint_transcribes_to_the_committed_scores(name):
    from musebench.io_utils import sha256_file
    from musebench.models import get_model_class

    expected = json.loads(EXPECTED.read_text())[name]
    weights = get_model_class(name)(device="cpu").weights_files()[0]
    assert sha256_file(weights) == expected["weights_sha256"], \
        f"{weights} changed: rerun scripts/generate_seq2seq_expected.py"
    got = transcribe_case(name, *CASES[name])
    assert got["item"] == expected["item"] and got["n_est"] == expected["n_est"]
    assert sorted(got["scores"]) == sorted(expected["scores"])
    for k, v in expected["scores"].items():
        assert got["scores"][k] == pytest.approx(v, abs=1e-6), k
    assert expected["scores"]["onset_f1"] > 0.1  # a trained model, not noise
