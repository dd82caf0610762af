"""The metrics: SI-SDR from the trainer (`trainer score`, the project's one implementation), PESQ
(`pesq`: wideband at 16 kHz, narrowband at 8 kHz) and STOI (`pystoi`)."""

import json
import math
import os
import subprocess

from pesq import pesq
from pystoi import stoi

from wavio import CompareError

PESQ_MODES = {16000: "wb", 8000: "nb"}


def pesq_mode(rate):
    if rate not in PESQ_MODES:
        raise CompareError(f"PESQ runs at 8000 or 16000 Hz, the mixtures are at {rate} Hz")
    return PESQ_MODES[rate]


def pesq_score(clean, enhanced, rate):
    """PESQ (MOS-LQO) of enhanced against clean; NaN where PESQ finds no utterance."""
    try:
        return float(pesq(rate, clean, enhanced, pesq_mode(rate)))
    except CompareError:
        raise
    except Exception:  # pesq's NoUtterancesError and kin: a file PESQ cannot score
        return math.nan


def stoi_score(clean, enhanced, rate):
    return float(stoi(clean, enhanced, rate, extended=False))


def trainer_si_sdr(trainer, mix_dir, enhanced_dir, mixtures):
    """{name: (si_sdr_noisy, si_sdr_enhanced, si_sdri)} from `trainer score --json`."""
    if not (os.path.isfile(trainer) and os.access(trainer, os.X_OK)):
        raise CompareError(
            f"{trainer}: trainer binary not found (build it with `cargo build -p trainer --release` or pass --trainer)"
        )
    cmd = [trainer, "score", "--mixtures", mix_dir, "--enhanced", enhanced_dir, "--json"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise CompareError(f"`{' '.join(cmd)}` failed (exit {run.returncode}): {run.stderr.strip()[-2000:]}")
    try:
        doc = json.loads(run.stdout)
        got = {f["name"]: (f["si_sdr_noisy"], f["si_sdr_enhanced"], f["si_sdri"]) for f in doc["files"]}
    except (ValueError, KeyError, TypeError) as e:
        raise CompareError(f"`{' '.join(cmd)}`: unexpected output ({e}): {run.stdout[:300]!r}") from e
    rate = mixtures[0].rate
    if doc.get("rate") != rate:
        raise CompareError(
            f"`{' '.join(cmd)}`: rate mismatch: it scored at {doc.get('rate')} Hz, the mixtures are at {rate} Hz"
        )
    missing = [m.name for m in mixtures if m.name not in got]
    if missing:
        raise CompareError(f"`{' '.join(cmd)}`: no score for {len(missing)} mixture(s), e.g. {missing[0]}")
    return got

