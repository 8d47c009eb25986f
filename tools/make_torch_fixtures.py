"""Writes the PyTorch reference fixtures that the Swift tests load: Tests/Fixtures/torch/<case>.safetensors.

Usage (from the repository root):
    $(../shared/bench/setup-torch.sh) tools/make_torch_fixtures.py [CASE ...]
(`setup-torch.sh` prints the virtualenv's python; `pip install safetensors` into it once.)

Every case is computed in float32 on the CPU, single-threaded, with deterministic algorithms and a
fixed per-case seed. Tensors use PyTorch layouts (NCHW; conv weight O×I×kH×kW; transposed-conv
weight I×O×kH×kW). Gradients are those of `(y * gy).sum()` for a random upstream gradient `gy`
of y's shape. Scalars are stored with shape [1]. Each file's metadata (string → string) holds the
op's parameters, the seed and the torch version. The names and shapes are the contract with the
Swift tests; see Tests/Fixtures/torch/README.md.
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "torch")

CASES = []


def case(seed):
    """Registers a case function; it runs after torch.manual_seed(seed)."""
    def register(fn):
        CASES.append((fn.__name__.removeprefix("case_"), seed, fn))
        return fn
    return register


def leaf(t):
    return t.detach().clone().requires_grad_(True)


def grads_of(y, gy, *inputs):
    """Gradients of (y * gy).sum() with respect to inputs."""
    return torch.autograd.grad((y * gy).sum(), inputs)


# ---------------------------------------------------------------- convolutions

def conv_case(x_shape, w_shape, bias, stride, padding):
    x = leaf(torch.randn(*x_shape))
    w = leaf(torch.randn(*w_shape) * 0.3)
    b = leaf(torch.randn(w_shape[0])) if bias else None
    y = F.conv2d(x, w, b, stride=stride, padding=padding)
    gy = torch.randn_like(y)
    inputs = (x, w, b) if bias else (x, w)
    g = grads_of(y, gy, *inputs)
    t = {"x": x, "w": w, "y": y, "gy": gy, "dx": g[0], "dw": g[1]}
    if bias:
        t["b"] = b
        t["db"] = g[2]
    meta = {"op": "conv2d", "stride": str(stride), "padding": str(padding), "dilation": "1",
            "groups": "1", "bias": "true" if bias else "false"}
    return t, meta


@case(101)
def case_conv2d_3x3_p1_bias():
    return conv_case((2, 3, 6, 5), (4, 3, 3, 3), True, 1, 1)


@case(102)
def case_conv2d_3x3_s2_p0_nobias():
    return conv_case((1, 2, 7, 7), (3, 2, 3, 3), False, 2, 0)


@case(103)
def case_conv2d_1x1_bias():
    return conv_case((2, 5, 4, 4), (1, 5, 1, 1), True, 1, 0)


@case(104)
def case_conv2d_5x5_p2_bias():
    return conv_case((1, 3, 9, 8), (2, 3, 5, 5), True, 1, 2)


def conv_transpose_2x2_s2(batch, cin, cout, h, w, weight_scale):
    """A 2×2, stride-2 transposed convolution with bias and its gradients."""
    x = leaf(torch.randn(batch, cin, h, w))
    wt = leaf(torch.randn(cin, cout, 2, 2) * weight_scale)  # in × out × kH × kW
    b = leaf(torch.randn(cout))
    y = F.conv_transpose2d(x, wt, b, stride=2)
    gy = torch.randn_like(y)
    dx, dw, db = grads_of(y, gy, x, wt, b)
    meta = {"op": "conv_transpose2d", "stride": "2", "padding": "0", "output_padding": "0",
            "dilation": "1", "groups": "1", "bias": "true", "weight_layout": "in,out,kH,kW"}
    return {"x": x, "w": wt, "b": b, "y": y, "gy": gy, "dx": dx, "dw": dw, "db": db}, meta


@case(105)
def case_conv_transpose2d_2x2_s2():
    return conv_transpose_2x2_s2(2, 4, 3, 3, 3, 0.5)


@case(106)
def case_conv_transpose2d_2x2_s2_blocks():
    """Output channels in whole blocks of 8: the engine's 1×1-convolution up-sampling path."""
    return conv_transpose_2x2_s2(2, 12, 16, 3, 5, 0.3)


