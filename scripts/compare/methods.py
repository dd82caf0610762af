"""The methods compared: each turns a mixture's noisy samples into its (not yet aligned) output
and the CPU seconds that took (None where nothing ran here)."""

import os
import re
import resource
import subprocess
import tempfile

from wavio import CompareError, read_wav

BUILTIN = ("noisy", "rnnoise", "dfn3")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
RUN_PATHS = ("f32", "int")


class Noisy:
    """The input itself: the row every other method is measured against (never aligned)."""

    kind = "input"

    def __init__(self, mix_dir):
        self.name, self.mix_dir = "noisy", mix_dir

    def enhance(self, m, noisy):
        return noisy, None


class Model48k:
    """RNNoise or DFN3 (denoisers.py) at 48 kHz, resampled in and out with soxr."""

    kind = "48 kHz model"

    def __init__(self, model):
        self.name, self.model = model.name, model

    def enhance(self, m, noisy):
        from denoisers import run_at_48k

        return run_at_48k(self.model, noisy, m.rate)


class Directory:
    """Already-denoised WAVs, DIR/NAME.wav for every mixture NAME."""

    kind = "directory"

    def __init__(self, name, path):
        if not os.path.isdir(path):
            raise CompareError(f"--method {name}={path}: directory not found")
        self.name, self.path = name, path

    def enhance(self, m, noisy):
        path = os.path.join(self.path, m.name + ".wav")
        y = read_wav(path, m.rate)
        if len(y) != len(noisy):
            raise CompareError(f"{path}: length mismatch: {len(y)} samples, the noisy input has {len(noisy)}")
        return y, None


class Blob:
    """A blob run by `trainer denoise --model FILE --path f32|int NOISY OUT`, one process per file;
    its CPU time is the child process's (start-up, blob load and WAV I/O included)."""

    kind = "blob"

    def __init__(self, name, blob, run_path, trainer, mix_dir):
        if not os.path.isfile(blob):
            raise CompareError(f"--blob {name}={blob}: file not found")
        self.name, self.blob, self.run_path, self.trainer, self.mix_dir = name, blob, run_path, trainer, mix_dir
        self.tmp = tempfile.TemporaryDirectory(prefix=f"compare-{name}-")

    def enhance(self, m, noisy):
        src = os.path.join(self.mix_dir, "noisy", m.name + ".wav")
        dst = os.path.join(self.tmp.name, m.name + ".wav")
        cmd = [self.trainer, "denoise", "--model", self.blob, "--path", self.run_path, src, dst]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            run = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as e:
            raise CompareError(f"--blob {self.name}: cannot run {self.trainer} ({e}); pass --trainer") from e
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if run.returncode != 0:
            raise CompareError(f"`{' '.join(cmd)}` failed (exit {run.returncode}): {run.stderr.strip()[-2000:]}")
        try:
            y = read_wav(dst, m.rate)
        except CompareError as e:
            raise CompareError(
                f"--blob {self.name} ({self.blob}): {e} (does the blob run at the mixtures' rate?)"
            ) from e
        if len(y) != len(noisy):
            raise CompareError(
                f"--blob {self.name}: length mismatch: {dst} has {len(y)} samples, {src} has {len(noisy)}"
            )
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return y, cpu


def _split_spec(flag, spec):
    name, sep, rest = spec.partition("=")
    if not sep or not rest:
        raise CompareError(f"{flag} {spec!r}: NAME=... expected")
    if not NAME_RE.match(name):
        raise CompareError(f"{flag} {spec!r}: the name may hold letters, digits and _.+- only")
    return name, rest


def parse_blob(spec):
    """NAME=FILE[:PATH] → (name, file, path), PATH f32 (default) or int."""
    name, rest = _split_spec("--blob", spec)
    head, sep, tail = rest.rpartition(":")
    if sep and tail in RUN_PATHS:
        return name, head, tail
    return name, rest, "f32"


def build(args, mix_dir):
    """The methods the command line asks for, in order: the built-in ones, then --method, --blob."""
    methods = []
    for name in [n for n in args.methods.split(",") if n]:
        if name not in BUILTIN:
            raise CompareError(f"--methods: unknown method {name!r} (built in: {', '.join(BUILTIN)})")
        if name == "noisy":
            methods.append(Noisy(mix_dir))
        else:
            from denoisers import Dfn3, Rnnoise

            methods.append(Model48k(Rnnoise() if name == "rnnoise" else Dfn3()))
    for spec in args.method:
        methods.append(Directory(*_split_spec("--method", spec)))
    for spec in args.blob:
        name, blob, run_path = parse_blob(spec)
        methods.append(Blob(name, blob, run_path, args.trainer, mix_dir))
    names = [m.name for m in methods]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise CompareError(f"method name {dup[0]!r} given twice")
    if not methods:
        raise CompareError("no method to compare")
    return methods
