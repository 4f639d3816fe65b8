#!/usr/bin/env python
"""Write the frozen translation-domain lists in benchmark/data/translation_domains/.

MusicNet lists come from the composer/ensemble metadata frozen in
benchmark/data/manifests/musicnet.json (no local copy needed). NSynth lists are written as a
selection rule; with ``--nsynth-root DIR`` (a local, verified NSynth copy) the rule is applied
and the resulting note names are written into the lists as well.

    python scripts/freeze_translation_domains.py            # write / refresh the lists
    python scripts/freeze_translation_domains.py --check    # exit 1 if a committed list is stale
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from musebench.paths import package_data

MAX_REFERENCES = 16

#: name -> (composer, ensemble, GM program, description) -- the six domains of Mor et al. (2018)
MUSICNET_DOMAINS = {
    "musicnet-beethoven-violin": ("Beethoven", "Accompanied Violin", 40,
                                  "Beethoven, accompanied violin (violin + piano)"),
    "musicnet-bach-cello": ("Bach", "Solo Cello", 42, "Bach, solo cello"),
    "musicnet-bach-piano": ("Bach", "Solo Piano", 0, "Bach, solo piano"),
    "musicnet-beethoven-piano": ("Beethoven", "Solo Piano", 0, "Beethoven, solo piano"),
    "musicnet-beethoven-quartet": ("Beethoven", "String Quartet", 48, "Beethoven, string quartet"),
    "musicnet-cambini-quintet": ("Cambini", "Wind Quintet", 68,
                                 "Cambini, wind quintet (flute, oboe, clarinet, horn, bassoon)"),
}
#: NSynth family -> GM program used to render it (the first program of the family's GM group,
#: as musebench.datasets.nsynth.FAMILY_PROGRAMS)
NSYNTH_FAMILIES = ("bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed", "string",
                   "synth_lead", "vocal")
NSYNTH_RULE = {"velocity": 100, "pitch_min": 36, "pitch_max": 84}
NSYNTH_LIMITS = {"test": 64, "validation": 64}


def musicnet_lists() -> dict[str, dict]:
    manifest = json.loads(package_data("manifests", "musicnet.json").read_text())
    out = {}
    for name, (composer, ensemble, program, description) in MUSICNET_DOMAINS.items():
        by_split: dict[str, list[str]] = {"train": [], "validation": [], "test": []}
        for iid, entry in manifest["items"].items():
            meta = entry["metadata"]
            if meta["composer"] == composer and meta["ensemble"] == ensemble:
                by_split[entry["split"]].append(iid)
        for ids in by_split.values():
            ids.sort(key=int)
        out[name] = {
            "name": name,
            "dataset": "musicnet",
            "dataset_params": {"split_scheme": "mt3"},
            "program": program,
            "description": description,
            "selection": {"composer": composer, "ensemble": ensemble,
                          "source": "musicnet_metadata.csv as frozen in benchmark/data/manifests/musicnet.json; "
                                    "held_out = MT3 validation/test recordings, references = the first "
                                    f"{MAX_REFERENCES} training recordings by id"},
            "held_out": {"validation": by_split["validation"], "test": by_split["test"]},
            "references": {"split": "train", "ids": by_split["train"][:MAX_REFERENCES]},
        }
    return out


def nsynth_lists(root: str | None) -> dict[str, dict]:
    from musebench.datasets.nsynth import FAMILY_PROGRAMS

    frozen: dict[tuple[str, str], list[str]] = {}
    if root:
        from musebench.datasets import get_dataset
        from musebench.datasets.translation_domains import _select_by_rule

        ds = get_dataset("nsynth", root=root)
        for split in ("test", "validation"):
            items = ds.items(split)
            for family in NSYNTH_FAMILIES:
                rule = {"instrument_family": family, **NSYNTH_RULE, "limit": NSYNTH_LIMITS[split]}
                frozen[(family, split)] = [it.id for it in _select_by_rule(items, rule)]
    out = {}
    for family in NSYNTH_FAMILIES:
        name = f"nsynth-{family.replace('_', '-')}"
        out[name] = {
            "name": name,
            "dataset": "nsynth",
            "dataset_params": {},
            "program": FAMILY_PROGRAMS[family],
            "description": f"NSynth instrument family '{family}' (single 4 s notes)",
            "selection": {"instrument_family": family, **NSYNTH_RULE, "limit": NSYNTH_LIMITS["test"],
                          "source": "official examples.json (its sha256 is in the split fingerprint); "
                                    "notes sorted by name, the first `limit`"},
            "held_out": {"test": frozen.get((family, "test"))},
            "references": {"split": "validation", "ids": frozen.get((family, "validation"))},
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nsynth-root", help="local NSynth copy: freeze the NSynth note names too")
    parser.add_argument("--check", action="store_true", help="compare with the committed lists; write nothing")
    args = parser.parse_args(argv)
    folder = package_data("translation_domains")
    lists = {**musicnet_lists(), **nsynth_lists(args.nsynth_root)}
    stale = []
    for name, data in lists.items():
        path = folder / f"{name}.json"
        text = json.dumps(data, indent=1, sort_keys=True) + "\n"
        if name.startswith("nsynth-") and not args.nsynth_root and path.exists():
            old = json.loads(path.read_text())
            if old.get("references", {}).get("ids") is not None:
                continue  # names frozen earlier from a local copy: keep them
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    if args.check:
        for p in stale:
            print(f"{p}: STALE (run scripts/freeze_translation_domains.py)")
        return 1 if stale else 0
    print(f"wrote {len(lists)} domain lists to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