# ---------------------------------------------------------------- pooling

def assert_no_ties(x, k=2):
    n, c, h, w = x.shape
    win = x[..., : h // k * k, : w // k * k].reshape(n, c, h // k, k, w // k, k)
    win = win.permute(0, 1, 2, 4, 3, 5).reshape(n, c, h // k, w // k, k * k)
    top2 = win.topk(2, dim=-1).values
    assert (top2[..., 0] > top2[..., 1]).all(), "tie in a pooling window"


@case(201)
def case_max_pool2d_2x2():
    x = leaf(torch.randn(2, 3, 6, 4))
    assert_no_ties(x.detach())
    y = F.max_pool2d(x, 2)
    gy = torch.randn_like(y)
    (dx,) = grads_of(y, gy, x)
    meta = {"op": "max_pool2d", "kernel_size": "2", "stride": "2", "padding": "0"}
    return {"x": x, "y": y, "gy": gy, "dx": dx}, meta


@case(202)
def case_max_unpool2d_2x2():
    x = leaf(torch.randn(1, 2, 4, 6))
    assert_no_ties(x.detach())
    p, idx = F.max_pool2d(x, 2, return_indices=True)
    assert idx.flatten(2).unique(dim=-1).shape == idx.flatten(2).shape  # no two outputs share an index
    # PyTorch flags max_unpool2d as nondeterministic because indices could collide (scatter); with
    # non-overlapping 2×2 windows they cannot, so the result is exact either way.
    torch.use_deterministic_algorithms(False)
    try:
        y = F.max_unpool2d(p, idx, 2, output_size=x.shape[-2:])
        gy = torch.randn_like(y)
        (dx,) = grads_of(y, gy, x)
        p_leaf = leaf(p)
        y2 = F.max_unpool2d(p_leaf, idx, 2, output_size=x.shape[-2:])
        (dp,) = grads_of(y2, gy, p_leaf)
    finally:
        torch.use_deterministic_algorithms(True)
    meta = {"op": "max_unpool2d", "kernel_size": "2", "stride": "2", "padding": "0",
            "note": "p, indices = max_pool2d(x, 2); y = max_unpool2d(p, indices, 2); "
                    "dx through pool+unpool, dp with p as a leaf"}
    return {"x": x, "p": p, "y": y, "gy": gy, "dx": dx, "dp": dp}, meta


@case(203)
def case_upsample_nearest():
    x = leaf(torch.randn(2, 3, 3, 4))
    y = F.interpolate(x, scale_factor=2, mode="nearest")
    gy = torch.randn_like(y)
    (dx,) = grads_of(y, gy, x)
    meta = {"op": "interpolate", "scale_factor": "2", "mode": "nearest"}
    return {"x": x, "y": y, "gy": gy, "dx": dx}, meta


# ---------------------------------------------------------------- elementwise and shape ops

@case(301)
def case_cat():
    a = leaf(torch.randn(2, 3, 4, 4))
    b = leaf(torch.randn(2, 5, 4, 4))
    y = torch.cat([a, b], 1)
    gy = torch.randn_like(y)
    da, db = grads_of(y, gy, a, b)
    return {"a": a, "b": b, "y": y, "gy": gy, "da": da, "db": db}, {"op": "cat", "dim": "1"}


def binary_case(op, fn):
    a = leaf(torch.randn(2, 3, 4, 5))
    b = leaf(torch.randn(2, 3, 4, 5))
    y = fn(a, b)
    gy = torch.randn_like(y)
    da, db = grads_of(y, gy, a, b)
    return {"a": a, "b": b, "y": y, "gy": gy, "da": da, "db": db}, {"op": op}


@case(302)
def case_add():
    return binary_case("add", torch.add)


@case(303)
def case_mul():
    return binary_case("mul", torch.mul)


def unary_case(op, fn, x, meta=None):
    x = leaf(x)
    y = fn(x)
    gy = torch.randn_like(y)
    (dx,) = grads_of(y, gy, x)
    return {"x": x, "y": y, "gy": gy, "dx": dx}, {"op": op, **(meta or {})}


@case(311)
def case_softplus():
    return unary_case("softplus", F.softplus, torch.randn(2, 3, 4, 5) * 3,
                      {"beta": "1", "threshold": "20"})


@case(312)
def case_sigmoid():
    return unary_case("sigmoid", torch.sigmoid, torch.randn(2, 3, 4, 5) * 3)


@case(313)
def case_relu():
    x = torch.randn(2, 3, 4, 5) * 3
    small = x.abs() <= 1e-2
    x = torch.where(small, torch.where(x < 0, -0.5, 0.5), x)  # keep away from the kink at 0
    assert (x.abs() > 1e-2).all()
    return unary_case("relu", F.relu, x)


@case(321)
def case_scale():
    factor = 2.5
    return unary_case("scale", lambda t: t * factor, torch.randn(2, 3, 4, 5), {"factor": str(factor)})


@case(323)
def case_affine():
    return unary_case("affine", lambda t: t * -1.5 + 0.25, torch.randn(2, 3, 4, 5),
                      {"factor": "-1.5", "offset": "0.25"})


@case(324)
def case_abs():
    x = torch.randn(2, 3, 4, 5) * 2
    x = torch.where(x.abs() <= 1e-2, torch.full_like(x, 0.5), x)  # away from the kink at 0
    return unary_case("abs", torch.abs, x)


@case(325)
def case_exp():
    return unary_case("exp", torch.exp, torch.randn(2, 3, 4, 5))


@case(326)
def case_log():
    return unary_case("log", torch.log, torch.rand(2, 3, 4, 5) * 3 + 0.05)


@case(327)
def case_square():
    return unary_case("square", torch.square, torch.randn(2, 3, 4, 5) * 2)


@case(328)
def case_clip():
    x = torch.randn(2, 3, 4, 5)
    x = torch.where((x.abs() - 0.5).abs() <= 1e-2, x * 1.2, x)  # away from the kinks at ±0.5
    return unary_case("clip", lambda t: torch.clamp(t, -0.5, 0.5), x, {"lower": "-0.5", "upper": "0.5"})


@case(322)
def case_sum_mean():
    x = leaf(torch.randn(2, 3, 4, 5))
    ys = x.sum().reshape(1)
    ym = x.mean().reshape(1)
    gs = torch.randn(1)
    gm = torch.randn(1)
    (dx_sum,) = grads_of(ys, gs, x)
    (dx_mean,) = grads_of(ym, gm, x)
    meta = {"op": "sum,mean", "note": "ys = x.sum(), ym = x.mean() (stored [1]); "
            "dx_sum = d(ys*gs)/dx, dx_mean = d(ym*gm)/dx"}
    return {"x": x, "ys": ys, "ym": ym, "gs": gs, "gm": gm, "dx_sum": dx_sum, "dx_mean": dx_mean}, meta


# ---------------------------------------------------------------- batch norm

def batch_norm_case(training):
    x = leaf(torch.randn(4, 3, 5, 5) * 2 + 1)
    gamma = leaf(torch.randn(3))
    beta = leaf(torch.randn(3))
    if training:
        running_mean = torch.zeros(3)
        running_var = torch.ones(3)
    else:
        running_mean = torch.randn(3)
        running_var = torch.rand(3) + 0.5
    rm_in, rv_in = running_mean.clone(), running_var.clone()
    y = F.batch_norm(x, running_mean, running_var, gamma, beta, training=training,
                     momentum=0.1, eps=1e-5)
    gy = torch.randn_like(y)
    dx, dgamma, dbeta = grads_of(y, gy, x, gamma, beta)
    t = {"x": x, "gamma": gamma, "beta": beta, "y": y, "gy": gy, "dx": dx, "dgamma": dgamma, "dbeta": dbeta}
    meta = {"op": "batch_norm", "momentum": "0.1", "eps": "1e-05", "training": "true" if training else "false"}
    if training:
        # After the step: (1-m)*old + m*batch stat; the variance update uses the unbiased (n-1) estimate.
        t["running_mean"] = running_mean
        t["running_var"] = running_var
        meta["running_mean_before"] = "zeros"
        meta["running_var_before"] = "ones"
        meta["running_var_update"] = "unbiased"
    else:
        assert torch.equal(running_mean, rm_in) and torch.equal(running_var, rv_in)
        t["running_mean"] = running_mean
        t["running_var"] = running_var
    return t, meta


@case(401)
def case_batch_norm_train():
    return batch_norm_case(True)


@case(402)
def case_batch_norm_eval():
    return batch_norm_case(False)


# ---------------------------------------------------------------- pooling neuron pieces

def binary_mask(shape, min_ones, min_zeros):
    while True:
        m = (torch.rand(*shape) < 0.5).float()
        per = m.flatten(1).sum(1)
        if (per >= min_ones).all() and (m[0].numel() - per >= min_zeros).all():
            return m


def masked_mean(a, m):
    return (a * m).sum((1, 2, 3)) / m.sum((1, 2, 3))


@case(501)
def case_masked_mean():
    a = leaf(torch.sigmoid(torch.randn(3, 1, 5, 5)))
    m = binary_mask((3, 1, 5, 5), 3, 3)
    y = masked_mean(a, m)
    gy = torch.randn_like(y)
    (da,) = grads_of(y, gy, a)
    meta = {"op": "masked_mean", "note": "y = (a*m).sum((1,2,3)) / m.sum((1,2,3))"}
    return {"a": a, "m": m, "y": y, "gy": gy, "da": da}, meta


# ---------------------------------------------------------------- tiny U-Net

class Block(nn.Module):
    def __init__(self, cin, cout, n):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        if n == 2:
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)

    def forward(self, x):
        x = F.softplus(self.conv1(x))
        if hasattr(self, "conv2"):
            x = F.softplus(self.conv2(x))
        return x


class TinyUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down0 = Block(3, 4, 2)
        self.down1 = Block(4, 8, 1)
        self.up0 = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.up0conv = Block(8, 4, 1)
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        s = self.down0(x)
        d = self.down1(F.max_pool2d(s, 2))
        u = self.up0(d)
        u = self.up0conv(torch.cat([s, u], 1))
        return torch.sigmoid(self.head(u))


@case(601)
def case_unet_block():
    net = TinyUNet()
    x = leaf(torch.randn(2, 3, 8, 8))
    m = binary_mask((2, 1, 8, 8), 10, 0)
    t = torch.tensor([1.0, 0.0])
    a = net(x)
    p = masked_mean(a, m)
    o = 0.1 * (2 * torch.sigmoid(5 * p / 0.1) - 1) + 0.001 * p
    loss = (o - 0.1 * t).abs().sum().reshape(1)
    names = [n for n, _ in net.named_parameters()]
    params = [q for _, q in net.named_parameters()]
    g = torch.autograd.grad(loss.sum(), [x] + params)
    tensors = {"x": x, "m": m, "t": t, "a": a, "p": p, "o": o, "loss": loss, "grad.x": g[0]}
    for n, q, dq in zip(names, params, g[1:]):
        tensors[n] = q
        tensors["grad." + n] = dq
    meta = {"op": "unet_block",
            "net": "down0.conv1 Conv2d(3,4,3,p1) softplus, down0.conv2 Conv2d(4,4,3,p1) softplus = s; "
                   "max_pool2d 2; down1.conv1 Conv2d(4,8,3,p1) softplus; up0 ConvTranspose2d(8,4,2,s2); "
                   "cat([s,up],1); up0conv.conv1 Conv2d(8,4,3,p1) softplus; head Conv2d(4,1,1) sigmoid = a",
            "pooling": "p = (a*m).sum((1,2,3)) / m.sum((1,2,3))",
            "activation": "o = alpha*(2*sigmoid(beta*p/alpha)-1) + gamma*p",
            "alpha": "0.1", "beta": "5", "gamma": "0.001",
            "loss": "sum |o - 0.1*t|", "target_scale": "0.1",
            "parameters": ",".join(names)}
    return tensors, meta


# ---------------------------------------------------------------- optimizers

def optimizer_case(make, meta):
    w = torch.randn(10)
    gs = [torch.randn(10) for _ in range(3)]
    param = nn.Parameter(w.clone())
    opt = make([param])
    t = {"w": w, "g1": gs[0], "g2": gs[1], "g3": gs[2]}
    for i, g in enumerate(gs, 1):
        param.grad = g.clone()
        opt.step()
        t[f"w{i}"] = param.detach().clone()
    return t, {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in meta.items()}


@case(701)
def case_rmsprop_plain():
    hp = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False)
    return optimizer_case(lambda ps: torch.optim.RMSprop(ps, foreach=False, **hp), {"op": "rmsprop", **hp})


