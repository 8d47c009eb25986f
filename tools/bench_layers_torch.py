"""PyTorch per-layer benchmark: one 3×3 convolution (padding 1, bias) at batch 1, forward and backward.

Usage (from the repository root):
    $(../shared/bench/setup-torch.sh) tools/bench_layers_torch.py [--repeats 5] [--threads 2]

For each layer shape (cin, cout, hw) it times the forward pass as in training (autograd on, no
torch.no_grad) and, separately, the backward pass `y.backward(gy)` with x.requires_grad, so both
the data and the weight gradients are computed. Best of --repeats after 2 warm-ups. Prints one
JSON line per layer. FLOPs: forward 2·N·Cout·H·W·Cin·9 (bias ignored); backward = 2 × forward.
"""
import argparse
import json
import time

import torch
import torch.nn as nn

LAYERS = [(450, 64, 256), (64, 64, 256), (128, 128, 128), (512, 512, 32), (1024, 1024, 16)]
WARMUPS = 2


def bench(cin, cout, hw, repeats):
    torch.manual_seed(0)
    conv = nn.Conv2d(cin, cout, 3, padding=1, bias=True)
    x = torch.randn(1, cin, hw, hw, requires_grad=True)
    gy = torch.randn(1, cout, hw, hw)
    fwd, bwd = [], []
    for i in range(WARMUPS + repeats):
        conv.zero_grad(set_to_none=True)
        x.grad = None
        t0 = time.perf_counter()
        y = conv(x)
        t1 = time.perf_counter()
        y.backward(gy)
        t2 = time.perf_counter()
        if i >= WARMUPS:
            fwd.append(t1 - t0)
            bwd.append(t2 - t1)
    flops = 2.0 * 1 * cout * hw * hw * cin * 9
    fs, bs = min(fwd), min(bwd)
    return {"layer": f"{cin}->{cout}@{hw}",
            "fwd_gflops": round(flops / fs / 1e9, 1), "bwd_gflops": round(2 * flops / bs / 1e9, 1),
            "fwd_s": round(fs, 5), "bwd_s": round(bs, 5)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    for cin, cout, hw in LAYERS:
        print(json.dumps(bench(cin, cout, hw, a.repeats)), flush=True)


if __name__ == "__main__":
    main()
