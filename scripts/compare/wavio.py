"""The mixtures directory (`trainer mixtures`), 16-bit WAV files, and atomic writes."""

import csv
import os
import wave
from dataclasses import dataclass

import numpy as np

HEADER = ["name", "kind", "snr_db", "rate"]


class CompareError(Exception):
    """An input the comparison cannot use; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Mixture:
    name: str
    kind: str
    snr_db: float
    rate: int


def read_wav(path, rate=None):
    """Samples of a mono 16-bit PCM WAV as float64 in [-1, 1), checked against `rate` if given."""
    if not os.path.isfile(path):
        raise CompareError(f"{path}: file not found")
    try:
        with wave.open(path, "rb") as w:
            channels, width, file_rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            data = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as e:
        raise CompareError(f"{path}: not a PCM WAV file ({e})") from e
    if channels != 1 or width != 2:
        raise CompareError(f"{path}: {channels} channel(s) of {8 * width}-bit samples; mono 16-bit PCM expected")
    if rate is not None and file_rate != rate:
        raise CompareError(f"{path}: rate mismatch: the file is at {file_rate} Hz, the mixtures at {rate} Hz")
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0


def to_pcm16(x):
    """Float samples in [-1, 1) as 16-bit integers (rounded, clipped)."""
    return np.clip(np.round(np.asarray(x) * 32768.0), -32768, 32767).astype("<i2")


def _temp_path(path):
    return os.path.join(os.path.dirname(path) or ".", f".{os.path.basename(path)}.tmp{os.getpid()}")


def write_wav(path, x, rate):
    """Writes mono 16-bit PCM through a temporary file renamed into place."""
    tmp = _temp_path(path)
    with wave.open(tmp, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(to_pcm16(x).tobytes())
    os.replace(tmp, path)


def write_text(path, text):
    """Writes a text file through a temporary file renamed into place."""
    tmp = _temp_path(path)
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def _parse_row(path, line, row):
    if len(row) != len(HEADER):
        raise CompareError(f"{path}:{line}: {len(row)} fields, {len(HEADER)} expected ({','.join(HEADER)})")
    name, kind, snr, rate = row
    if not name or "/" in name or name.startswith("."):
        raise CompareError(f"{path}:{line}: bad mixture name {name!r}")
    try:
        return Mixture(name, kind, float(snr), int(rate))
    except ValueError as e:
        raise CompareError(f"{path}:{line}: {e}") from e


def read_mixtures(mix_dir):
    """The mixtures of MIX_DIR/mixtures.csv, every one checked to have its clean and noisy WAV
    at the one rate of the table, of equal lengths."""
    path = os.path.join(mix_dir, "mixtures.csv")
    if not os.path.isfile(path):
        raise CompareError(f"{path}: file not found (write it with `trainer mixtures --rate R --out {mix_dir}`)")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != HEADER:
        raise CompareError(f"{path}:1: header {','.join(rows[0]) if rows else '(empty)'}; {','.join(HEADER)} expected")
    mixtures = [_parse_row(path, i + 2, r) for i, r in enumerate(rows[1:]) if r]
    if not mixtures:
        raise CompareError(f"{path}: no mixtures")
    rates = {m.rate for m in mixtures}
    if len(rates) != 1:
        raise CompareError(f"{path}: rate mismatch: the table mixes rates {sorted(rates)}")
    names = [m.name for m in mixtures]
    if len(set(names)) != len(names):
        raise CompareError(f"{path}: a mixture name appears twice")
    return mixtures


def load_pair(mix_dir, m):
    """(clean, noisy) samples of one mixture, checked for rate and length."""
    clean = read_wav(os.path.join(mix_dir, "clean", m.name + ".wav"), m.rate)
    noisy = read_wav(os.path.join(mix_dir, "noisy", m.name + ".wav"), m.rate)
    if len(clean) != len(noisy):
        raise CompareError(
            f"{mix_dir}: length mismatch for {m.name}: clean {len(clean)} samples, noisy {len(noisy)} samples"
        )
    return clean, noisy