@case(702)
def case_rmsprop_momentum_centered():
    hp = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=1e-2, momentum=0.9, centered=True)
    return optimizer_case(lambda ps: torch.optim.RMSprop(ps, foreach=False, **hp), {"op": "rmsprop", **hp})


def adam_meta(lr, b1, b2, eps, wd):
    return {"op": "adam", "lr": lr, "beta1": b1, "beta2": b2, "eps": eps, "weight_decay": wd,
            "amsgrad": False, "decoupled_weight_decay": False}


@case(703)
def case_adam():
    return optimizer_case(
        lambda ps: torch.optim.Adam(ps, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, foreach=False),
        adam_meta(1e-2, 0.9, 0.999, 1e-8, 0.0))


@case(704)
def case_adam_wd():
    return optimizer_case(
        lambda ps: torch.optim.Adam(ps, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, foreach=False),
        adam_meta(1e-2, 0.9, 0.999, 1e-8, 1e-2))


@case(705)
def case_sgd_momentum():
    hp = dict(lr=1e-1, momentum=0.9, weight_decay=1e-2, dampening=0.0, nesterov=False)
    return optimizer_case(lambda ps: torch.optim.SGD(ps, foreach=False, **hp), {"op": "sgd", **hp})


# ---------------------------------------------------------------- main

