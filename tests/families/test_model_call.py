"""The one rule for what a model raises (musebench.families.base; docs/reliability.md)."""
from __future__ import annotations

import pytest

from musebench.errors import (BadInputError, ConfigError, DiskFullError, MissingDataError, ModelError,
                              ModelLoadError)
from musebench.families.base import RUN_ERRORS, item_error, model_call, one_line
from musebench.types import Item

ITEM = Item(id="toy-01", dataset="toy")


class _Model:
    name = "m"


def _raise(exc: BaseException) -> None:
    raise exc


def test_a_models_own_exception_becomes_one_line_naming_item_and_model():
    with pytest.raises(ModelError, match=r"^item toy-01: model m raised RuntimeError: boom$"):
        with model_call(_Model(), ITEM):
            _raise(RuntimeError("boom\nsecond line"))
    with pytest.raises(ModelError, match=r"^model m raised ZeroDivisionError: division by zero$"):
        with model_call(_Model()):  # a batch: no item
            _ = 1 / 0


@pytest.mark.parametrize("exc", [BadInputError("item toy-01: bad"), ConfigError("task t: bad"),
                                 MissingDataError("x: missing"), ModelLoadError("model m: load() failed (x)")])
def test_musebench_errors_pass_through_unchanged(exc):
    with pytest.raises(type(exc)) as caught:
        with model_call(_Model(), ITEM):
            _raise(exc)
    assert caught.value is exc


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3)])
def test_interrupts_are_never_caught(exc):
    with pytest.raises(type(exc)):
        with model_call(_Model(), ITEM):
            _raise(exc)


def test_item_error_fails_the_item_or_stops_the_run():
    assert item_error(BadInputError("item toy-01: corrupt audio"), ITEM) == "item toy-01: corrupt audio"
    assert item_error(ValueError("  \nnope"), ITEM) == "item toy-01: ValueError: nope"
    assert item_error(KeyError(), ITEM) == "item toy-01: KeyError: KeyError"
    assert set(RUN_ERRORS) == {ConfigError, ModelLoadError, DiskFullError}
    for exc in (ConfigError("c"), ModelLoadError("l"), DiskFullError("d")):
        with pytest.raises(type(exc)):
            item_error(exc, ITEM)


def test_one_line():
    assert one_line(RuntimeError("a\nb")) == "a"
    assert one_line(RuntimeError()) == "RuntimeError"
