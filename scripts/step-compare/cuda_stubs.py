#!/usr/bin/env python3
"""Stub CUDA libraries so that PyPI's Linux `torch` wheel (a CUDA build) imports on a machine
without its CUDA packages, for CPU use only: every CUDA symbol the wheel's libraries import is
defined (functions return an error code, 100, "no device") under its library's name and symbol
version. Nothing CUDA is ever called on the CPU path.

Usage: cuda_stubs.py TORCH_LIB_DIR OUT_DIR, then run python with LD_LIBRARY_PATH=OUT_DIR.
(Alternatively `pip install torch` with its nvidia-* dependencies, about 3 GB.)
"""
import collections, glob, os, re, subprocess, sys

lib_dir, out_dir = sys.argv[1], sys.argv[2]
os.makedirs(out_dir, exist_ok=True)
missing = set()
for f in glob.glob(os.path.join(lib_dir, "*.so")):
    ldd = subprocess.run(["ldd", f], capture_output=True, text=True, env={**os.environ, "LD_LIBRARY_PATH": lib_dir}).stdout
    missing |= {m.group(1) for m in re.finditer(r"^\s*(\S+) => not found", ldd, re.M)}
ver2lib = {}
syms = collections.defaultdict(dict)  # version -> symbol -> type
unversioned = {}  # CUDA-looking symbols imported without a version: defined in the libcudart stub
CUDA_NAME = re.compile(r"^(cuda|cu[A-Z]|__cuda|nccl|cudnn|cublas|cusparse|cufft|nvrtc|nvshmem|cupti|cuFile|cusolver)")
for f in glob.glob(os.path.join(lib_dir, "*.so")):
    cur = None
    for line in subprocess.run(["readelf", "-V", "-W", f], capture_output=True, text=True).stdout.splitlines():
        m = re.search(r"File: (\S+)\s+Cnt", line)
        if m:
            cur = m.group(1)
        m = re.search(r"Name: (\S+)\s+Flags", line)
        if m and cur:
            ver2lib[m.group(1)] = cur
    for line in subprocess.run(["readelf", "--dyn-syms", "-W", f], capture_output=True, text=True).stdout.splitlines():
        p = line.split()
        if len(p) >= 8 and p[6] == "UND" and "@" in p[7]:
            name, ver = p[7].split("@", 1)
            syms[ver.split(" ")[0]][name] = p[3]
        elif len(p) >= 8 and p[6] == "UND" and CUDA_NAME.match(p[7]):
            unversioned[p[7]] = p[3]
for lib in sorted(missing):
    code, script, seen = [], [], set()
    for ver, d in syms.items():
        if ver2lib.get(ver) != lib:
            continue
        script.append(ver + " { global: " + " ".join(n + ";" for n in sorted(d)) + " };")
        for n, typ in sorted(d.items()):
            if n not in seen:
                seen.add(n)
                code.append(f"char {n}[256];" if typ == "OBJECT" else f"long {n}(void) {{ return 100; }}")
    if lib.startswith("libcudart."):
        for n, typ in sorted(unversioned.items()):
            if n not in seen:
                seen.add(n)
                code.append(f"char {n}[256];" if typ == "OBJECT" else f"long {n}(void) {{ return 100; }}")
    c, mp, so = (os.path.join(out_dir, lib + ext) for ext in (".c", ".map", ""))
    open(c, "w").write("\n".join(code) + "\n")
    open(mp, "w").write("\n".join(script) + "\n" if script else "{ global: *; };\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", so, c, f"-Wl,--version-script={mp}", f"-Wl,-soname,{lib}"], check=True)
    print(f"{lib}: {len(seen)} symbols")