def sort_metadata_in_place(path):
    """safetensors writes the metadata keys in hash order, so two runs give different bytes.
    Rewrites the header with the metadata keys sorted (same length, same tensors), so that
    re-running the script leaves the committed files unchanged."""
    with open(path, "r+b") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        raw = f.read(n)
        header = json.loads(raw)
        header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
        text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
        text += b" " * (n - len(text))
        assert len(text) == n, path
        f.seek(8)
        f.write(text)


def main():
    """Writes every case, or only those named on the command line."""
    wanted = set(sys.argv[1:])
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    os.makedirs(OUT, exist_ok=True)
    total = written = 0
    for name, seed, fn in CASES:
        if wanted and name not in wanted:
            continue
        torch.manual_seed(seed)
        tensors, meta = fn()
        # clone: autograd may hand back one tensor for two gradients (add), which safetensors refuses
        tensors = {k: v.detach().to(torch.float32).contiguous().clone() for k, v in tensors.items()}
        meta = {**meta, "case": name, "seed": str(seed), "torch_version": torch.__version__}
        path = os.path.join(OUT, name + ".safetensors")
        save_file(tensors, path, metadata=meta)
        sort_metadata_in_place(path)
        os.chmod(path, 0o644)  # safetensors creates files 0600
        back = load_file(path)
        assert back.keys() == tensors.keys()
        for k, v in tensors.items():
            assert back[k].dtype == torch.float32 and torch.equal(back[k], v), (name, k)
        size = os.path.getsize(path)
        total += size
        written += 1
        shapes = " ".join(f"{k}{list(v.shape)}" for k, v in tensors.items())
        print(f"{name:30s} {size:6d} B  {shapes}")
    print(f"total: {total} bytes ({total / 1024:.1f} KiB) in {written} files, torch {torch.__version__}")


if __name__ == "__main__":
    sys.exit(main())
