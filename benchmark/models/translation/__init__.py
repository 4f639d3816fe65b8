"""Built-in translation models (lazy targets; see benchmark.models)."""
BUILTIN: dict[str, str] = {}
