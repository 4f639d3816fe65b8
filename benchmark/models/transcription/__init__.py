"""Built-in transcription models (lazy targets; see musebench.models)."""
BUILTIN = {
    "basic-pitch": "musebench.models.transcription.basic_pitch:BasicPitch",
    "transkun": "musebench.models.transcription.transkun:Transkun",
    "oracle": "musebench.models.transcription.oracle:Oracle",
    "noisy-oracle": "musebench.models.transcription.oracle:NoisyOracle",
    "predictions": "musebench.models.transcription.predictions:MidiPredictions",
    "mt3": "musebench.models.transcription.seq2seq.model:MT3",
    "seq2seq-piano": "musebench.models.transcription.seq2seq.model:Seq2SeqPiano",
}
