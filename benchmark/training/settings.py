"""One validator for the settings of every training run (LSTM generators, seq2seq, UMT).

A training config is a dataclass deriving from :class:`TrainSettings`; each field states its
rule where it is declared::

    steps: int = setting(4000, min=1)
    lr_decay: float = setting(0.98, above=0, max=1)
    dtype: str = setting("float16", choices=("float16", "float32"))

:meth:`TrainSettings.check_settings` then checks every field against its type (from the
annotation: ``int``, ``float``, ``str``, ``bool``, ``list[str]``, ``X | None``) and its rule,
and :meth:`TrainSettings.from_dict` refuses unknown keys with close-match suggestions. Every
error is a one-line :class:`~musebench.errors.ConfigError` that starts with the command, e.g.
``train umt: steps must be >= 1, not 0``. What depends on several fields or on a registry
(the model name, domains, ``free_run_frames < seq_frames``) each config checks after this, in
its ``check()``. No NumPy or torch here: the command line reads the defaults.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from ..errors import ConfigError

T = TypeVar("T", bound="TrainSettings")


@dataclass(frozen=True)
class Rule:
    """Bounds of one setting: ``min <= x``, ``above < x``, ``x <= max``, ``x < below``, ``x in choices``."""

    min: float | None = None
    above: float | None = None
    max: float | None = None
    below: float | None = None
    choices: tuple[Any, ...] | None = None

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` (``None``: nothing), as the end of ``"<name> must ..."``."""
        if self.choices is not None:
            if value not in self.choices:
                return f"be one of {', '.join(str(c) for c in self.choices)}, not {value!r}"
            return None
        low_ok = (self.min is None or value >= self.min) and (self.above is None or value > self.above)
        high_ok = (self.max is None or value <= self.max) and (self.below is None or value < self.below)
        if low_ok and high_ok:
            return None
        lows = [(b, op, br) for b, op, br in ((self.min, ">=", "["), (self.above, ">", "(")) if b is not None]
        highs = [(b, op, br) for b, op, br in ((self.max, "<=", "]"), (self.below, "<", ")")) if b is not None]
        if lows and highs:
            (lo, _, left), (hi, _, right) = lows[0], highs[0]
            return f"be in {left}{lo:g}, {hi:g}{right}, not {value}"
        bound, op, _ = (lows or highs)[0]
        return f"be {op} {bound:g}, not {value}"


def setting(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING,
            min: float | None = None, above: float | None = None, max: float | None = None,
            below: float | None = None, choices: Iterable[Any] | None = None) -> Any:
    """A dataclass field with a :class:`Rule` (see the module docstring)."""
    rule = Rule(min=min, above=above, max=max, below=below, choices=tuple(choices) if choices is not None else None)
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata={"rule": rule})
    return dataclasses.field(default=default, metadata={"rule": rule})


def unknown_keys(where: str, given: Iterable[str], known: Iterable[str], *, what: str = "setting") -> None:
    """Raise a one-line ConfigError for the first key of ``given`` not in ``known``, with close matches."""
    known = sorted(known)
    for key in given:
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
        listing = f"known: {', '.join(known)}" if known else f"it takes no {what}s"
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else f" ({listing})"
        raise ConfigError(f"{where}: unknown {what} {key!r}{hint}")


def _type_problem(value: Any, hint: Any) -> str | None:
    """What is wrong with the type of ``value`` for the annotation ``hint`` (``None``: nothing)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        others = [a for a in args if a is not type(None)]
        return _type_problem(value, others[0]) if len(others) == 1 else None
    if hint is bool:
        return None if isinstance(value, bool) else f"be true or false, not {value!r}"
    if hint is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else f"be an integer, not {value!r}"
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return None
        return f"be a finite number, not {value!r}"
    if hint is str:
        return None if isinstance(value, str) else f"be a string, not {value!r}"
    if origin is list:
        if not isinstance(value, (list, tuple)):
            return f"be a list, not {value!r}"
        if args and args[0] is str and not all(isinstance(v, str) for v in value):
            return f"be a list of strings, not {value!r}"
        return None
    if origin is dict or hint is dict:
        return None if isinstance(value, dict) else f"be a mapping, not {value!r}"
    return None


@dataclass
class TrainSettings:
    """Base of the training configs (dataclasses); see the module docstring.

    Class attributes
    ----------------
    COMMAND : str
        Start of the error messages when the config has no ``model`` field (``train umt``).
    EXTRA_KEYS : tuple of str
        Keys allowed in the config's ``extra`` mapping (if it has one).
    """

    COMMAND: ClassVar[str] = "train"
    EXTRA_KEYS: ClassVar[tuple[str, ...]] = ()

    @property
    def where(self) -> str:
        """Start of this config's error messages, e.g. ``train seq2seq-piano``."""
        model = getattr(self, "model", None)
        return f"train {model}" if model is not None else self.COMMAND

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
        """The config of ``data`` (e.g. a checkpoint's recorded settings); unknown keys are refused.

        Raises
        ------
        ConfigError
            A key is not a setting (the message suggests close matches), or a value breaks its rule.
        """
        where = f"train {data['model']}" if "model" in data else cls.COMMAND
        unknown_keys(where, data, [f.name for f in dataclasses.fields(cls)])
        config = cls(**data)
        config.check()
        return config

    def check(self) -> None:
        """Check the settings; configs extend it with what spans several fields."""
        self.check_settings()

    def check_settings(self) -> None:
        """Every field against its annotated type and its :class:`Rule`, then the ``extra`` keys.

        Raises
        ------
        ConfigError
            One line, e.g. ``train umt: steps must be >= 1, not 0``.
        """
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            problem = _type_problem(value, hints.get(f.name))
            rule: Rule | None = f.metadata.get("rule")
            if problem is None and rule is not None and value is not None:
                problem = rule.problem(value)
            if problem is not None:
                raise ConfigError(f"{self.where}: {f.name} must {problem}")
        extra = getattr(self, "extra", None)
        if isinstance(extra, dict):
            unknown_keys(self.where, extra, self.EXTRA_KEYS, what="extra setting")
