#!/usr/bin/env python3
"""The trainer's fp32 training step in PyTorch, timed: the same network (causal dilated conv1d
layers, ReLU, a linear mask layer), the same loss (MSE between (sigmoid(z)·|X|)^0.5 and |S|^0.5),
Adam at the same rate, on the batch and initial weights `trainer bench-step --dump DIR` wrote.

Usage: torch_step.py DIR --threads N [--measure 60] [--warmup 5] [--tag LABEL]
Prints one JSON line: median ms per step, forward/backward/update split, first and last loss.
"""
import argparse, json, struct, sys, time

import numpy as np
import torch
import torch.nn.functional as F


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").copy()).reshape(info["shape"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--measure", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--tag", default="", help="a label copied into the JSON line")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    meta = json.load(open(f"{a.dir}/inputs.json"))
    t = load_safetensors(f"{a.dir}/inputs.safetensors")
    k, dil = meta["kernel"], meta["dilations"]
    n_layers = len(dil) + 1
    params = []
    for i in range(n_layers):
        w = t[f"w{i}"]  # (out, kernel·inp), tap-major: [out][tap][in]
        kk = k if i < len(dil) else 1
        out = w.shape[0]
        w = w.reshape(out, kk, -1).permute(0, 2, 1).contiguous()  # conv1d (out, in, kernel)
        params.append(w.requires_grad_())
        params.append(t[f"b{i}"].clone().requires_grad_())
    # (B, T, C) → (B, C, T) once, outside the timed steps
    x = ((t["feats"] - meta["in_mean"]) * meta["in_scale"]).transpose(1, 2).contiguous()
    pad_value = -meta["in_mean"] * meta["in_scale"]
    mix, clean = t["sqrt_mix"].transpose(1, 2).contiguous(), t["sqrt_clean"].transpose(1, 2).contiguous()
    opt = torch.optim.Adam(params, lr=meta["lr"])

    def forward():
        h = x
        for i, d in enumerate(dil):
            w, b = params[2 * i], params[2 * i + 1]
            h = F.pad(h, ((k - 1) * d, 0), value=pad_value if i == 0 else 0.0)
            h = F.relu(F.conv1d(h, w, b, dilation=d))
        z = F.conv1d(h, params[-2], params[-1])
        est = torch.sqrt(torch.sigmoid(z.clamp(-30, 30)) + 1e-10) * mix
        return ((est - clean) ** 2).mean()

    times, split, losses = [], [], []
    for step in range(a.warmup + a.measure):
        t0 = time.perf_counter()
        loss = forward()
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        losses.append(loss.item())  # after the step: a sync point
        if step >= a.warmup:
            times.append((t3 - t0) * 1000)
            split.append(((t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000))
    med = lambda v: float(np.median(v))
    print(json.dumps({
        "impl": "pytorch", "version": torch.__version__, "threads": a.threads, "step_ms": med(times),
        "forward_ms": med([s[0] for s in split]), "backward_ms": med([s[1] for s in split]),
        "update_ms": med([s[2] for s in split]), "first_loss": losses[a.warmup], "last_loss": losses[-1],
        "steps": a.measure, "tag": a.tag,
    }))


if __name__ == "__main__":
    sys.exit(main())
