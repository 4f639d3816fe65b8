"""Built-in translation models (lazy targets; see musebench.models)."""
BUILTIN: dict[str, str] = {
    "identity": "musebench.models.translation.baselines:Identity",
    "resynth": "musebench.models.translation.baselines:Resynth",
    "oracle-resynth": "musebench.models.translation.baselines:OracleResynth",
    "predictions": "musebench.models.translation.predictions:AudioPredictions",
    "umt": "musebench.models.translation.umt:UMTTranslator",
}
