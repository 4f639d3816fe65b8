"""Model interfaces, one per task family.

A model is a class registered in :data:`musebench.models.MODELS`. The harness constructs it
once per run (``Model(device=..., **params)``), calls :meth:`Model.load` once, then calls the
family method per item. Models never read datasets themselves: the harness hands them audio
at the model's own ``sample_rate`` (mono float32) and, only to models that declare
``uses_reference = True`` (oracles), the reference.

Parameters (``--param KEY=VALUE``) are declared once and checked before a run starts (see
:meth:`Model.parameters`): a model either lists them in ``params_spec`` (name ->
:class:`Param`) or, by default, they are read from the keyword arguments of its ``__init__``
(names, annotated types and defaults; help from the class docstring's numpydoc
``Parameters`` section). A model whose ``__init__`` takes ``**params`` and declares nothing
accepts any parameter, unchecked (the run says so on stderr).
"""
from __future__ import annotations

import difflib
import inspect
import re
import sys
import types
import typing
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..device import resolve_device
from ..io_utils import sha256_file
from ..types import Item, Notes


@dataclass
class Context:
    """What the harness knows about the item being predicted.

    ``reference`` is only filled for models with ``uses_reference = True``.
    ``seed`` is a per-item seed derived from the run seed and the item id, so that seeded
    models give the same output for an item whatever order or worker it runs in.
    """

    item: Item
    seed: int
    reference: Any = None
    params: dict[str, Any] = field(default_factory=dict)


_NO_DEFAULT = inspect.Parameter.empty


@dataclass(frozen=True)
class Param:
    """One declared model parameter.

    ``types`` are the accepted Python types (``int`` is accepted where ``float`` is; ``bool``
    only where ``bool`` is named); ``None`` is accepted when it is the default or ``NoneType``
    is among ``types``; an empty ``types`` accepts anything.
    """

    types: tuple[type, ...] = ()
    default: Any = None
    help: str = ""
    required: bool = False

    def type_name(self) -> str:
        names = [t.__name__ for t in self.types if t is not type(None)]
        if self.types and (type(None) in self.types or self.default is None):
            names.append("None")
        return " | ".join(names) or "any"

    def check(self, value: Any) -> str | None:
        """None when ``value`` is acceptable, else what is wrong with it (a phrase)."""
        if not self.types or value is None and (self.default is None or type(None) in self.types):
            return None
        for t in self.types:
            if t is float and isinstance(value, (int, float)) and not isinstance(value, bool):
                return None
            if t is int and isinstance(value, bool):
                continue
            if isinstance(value, t):
                return None
        return f"must be {self.type_name()}, not {value!r}"


def _types_of(annotation: Any) -> tuple[type, ...]:
    """The runtime types an annotation admits (empty: anything)."""
    if annotation is _NO_DEFAULT or annotation is Any:
        return ()
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        out: list[type] = []
        for arg in typing.get_args(annotation):
            sub = _types_of(arg)
            if not sub:
                return ()
            out.extend(sub)
        return tuple(dict.fromkeys(out))
    if origin is not None:
        return (origin,) if isinstance(origin, type) else ()
    if annotation is None:
        return (type(None),)
    return (annotation,) if isinstance(annotation, type) else ()


def _docstring_help(cls: type) -> dict[str, str]:
    """``name -> first line of its description`` from a numpydoc ``Parameters`` section."""
    doc = inspect.getdoc(cls) or ""
    match = re.search(r"^Parameters\n-+\n(.*?)(?:\n\n[A-Z][^\n]*\n-+\n|\Z)", doc, re.S | re.M)
    out: dict[str, str] = {}
    if not match:
        return out
    lines = match.group(1).splitlines()
    for i, line in enumerate(lines):
        head = re.match(r"^(\w+(?:\s*,\s*\w+)*)\s*:", line)
        if head and i + 1 < len(lines) and lines[i + 1].startswith(" "):
            for name in re.split(r"\s*,\s*", head.group(1)):
                out[name] = lines[i + 1].strip()
    return out


