"""Loads a CompSeg run's weights.safetensors into ../shared/bench/torch_compsegnet.py's U-Net by name
(strict; with batch norm, each double convolution gains its two BatchNorm2d layers) and compares its
activation maps with those `compseg segment` wrote as float32 TIFF. Runs with `outside: zero` (the
default) see 0 outside the file's /mask, as compseg feeds them.

Usage (from the repository root, after `compseg segment --model RUN --data MANIFEST --out SEG`):
    $(../shared/bench/setup-torch.sh) tools/check_torch_load.py RUN MANIFEST SEG
Prints the largest absolute difference per sample and exits 1 when any exceeds 1e-4.
"""
import csv, json, os, sys
import h5py, numpy as np, tifffile, torch


def load_file(path):
    """A safetensors file as {name: tensor}: 8-byte little-endian header length, JSON header, then
    the raw data (F32 only, as compseg writes it); read here so the tool needs no extra package."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{name}: dtype {info['dtype']}, expected F32"
        start, end = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[start:end], dtype="<f4").copy().reshape(info["shape"]))
    return out


sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench"))
from torch_compsegnet import UNet  # noqa: E402

run, manifest, seg = sys.argv[1:4]
model = json.load(open(os.path.join(run, "model.json")))
topology = model["topology"]["configuration"]
if isinstance(topology, str):  # model.json before format 3 held the configuration as JSON text
    topology = json.loads(topology or "{}")
net = UNet(model["inputChannels"], topology.get("width", 64), topology.get("depth", 4))
# Runs written before model.json had a "format" used batch norm unless told otherwise.
if topology.get("batchNorm", "format" not in model):
    # compseg's batch-norm U-Net: each double convolution is Sequential(conv, bn, act, conv, bn, act).
    def with_batch_norm(block):
        first, second = block[0], block[2]
        return torch.nn.Sequential(first, torch.nn.BatchNorm2d(first.out_channels), torch.nn.Softplus(),
                                   second, torch.nn.BatchNorm2d(second.out_channels), torch.nn.Softplus())
    for blocks in (net.down, net.up):
        for i in range(len(blocks)):
            blocks[i] = with_batch_norm(blocks[i])
if topology.get("upsampling", "transposed") == "resize":
    # compseg's resize decoder: nearest ×2, then a same-padded 3×3 convolution (upconv.i.1).
    for i, t in enumerate(net.upconv):
        net.upconv[i] = torch.nn.Sequential(torch.nn.Upsample(scale_factor=2, mode="nearest"),
                                            torch.nn.Conv2d(t.in_channels, t.out_channels, 3, padding=1))
net.load_state_dict(load_file(os.path.join(run, "weights.safetensors")), strict=True)
net.eval()
worst = 0.0
for row in csv.DictReader(open(manifest)):
    path = os.path.join(os.path.dirname(manifest), row["path"])
    with h5py.File(path) as f:
        cube = f["/spectra"][...].astype(np.float32)
        # format 4 nests the modality; formats 2 and 3 held "outside" at the top level.
        if (model.get("modality") or {}).get("outside", model.get("outside")) == "zero":
            cube[~np.asarray(f["/mask"]).astype(bool)] = 0
    x = torch.from_numpy(np.ascontiguousarray(cube.transpose(2, 0, 1)))
    with torch.no_grad():
        a = net(x[None])[0, 0].numpy()
    ident = os.path.splitext(os.path.basename(path))[0]
    swift = tifffile.imread(os.path.join(seg, ident + "_map.tif")).astype(np.float32).squeeze()
    diff = float(np.abs(a - swift).max())
    worst = max(worst, diff)
    print(f"{ident}: max |torch - compseg| = {diff:.2e}")
print(f"largest difference {worst:.2e} (tolerance 1e-4)")
sys.exit(0 if worst <= 1e-4 else 1)
