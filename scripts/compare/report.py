"""The comparison's outputs: the markdown tables, the JSON document and the per-file CSV."""

import csv
import io
import json
import math

import numpy as np

METRICS = ("si_sdr_noisy", "si_sdr_enhanced", "si_sdri", "pesq", "stoi")
CSV_FIELDS = ["method", "name", "kind", "snr_db", *METRICS, "lag_samples", "cpu_s", "audio_s"]


def _mean(values):
    v = np.array([x for x in values if x is not None and not math.isnan(x)], dtype=float)
    return float(v.mean()) if len(v) else math.nan


def summary(rows):
    """Means of the metrics over rows, with the count of files PESQ could not score."""
    out = {k: _mean(r[k] for r in rows) for k in METRICS}
    out["files"] = len(rows)
    out["pesq_failed"] = sum(1 for r in rows if math.isnan(r["pesq"]))
    return out


def _snr_key(snr):
    return f"{snr:g}"


def aggregate(runs, rows):
    """Per method: the overall means, per noise kind, per SNR, and the run's lag and CPU figures."""
    out = []
    for run in runs:
        mine = [r for r in rows if r["method"] == run["name"]]
        kinds = sorted({r["kind"] for r in mine})
        snrs = sorted({r["snr_db"] for r in mine})
        out.append(
            {
                **run,
                "overall": summary(mine),
                "per_kind": {k: summary([r for r in mine if r["kind"] == k]) for k in kinds},
                "per_snr": {_snr_key(s): summary([r for r in mine if r["snr_db"] == s]) for s in snrs},
            }
        )
    return out


def _f(x, digits=2, unit=""):
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}{unit}"


def _lag_cell(m, rate):
    if m["lag_samples"] is None:
        return "–"
    return f"{m['lag_samples']} ({1000 * m['lag_samples'] / rate:.1f} ms, {100 * m['lag_agree']:.0f}% of files)"


def _overall_table(methods, rate, pesq_label):
    lines = [
        f"| method | SI-SDR in | SI-SDR out | SI-SDRi | {pesq_label} | STOI | CPU s / audio s | lag (samples) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in methods:
        o = m["overall"]
        lines.append(
            f"| {m['name']} | {_f(o['si_sdr_noisy'])} | {_f(o['si_sdr_enhanced'])} | {_f(o['si_sdri'])} | "
            f"{_f(o['pesq'])} | {_f(o['stoi'], 3)} | {_f(m['cpu_per_audio_s'], 4)} | {_lag_cell(m, rate)} |"
        )
    return lines


def _group_table(methods, group, metric, digits):
    keys = list(dict.fromkeys(k for m in methods for k in m[group]))
    lines = ["| method | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    for m in methods:
        cells = [_f(m[group][k][metric], digits) if k in m[group] else "–" for k in keys]
        lines.append(f"| {m['name']} | " + " | ".join(cells) + " |")
    return lines


def markdown(doc):
    """The tables: overall, then SI-SDRi, PESQ and STOI per noise kind and per SNR."""
    pesq_label = f"PESQ-{doc['pesq_mode'].upper()}"
    methods = doc["methods"]
    out = [
        f"# Comparison on {doc['files']} mixtures at {doc['rate']} Hz (`{doc['mixtures']}`)",
        "",
        "SI-SDR: `trainer score` (zero-mean SI-SDR, the project's implementation). "
        f"{pesq_label}: `pesq` {doc['versions'].get('pesq', '?')}; "
        f"STOI: `pystoi` {doc['versions'].get('pystoi', '?')}. 48 kHz models resampled with soxr; outputs "
        f"delay-aligned by cross-correlation with the noisy input (±{doc['max_lag_ms']:.0f} ms, "
        f"{'per file' if doc['lag_per_file'] else 'one lag per method'}). CPU seconds per audio second: "
        "one process's CPU time (RNNoise, DFN3: resampling included, model load not; blobs: the whole "
        f"`trainer denoise` process), on {doc['cpus']} CPUs at a load average of {doc['load_avg_1min'][0]:.1f} "
        f"before the runs and {doc['load_avg_1min'][1]:.1f} after.",
        "",
        "## Overall",
        "",
        *_overall_table(methods, doc["rate"], pesq_label),
    ]
    for group, title in (("per_kind", "noise kind"), ("per_snr", "input SNR (dB)")):
        for metric, label, digits in (("si_sdri", "SI-SDRi (dB)", 2), ("pesq", pesq_label, 2), ("stoi", "STOI", 3)):
            out += ["", f"## {label} per {title}", "", *_group_table(methods, group, metric, digits)]
    failed = [(m["name"], m["overall"]["pesq_failed"]) for m in methods if m["overall"]["pesq_failed"]]
    if failed:
        out += [
            "",
            "PESQ could not score: " + ", ".join(f"{n}: {c} file(s)" for n, c in failed) + " (left out of its means).",
        ]
    return "\n".join(out) + "\n"


def _clean(x):
    """NaN as null, for strict JSON readers."""
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def to_json(doc):
    return json.dumps(_clean(doc), indent=1, allow_nan=False) + "\n"


def to_csv(rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(
            {
                k: ("" if r.get(k) is None or (isinstance(r.get(k), float) and math.isnan(r[k])) else r[k])
                for k in CSV_FIELDS
            }
        )
    return buf.getvalue()
