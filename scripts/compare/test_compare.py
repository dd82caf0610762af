"""Tests of the comparison script, on signals made here (no corpus). SI-SDR comes from the real
trainer (`TRAINER`, default target/release/trainer; those tests are skipped without it); a
stand-in trainer checks the `--blob` plumbing.

  TRAINER=target/release/trainer .venv-compare/bin/python -m unittest discover -s scripts/compare -v
"""

import contextlib
import io
import json
import os
import sys
import tempfile
import textwrap
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import align  # noqa: E402
import compare  # noqa: E402
from wavio import HEADER, CompareError, write_text, write_wav  # noqa: E402

RATE = 16000


def real_trainer():
    """The trainer binary the SI-SDR tests run: $TRAINER, else target/release/trainer."""
    path = os.environ.get("TRAINER") or os.path.join(compare.ROOT, "target", "release", "trainer")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise unittest.SkipTest(
            f"no trainer binary at {path}: build it (cargo build --release -p trainer) or set TRAINER=PATH"
        )
    return path


def voiced(seconds, seed, rate=RATE):
    """A speech-like test signal: a gliding harmonic tone under a syllable-rate envelope, in noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t + seed)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    tone = sum(np.sin(k * phase) / k for k in range(1, 12))
    env = np.clip(np.sin(2 * np.pi * 3.5 * t + seed), 0, None) ** 2
    return 0.3 * tone * env / 3 + 0.01 * rng.standard_normal(len(t))


def delayed(x, d):
    y = np.zeros_like(x)
    if d >= 0:
        y[d:] = x[: len(x) - d]
    else:
        y[:d] = x[-d:]
    return y


# Stands in for the trainer in the --blob plumbing test: `denoise` writes its input delayed by
# DELAY samples, `score` prints fixed figures (SI-SDR in = the mixture's SNR, out = SNR + 1).
FAKE_TRAINER = textwrap.dedent(
    """\
    #!{python}
    import csv, json, sys, wave
    a = sys.argv[1:]
    if a[0] == "denoise":
        src, dst = a[-2], a[-1]
        with wave.open(src) as w:
            p, data = w.getparams(), w.readframes(w.getnframes())
        d = 2 * {delay}
        with wave.open(dst, "wb") as w:
            w.setparams(p)
            w.writeframes(bytes(d) + data[: len(data) - d])
    elif a[0] == "score":
        mix = a[a.index("--mixtures") + 1]
        with open(mix + "/mixtures.csv") as f:
            rows = list(csv.DictReader(f))
        files = [dict(name=r["name"], kind=r["kind"], snr_db=float(r["snr_db"]), si_sdr_noisy=float(r["snr_db"]),
                      si_sdr_enhanced=float(r["snr_db"]) + 1, si_sdri=1.0) for r in rows]
        print(json.dumps(dict(rate=int(rows[0]["rate"]), files=files)))
    else:
        sys.exit(2)
    """
)


class Align(unittest.TestCase):
    def test_known_delays_are_found_and_undone(self):
        x = voiced(2.0, 1)
        for d in (0, 1, 37, 320, 480, 1600, -1, -200):
            y = delayed(x, d)
            self.assertEqual(align.estimate_lag(y, x, RATE), d, f"delay {d}")
            back = align.shift(y, d, len(x))
            keep = slice(max(0, -d), len(x) - max(0, d))
            np.testing.assert_array_equal(back[keep], x[keep])

    def test_lag_search_stays_within_100_ms(self):
        x = voiced(2.0, 2)
        self.assertLessEqual(abs(align.estimate_lag(delayed(x, 2400), x, RATE)), 1600)

    def test_method_lag_is_the_most_common(self):
        self.assertEqual(align.method_lag([320, 320, 321, 7]), (320, 0.75))
        self.assertEqual(align.method_lag([5, 3]), (3, 0.5))


class EndToEnd(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.mix = os.path.join(self.tmp.name, "mix")
        self.out = os.path.join(self.tmp.name, "out")
        self.names = self.make_mixtures(self.mix, RATE)

    def make_mixtures(self, path, rate):
        """Four voiced signals in white noise at -5, 5, 0 and 10 dB SNR, as `trainer mixtures`
        lays them out; returns their names."""
        names, rows = [], []
        for d in ("clean", "noisy"):
            os.makedirs(os.path.join(path, d))
        for i, (kind, snr) in enumerate([("white", -5), ("white", 5), ("hum", 0), ("hum", 10)]):
            name = f"{kind}_{i}"
            clean = voiced(1.5, 10 + i, rate)
            noise = np.random.default_rng(i).standard_normal(len(clean)) * np.std(clean) * 10 ** (-snr / 20)
            write_wav(os.path.join(path, "clean", name + ".wav"), clean, rate)
            write_wav(os.path.join(path, "noisy", name + ".wav"), clean + noise, rate)
            rows.append(f"{name},{kind},{snr},{rate}\n")
            names.append(name)
        write_text(os.path.join(path, "mixtures.csv"), ",".join(HEADER) + "\n" + "".join(rows))
        return names

    def tearDown(self):
        self.tmp.cleanup()

    def fake_trainer(self, delay):
        path = os.path.join(self.tmp.name, "trainer")
        write_text(path, FAKE_TRAINER.format(python=sys.executable, delay=delay))
        os.chmod(path, 0o755)
        return path

    def read(self, name):
        with open(os.path.join(self.out, name), encoding="utf-8") as f:
            return f.read()

    def read_json(self):
        return json.loads(self.read("compare.json"))

    def run_compare(self, *extra, mix=None):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            compare.main(["--mixtures", mix or self.mix, "--out", self.out, *extra])
        return out.getvalue()

    def delayed_dir(self, d, name="delayed"):
        path = os.path.join(self.tmp.name, name)
        os.makedirs(path)
        for n in self.names:
            x = compare.read_wav(os.path.join(self.mix, "noisy", n + ".wav"), RATE)
            write_wav(os.path.join(path, n + ".wav"), delayed(x, d), RATE)
        return path

    def test_blob_and_directory_methods_with_the_trainer_score(self):
        trainer = self.fake_trainer(48)
        table = self.run_compare(
            "--methods",
            "noisy",
            "--trainer",
            trainer,
            "--blob",
            f"fake={trainer}:int",
            "--method",
            f"late={self.delayed_dir(123)}",
        )
        doc = self.read_json()
        by = {m["name"]: m for m in doc["methods"]}
        self.assertEqual([m["name"] for m in doc["methods"]], ["noisy", "late", "fake"])
        self.assertEqual(by["fake"]["lag_samples"], 48)
        self.assertEqual(by["late"]["lag_samples"], 123)
        self.assertIsNone(by["noisy"]["lag_samples"])
        self.assertEqual(by["fake"]["overall"]["si_sdri"], 1.0)
        self.assertEqual(by["late"]["per_snr"]["10"]["si_sdr_noisy"], 10.0)
        self.assertEqual(sorted(by["late"]["per_kind"]), ["hum", "white"])
        self.assertGreater(by["fake"]["cpu_per_audio_s"], 0)
        self.assertIsNone(by["late"]["cpu_per_audio_s"])
        self.assertIn("| fake | ", table)
        self.assertEqual(table, self.read("compare.md"))
        csv_lines = self.read("per-file.csv").splitlines()
        self.assertEqual(len(csv_lines), 1 + 3 * len(self.names))
        self.assertEqual([f for f in os.listdir(self.out) if ".tmp" in f], [])

    def test_aligned_copy_scores_like_the_input(self):
        self.run_compare("--methods", "noisy", "--trainer", real_trainer(), "--method", f"late={self.delayed_dir(64)}")
        doc = self.read_json()
        noisy, late = (m["overall"] for m in doc["methods"])
        self.assertEqual(noisy["si_sdri"], 0.0)
        self.assertEqual(noisy["si_sdr_enhanced"], noisy["si_sdr_noisy"])
        self.assertAlmostEqual(late["si_sdri"], 0.0, delta=0.2)
        self.assertAlmostEqual(late["stoi"], noisy["stoi"], delta=0.01)
        by = {m["name"]: m for m in doc["methods"]}
        for snr, got in by["noisy"]["per_snr"].items():
            self.assertAlmostEqual(got["si_sdr_noisy"], float(snr), delta=0.5, msg=f"{snr} dB mixture")

    def test_default_blob_through_the_trainer_has_no_lag(self):
        mix8 = os.path.join(self.tmp.name, "mix8")
        self.make_mixtures(mix8, 8000)
        blob = os.path.join(compare.ROOT, "models", "conv8k.dqem")
        trainer = real_trainer()
        table = self.run_compare("--methods", "noisy", "--trainer", trainer, "--blob", f"default={blob}", mix=mix8)
        doc = self.read_json()
        noisy, default = doc["methods"]
        self.assertEqual((doc["rate"], doc["pesq_mode"]), (8000, "nb"))
        self.assertEqual(noisy["overall"]["si_sdri"], 0.0)
        self.assertEqual(default["lag_samples"], 0)
        self.assertEqual(default["lag_agree"], 1.0)
        self.assertGreater(default["per_snr"]["-5"]["si_sdri"], 0.0)
        self.assertIn("| default | ", table)

    def assert_error(self, fragment, *extra):
        # These errors come before any scoring, so no trainer is needed (a missing one would be
        # reported instead of `fragment`).
        no_trainer = os.path.join(self.tmp.name, "no-trainer")
        with self.assertRaises(CompareError) as cm:
            self.run_compare("--methods", "noisy", "--trainer", no_trainer, *extra)
        self.assertIn(fragment, str(cm.exception))

    def test_missing_file_rate_and_length_mismatch_are_named(self):
        bad = self.delayed_dir(0, "bad")
        os.remove(os.path.join(bad, self.names[1] + ".wav"))
        self.assert_error(f"{self.names[1]}.wav: file not found", "--method", f"bad={bad}")
        write_wav(os.path.join(bad, self.names[1] + ".wav"), np.zeros(12000), 8000)
        self.assert_error("rate mismatch: the file is at 8000 Hz, the mixtures at 16000 Hz", "--method", f"bad={bad}")
        write_wav(os.path.join(bad, self.names[1] + ".wav"), np.zeros(100), RATE)
        self.assert_error("length mismatch: 100 samples", "--method", f"bad={bad}")
        write_wav(os.path.join(self.mix, "clean", self.names[2] + ".wav"), np.zeros(100), RATE)
        self.assert_error(f"length mismatch for {self.names[2]}: clean 100 samples")


class Models(unittest.TestCase):
    def test_rnnoise_and_dfn3_delays(self):
        from denoisers import Dfn3, Rnnoise, run_at_48k

        x = voiced(3.0, 3) + 0.02 * np.random.default_rng(3).standard_normal(3 * RATE)
        for model, ms in ((Rnnoise(), 20), (Dfn3(), 30)):
            y, cpu = run_at_48k(model, x, RATE)
            self.assertEqual(len(y), len(x) + int(0.15 * RATE))
            self.assertGreater(cpu, 0)
            self.assertAlmostEqual(align.estimate_lag(y, x, RATE), ms * RATE // 1000, delta=1, msg=model.name)


if __name__ == "__main__":
    unittest.main()
