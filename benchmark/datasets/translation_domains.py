"""Translation domains: named sets of recordings a translation task maps from and to.

A *domain* is a timbre/style class. Each has a General MIDI ``program`` that the
rendering baselines (``resynth``, ``oracle-resynth``) use to play notes "in" that domain
(for ensembles this is an approximation: every note gets the same program).

* **Synthetic domains** (``piano``, ``violin``, ``flute``, ``strings``, ``clarinet``) are
  renderings of MuseBench's synth scores with one program (:mod:`musebench.datasets.synth_pairs`).
  Their reference recordings are the paired target renderings.
* **Real domains** are frozen lists in ``benchmark/data/translation_domains/<name>.json``:

  - ``musicnet-*``: the six MusicNet domains of Mor et al. (2018) (Beethoven accompanied
    violin, Bach solo cello, Bach solo piano, Beethoven solo piano, Beethoven string quartet,
    Cambini wind quintet), selected by composer and ensemble from ``musicnet_metadata.csv``
    (frozen in ``benchmark/data/manifests/musicnet.json``). ``held_out`` lists the recordings
    of MT3's validation and test splits (the translation *sources*); ``references`` lists the
    domain's training recordings (sorted ids, at most 16) that a translation output is compared
    with by ``target_domain_distance``.
  - ``nsynth-*``: NSynth instrument families. NSynth's note names are not shipped (the
    manifest holds only the split folders), so these lists are frozen as a *rule* over the
    official ``examples.json`` (whose sha256 is part of the split fingerprint): notes of the
    family at velocity 100 with pitch in [pitch_min, pitch_max], sorted by name, the first
    ``limit``. ``scripts/freeze_translation_domains.py`` writes the resulting names into the
    file once a local copy exists; then the names are used and the rule is only checked.

Every list file carries its own description; ``docs/translation.md`` has the table.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import BadInputError, ConfigError, MissingDataError
from ..io_utils import sha256_bytes
from ..paths import package_data
from ..types import Item

#: synthetic domains: name -> (General MIDI program, description)
SYNTH_DOMAINS: dict[str, tuple[int, str]] = {
    "piano": (0, "acoustic grand piano (GM 0), TimGM6mb"),
    "violin": (40, "violin (GM 40), TimGM6mb"),
    "flute": (73, "flute (GM 73), TimGM6mb"),
    "strings": (48, "string ensemble 1 (GM 48), TimGM6mb"),
    "clarinet": (71, "clarinet (GM 71), TimGM6mb; no synth item of any split uses this program"),
}
DOMAIN_DIR = "translation_domains"


@dataclass(frozen=True)
class Domain:
    """One translation domain.

    Attributes
    ----------
    name : str
    program : int
        General MIDI program (0-127) that renders notes in this domain.
    description : str
    dataset : str or None
        The dataset its recordings come from (None for synthetic domains).
    dataset_params : dict
    held_out : dict
        split -> list of item ids (or None: use ``selection``) that may be translated *from*.
    references : dict
        ``{"split": str, "ids": list or None}``: recordings that represent the domain as a target.
    selection : dict or None
        The rule behind a list (NSynth: family, velocity, pitch range, limit).
    sha256 : str or None
        sha256 of the list file (recorded with the set-level scores).
    """

    name: str
    program: int
    description: str
    dataset: str | None = None
    dataset_params: dict[str, Any] = field(default_factory=dict)
    held_out: dict[str, list[str] | None] = field(default_factory=dict)
    references: dict[str, Any] = field(default_factory=dict)
    selection: dict[str, Any] | None = None
    sha256: str | None = None

    @property
    def synthetic(self) -> bool:
        return self.dataset is None


def _domain_dir() -> Path:
    return package_data(DOMAIN_DIR)


@lru_cache(maxsize=1)
def _list_files() -> dict[str, Path]:
    folder = _domain_dir()
    return {p.stem: p for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def domain_names() -> list[str]:
    """Every defined domain, synthetic first."""
    return list(SYNTH_DOMAINS) + sorted(_list_files())


def _load_list(path: Path) -> Domain:
    raw_bytes = path.read_bytes()
    try:
        raw = json.loads(raw_bytes)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{path}: domain list is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    for key in ("name", "program", "dataset", "description", "held_out", "references"):
        if key not in raw:
            raise BadInputError(f"{path}: domain list lacks the {key!r} field")
    if raw["name"] != path.stem:
        raise BadInputError(f"{path}: domain list names itself {raw['name']!r}, not {path.stem!r}")
    program = raw["program"]
    if not isinstance(program, int) or not 0 <= program <= 127:
        raise BadInputError(f"{path}: program must be a General MIDI program 0-127, not {program!r}")
    refs = raw["references"]
    if not isinstance(refs, dict) or "split" not in refs or "ids" not in refs:
        raise BadInputError(f"{path}: references must be {{\"split\": ..., \"ids\": [...] or null}}")
    if refs["ids"] is None and raw.get("selection") is None:
        raise BadInputError(f"{path}: references has no ids and the list has no selection rule")
    return Domain(name=raw["name"], program=program, description=str(raw["description"]), dataset=raw["dataset"],
                  dataset_params=dict(raw.get("dataset_params") or {}), held_out=dict(raw["held_out"]),
                  references=dict(refs), selection=raw.get("selection"), sha256=sha256_bytes(raw_bytes))


def get_domain(name: str, *, task: str | None = None) -> Domain:
    """The domain called ``name``.

    Raises
    ------
    ConfigError
        No such domain (the message names it, the task if given, and the known domains).
    """
    if name in SYNTH_DOMAINS:
        program, description = SYNTH_DOMAINS[name]
        return Domain(name=name, program=program, description=description)
    files = _list_files()
    if name not in files:
        import difflib

        where = f"task {task}: " if task else ""
        close = difflib.get_close_matches(str(name), domain_names(), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else \
            f" (known: {', '.join(domain_names())})"
        raise ConfigError(f"{where}target domain {name!r} is not defined{hint}")
    return _load_list(files[name])


def _select_by_rule(items: Iterable[Item], rule: dict[str, Any]) -> list[Item]:
    """NSynth rule: family, velocity, pitch range; sorted by id; the first ``limit``."""
    out = []
    for it in sorted(items, key=lambda i: i.id):
        meta = it.metadata
        if "instrument_family" in rule and meta.get("instrument_family") != rule["instrument_family"]:
            continue
        if "velocity" in rule and meta.get("velocity") != rule["velocity"]:
            continue
        pitch = meta.get("pitch")
        if "pitch_min" in rule and (pitch is None or pitch < rule["pitch_min"]):
            continue
        if "pitch_max" in rule and (pitch is None or pitch > rule["pitch_max"]):
            continue
        out.append(it)
    limit = rule.get("limit")
    return out[:int(limit)] if limit else out


def select(domain: Domain, items: list[Item], *, ids: list[str] | None, what: str) -> list[Item]:
    """The items of ``domain`` among ``items``: by explicit ``ids`` (all must exist), else by rule.

    Raises
    ------
    MissingDataError
        An id of the frozen list is not among ``items`` (or the rule selects nothing).
    """
    if ids is not None:
        by_id = {it.id: it for it in items}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise MissingDataError(f"domain {domain.name}: {what} id(s) {', '.join(missing[:3])} not in the "
                                   f"local {domain.dataset} copy ({len(missing)} missing)")
        return [by_id[i] for i in ids]
    chosen = _select_by_rule(items, domain.selection or {})
    if not chosen:
        raise MissingDataError(f"domain {domain.name}: the selection rule finds no {what} item in the local "
                               f"{domain.dataset} copy")
    return chosen


__all__ = ["SYNTH_DOMAINS", "Domain", "domain_names", "get_domain", "select"]
