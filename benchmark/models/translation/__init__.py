"""Built-in translation models (lazy targets; see benchmark.models)."""
BUILTIN: dict[str, str] = {
    "identity": "benchmark.models.translation.baselines:Identity",
    "resynth": "benchmark.models.translation.baselines:Resynth",
    "oracle-resynth": "benchmark.models.translation.baselines:OracleResynth",
    "predictions": "benchmark.models.translation.predictions:AudioPredictions",
    "umt": "benchmark.models.translation.umt:UMTTranslator",
}
