"""Built-in generation models (lazy targets; see benchmark.models)."""
BUILTIN: dict[str, str] = {}
