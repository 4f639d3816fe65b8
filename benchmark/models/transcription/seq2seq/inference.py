"""Audio -> notes with a trained seq2seq network: segments, batched encoder, greedy decoding, ties.

An item's log mel frames are cut into consecutive segments of ``vocabulary.segment_steps``
frames (the last one padded with the frame of digital silence); all segments (of one item, or
of several items) go through the encoder and the greedy decoder ``batch_size`` at a time; the
tokens of each item's segments are then decoded in order by the vocabulary's state machine,
which carries the notes tied from one segment into the next (MT3
``metrics_utils.event_predictions_to_ns`` decoding with ``NoteEncodingWithTiesSpec``).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ....types import Notes
from .network import Seq2SeqNet, greedy_decode, log_mel, silence_frame
from .vocabulary import EOS, PAD, Vocabulary


def segment_frames(frames, segment: int):
    """(n_segments, segment, n_mels) segments of a (n_frames, n_mels) spectrogram, silence-padded."""
    import torch

    n = frames.shape[0]
    n_seg = max(1, math.ceil(n / segment))
    pad = n_seg * segment - n
    if pad:
        frames = torch.cat([frames, silence_frame(frames.shape[1]).expand(pad, -1)], 0)
    return frames.reshape(n_seg, segment, frames.shape[1])


def transcribe_many(net: Seq2SeqNet, vocab: Vocabulary, audios: Sequence[np.ndarray], *, batch_size: int = 16,
                    max_tokens: int = 512, device: str = "cpu") -> tuple[list[Notes], dict[str, int]]:
    """Transcribe 16-kHz mono audios; returns their notes and decoding counts.

    Returns
    -------
    notes : list of Notes, one per audio
    stats : dict
        ``segments``, ``tokens``, ``invalid`` (tokens the state machine skipped),
        ``truncated`` (segments that hit ``max_tokens`` without EOS).
    """
    import torch

    from .vocabulary import DecodeState

    segs, owner = [], []
    for i, audio in enumerate(audios):
        s = segment_frames(log_mel(audio, net.config.n_mels), vocab.segment_steps)
        segs.append(s)
        owner += [i] * s.shape[0]
    allsegs = torch.cat(segs, 0)
    tokens: list[list[int]] = []
    truncated = 0
    net.eval()
    with torch.inference_mode():
        for start in range(0, allsegs.shape[0], batch_size):
            x = allsegs[start:start + batch_size].to(device)
            memory, mask = net.encode(x)
            out = greedy_decode(net, memory, mask, max_tokens=max_tokens, eos=EOS, start=PAD)
            truncated += sum(len(t) >= max_tokens for t in out)
            tokens += out
    results, invalid = [], 0
    k = 0
    for i, audio in enumerate(audios):
        n_seg = segs[i].shape[0]
        state = DecodeState()
        for j in range(n_seg):
            vocab.decode_segment(state, tokens[k + j], j * vocab.segment_steps)
        k += n_seg
        end_step = max(1, int(round(len(audio) / 16000 * vocab.steps_per_second)))
        invalid += state.invalid
        results.append(vocab.finish(state, end_step=end_step))
    stats = {"segments": len(tokens), "tokens": int(sum(len(t) for t in tokens)), "invalid": invalid,
             "truncated": truncated}
    return results, stats
