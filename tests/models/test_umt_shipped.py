"""The shipped umt-tiny checkpoint translates one test piece to its committed timbre correlation.

The expected values live in ``tests/data/umt/shipped_expected.json`` with the sha256 of the
checkpoint they were computed with; regenerate them after shipping a new checkpoint with::

    python tests/models/test_umt_shipped.py --write

Generation samples 8-bit classes from the decoder's softmax, one sample after another: a
difference in the last bit of one logit (another CPU's matrix kernels) can flip one sample and
change everything after it, so the 1e-6 comparison holds on machines whose float32 matrix
products agree bit for bit with the one that wrote the file (recorded in the file).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

EXPECTED = Path(__file__).resolve().parents[1] / "data" / "umt" / "shipped_expected.json"
ITEM = ("test", 0)  # synth-pairs piano-test-000, piano -> violin
SEED = 0


def _compute() -> dict:
    import io
    import platform

    import soundfile as sf
    import torch

    from musebench.audio import resample
    from musebench.datasets import synth_pairs
    from musebench.metrics.translation import evaluate
    from musebench.models.base import Context
    from musebench.models.translation.umt import UMTTranslator
    from musebench.types import Item

    split, index = ITEM
    files = synth_pairs.build_files(split, index)
    iid = f"piano-{split}-{index:03d}"

    def read(program: int) -> np.ndarray:
        audio, _ = sf.read(io.BytesIO(files[f"program-{program:03d}/{split}/{iid}.wav"]), dtype="float32")
        return audio

    source, reference = read(0), read(40)
    model = UMTTranslator(device="cpu")
    model.load()
    item = Item(id=iid, dataset="synth-pairs", audio_path=None, files={},
                metadata={"source_domain": "piano", "target_domain": "violin", "unseen_source": False})
    out, sr = model.translate(resample(source, 16000, model.sample_rate), sample_rate=model.sample_rate,
                              target_domain="violin", context=Context(item=item, seed=SEED))
    scores = evaluate(source, resample(out, sr, 16000), reference, sample_rate=16000)
    return {"checkpoint_sha256": model.weights_sha256(), "item": iid, "seed": SEED, "target_domain": "violin",
            "timbre_correlation": float(scores["timbre_correlation"]),
            "timbre_correlation_dtw": float(scores["timbre_correlation_dtw"]),
            "content_correlation": float(scores["content_correlation"]),
            "output_sha256_int16": __import__("hashlib").sha256(
                (np.clip(out, -1, 1) * 32767).astype(np.int16).tobytes()).hexdigest(),
            "written_on": {"torch": torch.__version__, "machine": platform.machine(),
                           "processor": platform.processor() or None}}


def test_shipped_checkpoint_translates_to_the_committed_timbre_correlation():
    pytest.importorskip("torch")
    expected = json.loads(EXPECTED.read_text())
    from musebench.models.translation.umt import UMTTranslator

    model = UMTTranslator(device="cpu")
    assert model.weights_sha256() == expected["checkpoint_sha256"], "shipped checkpoint changed: rerun --write"
    assert model.domains == ("piano", "violin", "flute", "strings")
    got = _compute()
    assert got["timbre_correlation"] == pytest.approx(expected["timbre_correlation"], abs=1e-6)
    assert got["timbre_correlation_dtw"] == pytest.approx(expected["timbre_correlation_dtw"], abs=1e-6)
    assert got["content_correlation"] == pytest.approx(expected["content_correlation"], abs=1e-6)


if __name__ == "__main__":
    if "--write" not in sys.argv:
        sys.exit("usage: python tests/models/test_umt_shipped.py --write")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    result = _compute()
    EXPECTED.parent.mkdir(parents=True, exist_ok=True)
    EXPECTED.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(json.dumps(result, indent=1, sort_keys=True))
