#!/usr/bin/env python3
"""Copies a small, pinned subset of the default corpus for scripts/gpu-check.sh.

Files are taken from data/manifest.tsv in its order: the first SPEECH_TRAIN training and
SPEECH_VAL validation prompts of en_US_f_Allison, and the noise tracks NOISE (one training
track and one test track, so that the `macroform-*` rule splits them as in the full corpus).
Each file's size and FNV-1a 64 must match the manifest. Relative paths are kept, so
`--split hash` gives every file the split the manifest records.

usage: subset.py MANIFEST SPEECH_ROOT NOISE_ROOT DEST
"""
import shutil
import sys
from pathlib import Path

SPEECH_DIR = "en_US_f_Allison/"
SPEECH_TRAIN = 24
SPEECH_VAL = 6
NOISE = ["macroform-robot_dity.wav", "manolo_camp-morning_coffee.wav"]
# The Debian packages the files come from (their copyright files travel with the subset).
PACKAGES = ["asterisk-core-sounds-en-wav", "asterisk-moh-opsound-wav"]

ATTRIBUTION = """# Data of the GPU check

A subset of the trainer's pinned default corpus (data/manifest.tsv), chosen by
scripts/gpu-check/subset.py; sizes and FNV-1a 64 hashes checked against the manifest.

* speech/: English prompts of the Asterisk core sounds (Debian asterisk-core-sounds-en-wav),
  recorded by Allison Smith, copyright 2003-2010 Allison Smith, licensed CC-BY-SA-3.0.
* noise/: music-on-hold tracks of the Asterisk opsound collection (Debian
  asterisk-moh-opsound-wav), licensed CC-BY-SA-3.0: macroform-robot_dity, copyright 2009
  Paul Shuler (Macroform); manolo_camp-morning_coffee, copyright 2009 Manolo Camp.

The packages' copyright files, with the licence texts, are in copyright/. The files are
redistributed unchanged.
"""


def fnv1a(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def pick(rows):
    """(source, path, bytes, hash) of the chosen files, in manifest order."""
    want = {"train": SPEECH_TRAIN, "val": SPEECH_VAL}
    chosen = []
    for source, path, size, hash_, split in rows:
        if source == "speech" and path.startswith(SPEECH_DIR) and want.get(split, 0) > 0:
            want[split] -= 1
            chosen.append((source, path, size, hash_))
        elif source == "noise" and path in NOISE:
            chosen.append((source, path, size, hash_))
    if any(want.values()) or sum(1 for c in chosen if c[0] == "noise") != len(NOISE):
        sys.exit(f"subset.py: the manifest lacks files the subset needs (still wanted: {want})")
    return chosen


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    manifest, speech_root, noise_root, dest = (Path(a) for a in sys.argv[1:])
    rows = [line.rstrip("\n").split("\t") for line in manifest.read_text().splitlines() if not line.startswith("#")]
    total = 0
    for source, path, size, hash_ in pick(rows):
        src = (speech_root if source == "speech" else noise_root) / path
        try:
            data = src.read_bytes()
        except OSError as e:
            sys.exit(f"subset.py: cannot read {src}: {e} (scripts/setup.sh installs the corpus)")
        if len(data) != int(size) or f"{fnv1a(data):016x}" != hash_:
            sys.exit(f"subset.py: {src} differs from data/manifest.tsv (size or FNV-1a 64)")
        out = dest / source / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        total += len(data)
    (dest / "ATTRIBUTION.md").write_text(ATTRIBUTION)
    for pkg in PACKAGES:
        (dest / "copyright").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f"/usr/share/doc/{pkg}/copyright", dest / "copyright" / pkg)
    print(f"subset.py: {total / 1e6:.1f} MB of audio in {dest}", file=sys.stderr)


if __name__ == "__main__":
    main()