class Model(ABC):
    name: ClassVar[str]
    family: ClassVar[str]
    version: ClassVar[str] = "1"
    #: sample rate the model wants its input audio at; None = the task's rate (a class attribute
    #: for most models; an instance attribute where it comes from the checkpoint, as for ``umt``)
    sample_rate: int | None = None
    uses_reference: ClassVar[bool] = False
    description: ClassVar[str] = ""
    #: declared parameters (name -> Param); None: read them from ``__init__`` (see module docstring)
    params_spec: ClassVar[dict[str, Param] | None] = None

    def __init__(self, *, device: str = "auto", **params: Any):
        self.device = resolve_device(device)
        self.params = params

    @classmethod
    def parameters(cls) -> dict[str, Param] | None:
        """The model's parameters, from ``params_spec`` or ``__init__``; None when undeclared
        (``__init__`` takes ``**params`` and nothing is declared)."""
        if cls.params_spec is not None:
            return dict(cls.params_spec)
        signature = inspect.signature(cls.__init__)
        try:
            module = sys.modules.get(cls.__init__.__module__)
            hints = typing.get_type_hints(cls.__init__, globalns=vars(module) if module else None)
        except Exception:  # an annotation that does not evaluate: names and defaults only
            hints = {}
        helps = _docstring_help(cls)
        out: dict[str, Param] = {}
        for name, p in list(signature.parameters.items())[1:]:
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                if not out:
                    return None
                continue
            if p.kind is inspect.Parameter.VAR_POSITIONAL or name == "device":
                continue
            out[name] = Param(types=_types_of(hints.get(name, _NO_DEFAULT)),
                              default=None if p.default is _NO_DEFAULT else p.default,
                              help=helps.get(name, ""), required=p.default is _NO_DEFAULT)
        return out

    @classmethod
    def check_params(cls, params: dict[str, Any], *, model: str | None = None) -> list[str]:
        """Raise ConfigError (one line, close matches) for unknown, missing or ill-typed
        ``params``; returns warnings (e.g. parameters of an undeclared model, unchecked)."""
        from ..errors import ConfigError

        label = f"model {model or getattr(cls, 'name', cls.__name__)}"
        spec = cls.parameters()
        if spec is None:
            return [f"{label} declares no parameters; {', '.join(sorted(params))} passed unchecked"] if params else []
        for key, value in params.items():
            if key not in spec:
                close = difflib.get_close_matches(key, list(spec), n=3, cutoff=0.6)
                hint = (f"; did you mean {', '.join(repr(c) for c in close)}?" if close else
                        f" (known: {', '.join(sorted(spec)) or 'none'})")
                raise ConfigError(f"{label}: unknown parameter {key!r}{hint}")
            problem = spec[key].check(value)
            if problem:
                raise ConfigError(f"{label}: parameter {key} {problem}")
        missing = [k for k, p in spec.items() if p.required and k not in params]
        if missing:
            raise ConfigError(f"{label}: missing required parameter(s) {', '.join(missing)}")
        return []

    def load(self) -> None:  # noqa: B027 - a hook: models without weights keep the no-op
        """Load weights (called once per run, before the first item)."""

    def weights_files(self) -> list[Path]:
        """Files whose sha256 identifies the weights (empty for weightless models)."""
        return []

    def weights_sha256(self) -> str | None:
        files = self.weights_files()
        if not files:
            return None
        if len(files) == 1:
            return sha256_file(files[0])
        import hashlib

        h = hashlib.sha256()
        for f in files:
            h.update(sha256_file(f).encode())
        return h.hexdigest()

    def package_version(self) -> str | None:
        """Version of the package that provides the model, if any."""
        return None

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family, "version": self.version,
                "package_version": self.package_version(), "params": self.params,
                "weights_sha256": self.weights_sha256(), "device": self.device}


class TranscriptionModel(Model):
    family: ClassVar[str] = "transcription"

    @abstractmethod
    def transcribe(self, audio: np.ndarray, *, sample_rate: int, context: Context) -> Notes:
        """Audio (mono float32, shape (n,)) -> notes."""

    def transcribe_batch(self, audios: list[np.ndarray], *, sample_rate: int,
                         contexts: list[Context]) -> list[Notes]:
        """Several items at once (optional hook; default: :meth:`transcribe` on each in turn).

        Override it when the model gains from batching across items (e.g. on a GPU); the
        runner then hands it groups of ``--batch-items`` items. It must return one
        :class:`Notes` per input, in order, equal to what :meth:`transcribe` gives for each.
        """
        return [self.transcribe(audio, sample_rate=sample_rate, context=context)
                for audio, context in zip(audios, contexts)]

    def batches_items(self) -> bool:
        """True when this model overrides :meth:`transcribe_batch`."""
        return type(self).transcribe_batch is not TranscriptionModel.transcribe_batch


class TranslationModel(Model):
    family: ClassVar[str] = "translation"

    @abstractmethod
    def translate(self, audio: np.ndarray, *, sample_rate: int, target_domain: str,
                  context: Context) -> np.ndarray | tuple[np.ndarray, int]:
        """Audio of the source domain -> audio in ``target_domain``: mono float32 at ``sample_rate``,
        or ``(audio, its sample rate)`` when the model answers at another rate."""


class GenerationModel(Model):
    family: ClassVar[str] = "generation"

    @abstractmethod
    def generate(self, n: int, seconds: float, *, seed_audio: np.ndarray | None = None,
                 sample_rate: int, rng: np.random.Generator, context: Context | None = None) -> list[np.ndarray]:
        """Generate ``n`` clips of ``seconds`` (continuing ``seed_audio`` when given)."""
