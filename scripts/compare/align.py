"""Delay compensation: the lag of a denoiser's output against its noisy input, found by
cross-correlation within ±MAX_LAG_S, and the output shifted back by it."""

from collections import Counter

import numpy as np
from scipy import signal

MAX_LAG_S = 0.1


def estimate_lag(out, ref, rate, max_lag_s=MAX_LAG_S):
    """The lag d (samples, within ±max_lag_s) that maximises sum_n out[n + d]·ref[n]: out is ref
    delayed by d samples when d > 0."""
    max_lag = int(round(max_lag_s * rate))
    corr = signal.correlate(out, ref, mode="full", method="fft")
    lags = signal.correlation_lags(len(out), len(ref), mode="full")
    keep = np.abs(lags) <= max_lag
    return int(lags[keep][np.argmax(corr[keep])])


def shift(out, lag, n):
    """out[lag : lag + n], zero-filled where that runs past either end."""
    aligned = np.zeros(n)
    lo, hi = max(0, -lag), min(n, len(out) - lag)
    if hi > lo:
        aligned[lo:hi] = out[lo + lag : hi + lag]
    return aligned


def method_lag(lags):
    """One lag for a method (its delay is a property of the system): the most common per-file lag
    (the smallest among ties), and the share of files within one sample of it."""
    counts = Counter(lags)
    top = max(counts.values())
    lag = min(k for k, c in counts.items() if c == top)
    agree = sum(1 for x in lags if abs(x - lag) <= 1) / len(lags)
    return lag, agree
