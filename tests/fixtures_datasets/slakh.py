"""The slakh2100 fixture: a tiny copy in the official layout (see :mod:`fixtures_datasets`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from musebench.midi import write_midi
from musebench.types import Notes
from .common import Fixture, fixture_manifest, notes, SR, tone, write_flac

DATASET = "slakh2100"


# ---- Slakh2100 / Cerberus4 ----------------------------------------------------------------------
SLAKH_TRACKS = {  # track -> (split folder, stems); a stem = (program_num, is_drum, rendered, saved, notes rows)
    "Track01876": ("test", {
        "S00": (0, False, True, True, [(0.0, 0.5, 60.0), (0.5, 1.0, 64.0)]),     # piano
        "S01": (25, False, True, True, [(0.25, 0.75, 55.0)]),                     # guitar
        "S02": (33, False, True, True, [(0.0, 1.0, 40.0)]),                       # bass
        "S03": (128, True, True, True, [(0.0, 0.1, 36.0), (0.5, 0.6, 38.0)]),     # drums
        "S04": (48, False, True, True, [(1.0, 1.5, 72.0)]),                       # strings: not in Cerberus4
        "S05": (80, False, False, True, [(0.2, 0.4, 90.0)]),                      # not rendered: not a reference
    }),
    "Track01877": ("test", {
        "S00": (4, False, True, True, [(0.1, 0.6, 62.0)]),
        "S01": (29, False, True, True, [(0.3, 0.8, 57.0)]),
        "S02": (38, False, True, True, [(0.0, 0.9, 41.0)]),
        "S03": (128, True, True, True, [(0.2, 0.3, 42.0)]),
    }),
    "Track01878": ("test", {  # no guitar: not a Cerberus4 track
        "S00": (0, False, True, True, [(0.0, 0.4, 65.0)]),
        "S01": (32, False, True, True, [(0.0, 0.8, 36.0)]),
        "S02": (128, True, True, True, [(0.1, 0.2, 36.0)]),
    }),
}


def _slakh_yaml(track: str, stems: dict) -> str:
    lines = [f"UUID: fixture{track[-4:]}", f"audio_dir: {track}/stems", f"midi_dir: {track}/MIDI",
             "normalized: true", "overall_gain: 0.5", "stems:"]
    for sid, (program, drum, rendered, saved, _rows) in stems.items():
        lines += [f"  {sid}:", f"    audio_rendered: {str(rendered).lower()}", "    inst_class: Fixture",
                  f"    is_drum: {str(drum).lower()}", "    midi_program_name: Fixture",
                  f"    midi_saved: {str(saved).lower()}", "    plugin_name: fixture.nkm",
                  f"    program_num: {program}"]
    return "\n".join(lines) + "\n"


#: the fixture's raw programs under MT3's Slakh class convention (the loader's default, programs="slakh_class"):
#: approximated by family (no slakh_class in these metadata files), written out by hand
SLAKH_CLASS_OF = {0: 0, 4: 4, 25: 24, 29: 29, 32: 32, 33: 33, 38: 33, 48: 48}


def build(base: Path) -> Fixture:
    root = base / "slakh2100_flac_redux"
    expected, cerberus = {}, {}
    for _k, (track, (split, stems)) in enumerate(SLAKH_TRACKS.items()):
        folder = root / split / track
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "metadata.yaml").write_text(_slakh_yaml(track, stems))
        mix = np.zeros(int(2.0 * SR), np.float32)
        parts, cparts, all_parts = [], [], []
        for j, (sid, (program, drum, rendered, saved, rows)) in enumerate(stems.items()):
            prog = 0 if drum else program
            stem_notes = notes(rows, velocity=100.0, program=prog, drum=drum)
            all_parts.append(stem_notes)
            if saved:
                write_midi(stem_notes, folder / "MIDI" / f"{sid}.mid")
            if rendered:
                audio = tone(2.0, freq=110.0 * (j + 1))
                write_flac(folder / "stems" / f"{sid}.flac", audio)
                mix += audio
            if rendered and saved:
                parts.append(notes(rows, velocity=100.0, program=0 if drum else SLAKH_CLASS_OF[program], drum=drum))
                cls_prog = 0 if program in range(8) else 24 if program in range(24, 32) else \
                    32 if program in range(32, 40) else None
                if drum or cls_prog is not None:
                    cparts.append(notes(rows, velocity=100.0, program=0 if drum else cls_prog, drum=drum))
        write_midi(Notes.concatenate(all_parts), folder / "all_src.mid")
        write_flac(folder / "mix.flac", mix * 0.5)
        expected[track] = Notes.concatenate(parts).sorted()
        cerberus[track] = Notes.concatenate(cparts).sorted()
    manifest = fixture_manifest("slakh2100", base, list(SLAKH_TRACKS))
    fx = Fixture("slakh2100", root, manifest, expected, {"test": sorted(SLAKH_TRACKS)})
    fx.cerberus_notes = cerberus  # type: ignore[attr-defined]
    return fx
