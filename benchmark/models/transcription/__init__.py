"""Built-in transcription models (lazy targets; see benchmark.models)."""
BUILTIN = {
    "basic-pitch": "benchmark.models.transcription.basic_pitch:BasicPitch",
    "transkun": "benchmark.models.transcription.transkun:Transkun",
    "oracle": "benchmark.models.transcription.oracle:Oracle",
    "noisy-oracle": "benchmark.models.transcription.oracle:NoisyOracle",
    "predictions": "benchmark.models.transcription.predictions:MidiPredictions",
    "mt3": "benchmark.models.transcription.seq2seq.model:MT3",
    "seq2seq-piano": "benchmark.models.transcription.seq2seq.model:Seq2SeqPiano",
}
