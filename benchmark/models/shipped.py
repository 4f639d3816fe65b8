"""What the shipped seq2seq and UMT checkpoints give on one fixed item each.

The values are committed in ``tests/data/seq2seq/shipped.json`` and
``tests/data/umt/shipped_expected.json`` (each with the sha256 of the checkpoint it was
computed with); ``tests/models/test_seq2seq_shipped.py`` and ``test_umt_shipped.py`` recompute
them with these functions and compare to 1e-6, and ``scripts/generate_seq2seq_expected.py`` and
``scripts/generate_umt_expected.py`` rewrite the files after a checkpoint is replaced.

Everything runs on the CPU with one torch thread. UMT generation samples 8-bit classes one
after another, so a difference in the last bit of one logit (another CPU's matrix kernels) can
flip a sample and change everything after it: its file records the machine that wrote it.
"""
from __future__ import annotations

import hashlib
import io
import platform
import warnings
from typing import Any, cast

import numpy as np

#: seq2seq model -> (synth variant, split, index) of the item it transcribes
SEQ2SEQ_CASES: dict[str, tuple[str, str, int]] = {"seq2seq-piano": ("piano", "test", 0),
                                                  "mt3": ("ensemble", "test", 0)}
SEQ2SEQ_SCORES = ("onset_f1", "onset_offset_f1", "onset_velocity_f1", "frame_f1", "multi_instrument_f1",
                  "drum_onset_f1")
#: the synth-pairs item the UMT translates (piano-test-000, piano -> violin) and the seed of its sampling
UMT_ITEM = ("test", 0)
UMT_SEED = 0


def seq2seq_case(name: str) -> dict[str, Any]:
    """Build the synth item of ``name`` in memory, transcribe it with the shipped checkpoint, score it.

    Returns
    -------
    dict
        ``item``, ``weights_sha256``, ``n_est`` (notes transcribed) and ``scores``
        (:data:`SEQ2SEQ_SCORES` that :func:`musebench.metrics.transcription.evaluate` gives).
    """
    import soundfile as sf

    from ..datasets import synth
    from ..io_utils import sha256_file
    from ..metrics.transcription import evaluate
    from ..types import Item
    from . import get_model_class
    from .base import Context, TranscriptionModel
    from .torch_utils import torch_threads

    variant, split, index = SEQ2SEQ_CASES[name]
    built = synth.build_item(variant, split, index)
    audio, sr = sf.read(io.BytesIO(built.wav), dtype="float32")
    ref = synth.notes_from_midi_bytes(built.midi)
    with torch_threads(1):
        model = cast(TranscriptionModel, get_model_class(name)(device="cpu"))
        model.load()
        item = Item(id=built.id, dataset="synth", audio_path=None, files={}, metadata={"variant": variant})
        est = model.transcribe(audio, sample_rate=sr, context=Context(item=item, seed=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = evaluate(ref, est)
    return {"item": built.id, "weights_sha256": sha256_file(model.weights_files()[0]), "n_est": len(est),
            "scores": {k: float(scores[k]) for k in SEQ2SEQ_SCORES if k in scores}}


def umt_case() -> dict[str, Any]:
    """Translate the :data:`UMT_ITEM` piano rendering to violin with the shipped ``umt-tiny``, score it.

    Returns
    -------
    dict
        ``checkpoint_sha256``, the item, seed and target, the timbre and content correlations
        (:func:`musebench.metrics.translation.evaluate` against the violin rendering), the
        sha256 of the output as 16-bit PCM, and ``written_on`` (torch version and machine).
    """
    import soundfile as sf
    import torch

    from ..audio import resample
    from ..datasets import synth_pairs
    from ..metrics.translation import evaluate
    from ..types import Item
    from .base import Context
    from .translation.umt import UMTTranslator

    split, index = UMT_ITEM
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
    # In float64: generation samples one class after another, so a last-bit difference in one
    # float32 logit (another CPU's matrix kernels) can flip a sample and change all that follows.
    # Float64 logits differ between CPUs by ~1e-16, far below any gap a sample decision sees.
    model._net = model._net.double()
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # the generator's queues and uniforms
    try:
        out, sr = model.translate(resample(source, 16000, model.sample_rate), sample_rate=model.sample_rate,
                                  target_domain="violin", context=Context(item=item, seed=UMT_SEED))
    finally:
        torch.set_default_dtype(default)
    scores = evaluate(source, resample(out, sr, 16000), reference, sample_rate=16000)
    pcm = (np.clip(out, -1, 1) * 32767).astype(np.int16).tobytes()
    return {"checkpoint_sha256": model.weights_sha256(), "item": iid, "seed": UMT_SEED, "target_domain": "violin",
            "timbre_correlation": float(scores["timbre_correlation"]),
            "timbre_correlation_dtw": float(scores["timbre_correlation_dtw"]),
            "content_correlation": float(scores["content_correlation"]),
            "output_sha256_int16": hashlib.sha256(pcm).hexdigest(),
            "written_on": {"torch": torch.__version__, "machine": platform.machine(),
                           "processor": platform.processor() or None}}
