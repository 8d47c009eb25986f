#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/TARGET/ from the committed test fixtures (and a few
hand-written inputs), in the input format of each target (see the comment at the top of
fuzz/TARGET.swift). Run from anywhere: python3 fuzz/make_corpus.py. Small files only."""
import glob, json, os, shutil, struct, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Tests", "Fixtures")
OUT = os.path.join(ROOT, "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def read(*parts):
    with open(os.path.join(FIX, *parts), "rb") as f:
        return f.read()


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    # manifest: the CSV dataset manifest (a.h5, b.h5 and m.png exist beside it).
    put("manifest", "basic.csv", "path,label,split\na.h5,1,train\nb.h5,0,val\n")
    put("manifest", "columns.csv", "path,label,split,mask,truth\na.h5,cancer,train,m.png,m.png\nb.h5,cancer-free,test,,\n")
    put("manifest", "quoted.csv", 'path,label,split\r\n"a.h5",1,"train"\r\n"b,""x"".h5",0,test\r\n')
    put("manifest", "problems.csv", "Path , LABEL,split,extra\nmissing.h5,2,holdout\n,,\n/abs/x.h5,1\n")
    put("manifest", "bom.csv", "\ufeffpath,label,split\na.h5,1,train\n")
    put("manifest", "unclosed.csv", 'path,label,split\n"a.h5,1,train\n')
    # envi: header, NUL, data.
    for hdr in sorted(glob.glob(os.path.join(FIX, "instruments", "envi", "*.hdr"))):
        stem = hdr[:-4]
        data = next((stem + e for e in ("", ".img", ".dat", ".raw", ".bsq", ".bil", ".bip", ".seq")
                     if os.path.isfile(stem + e) and not (stem + e).endswith(".hdr")), None)
        if data is None:
            continue
        with open(hdr, "rb") as h, open(data, "rb") as d:
            put("envi", os.path.basename(stem), h.read() + b"\0" + d.read())
    # wire: whole .wdf files.
    for f in sorted(glob.glob(os.path.join(FIX, "instruments", "wire", "*.wdf"))):
        with open(f, "rb") as h:
            put("wire", os.path.basename(f), h.read())
    # spc: whole .spc files.
    for f in sorted(glob.glob(os.path.join(FIX, "instruments", "spc", "*.spc"))):
        with open(f, "rb") as h:
            put("spc", os.path.basename(f), h.read())
    # fsm: whole .fsm files.
    for f in sorted(glob.glob(os.path.join(FIX, "instruments", "fsm", "*.fsm"))):
        with open(f, "rb") as h:
            put("fsm", os.path.basename(f), h.read())
    # geojson: whole files (compseg's own masks and hand-drawn annotations).
    for f in sorted(glob.glob(os.path.join(FIX, "geojson", "*.geojson")) + glob.glob(os.path.join(FIX, "masks", "*.geojson"))):
        with open(f, "rb") as h:
            put("geojson", os.path.basename(f), h.read())
    # agilent: control byte, 24 axis bytes (bytes 2216…2239 of the .bsp/.dmt), spectra.
    ag = os.path.join("instruments", "agilent")
    axis = read(ag, "4_noimage_agg256.bsp")[2216:2240]
    dat = read(ag, "4_noimage_agg256.dat")
    put("agilent", "tile-dat", bytes([0]) + axis + dat)
    put("agilent", "tile-bsp", bytes([1]) + axis + dat)
    maxis = read(ag, "5_mosaic_agg1024.dmt")[2216:2240]
    t00, t01 = read(ag, "5_Mosaic_agg1024_0000_0000.dmd"), read(ag, "5_Mosaic_agg1024_0000_0001.dmd")
    put("agilent", "mosaic-2", bytes([2 | 1 << 2 | 1 << 4]) + maxis + t00 + t01)  # (0,0) (0,1)
    put("agilent", "mosaic-2-dmd", bytes([3 | 1 << 2 | 1 << 4]) + maxis + t00 + t01)
    p = os.path.join(ag, "partial")
    put("agilent", "mosaic-3", bytes([2 | 1 << 2 | 1 << 3 | 1 << 4]) + read(p, "5_mosaic_agg1024.dmt")[2216:2240]
        + read(p, "5_Mosaic_agg1024_0000_0000.dmd") + read(p, "5_Mosaic_agg1024_0001_0000.dmd")
        + read(p, "5_Mosaic_agg1024_0000_0001.dmd"))
    # textmap: whole text files.
    for f in sorted(glob.glob(os.path.join(FIX, "instruments", "text", "*"))):
        with open(f, "rb") as h:
            put("textmap", os.path.basename(f), h.read())
    # numpy: control byte (odd: with the axis file), axis length (2 bytes, little-endian), axis, array.
    npy = os.path.join("instruments", "numpy")
    for name, axis in [("cube-f4", "cube-f4_wavenumbers.npy"), ("cube-i2-v2", "cube-i2-v2_wavenumbers.npy"),
                       ("shared/fortran-f8be", "shared/wavenumbers.npy"), ("plain/image-u1", None)]:
        a = read(npy, axis) if axis else b""
        put("numpy", name.replace("/", "-"), bytes([1 if axis else 0]) + struct.pack("<H", len(a)) + a + read(npy, name + ".npy"))
    # safetensors: the fixtures of at most 4 KiB.
    for f in sorted(glob.glob(os.path.join(FIX, "torch", "*.safetensors"))):
        if os.path.getsize(f) <= 4096:
            with open(f, "rb") as h:
                put("safetensors", os.path.basename(f), h.read())
    header = json.dumps({"__metadata__": {"k": "v"}, "w": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]},
                         "s": {"dtype": "F32", "shape": [], "data_offsets": [16, 20]}}).encode()
    put("safetensors", "f64-scalar.safetensors", struct.pack("<Q", len(header)) + header + struct.pack("<ddf", 1.5, -2, 3))
    # tiff, png: the io fixtures.
    for f in sorted(glob.glob(os.path.join(FIX, "io", "*.tif"))):
        with open(f, "rb") as h:
            put("tiff", os.path.basename(f), h.read())
    for f in sorted(glob.glob(os.path.join(FIX, "io", "*.png"))):
        with open(f, "rb") as h:
            put("png", os.path.basename(f), h.read())
    # raster: the raster fixtures of at most 6 KiB (TIFF and PNG; the readers sniff the format).
    for f in sorted(glob.glob(os.path.join(FIX, "raster", "*.tif")) + glob.glob(os.path.join(FIX, "raster", "*.png"))):
        if os.path.getsize(f) <= 6144:
            with open(f, "rb") as h:
                put("raster", os.path.basename(f), h.read())
    # config_json: model.json (current and legacy formats), settings and plugin configurations.
    training = {"balancedBatches": True, "batchSize": 7, "epochs": 3, "learningRate": 0.001, "minDelta": 0,
                "momentum": 0.9, "optimizer": "adam", "seed": 0, "warmupEpochs": 3, "weightDecay": 0}
    current = {"bestEpoch": 3, "format": 4, "head": {"configuration": {"alpha": 0.1}, "identifier": "compsegnet"},
               "inputChannels": 4, "modality": {"description": "d", "name": "infrared", "reader": "infrared",
               "options": {"format": "auto", "tissue": {"fillHolesSmallerThan": 64}}, "outside": "zero",
               "preprocessing": [{"identifier": "crop", "configuration": {"lower": 948, "upper": 1800}},
                                 {"identifier": "pca", "configuration": {"components": 2, "fit": {
                                     "mean": [0.5, 0.25], "components": [1, 0, 0, 1], "variances": [2, 1]}}}]},
               "topology": {"identifier": "unet", "configuration": {"depth": 2, "width": 4}},
               "training": training, "versions": {"compseg": "0.1.0"}}
    put("config_json", "model-v4.json", json.dumps(current, indent=1))
    legacy = dict(current, format=3, modality={"identifier": "infrared", "configuration": {}}, modalityName="infrared",
                  outside="zero", preprocessing=[])
    put("config_json", "model-v3.json", json.dumps(legacy))
    put("config_json", "model-v1.json", '{"modality":{"identifier":"infrared","configuration":"{}"},"topology":{"identifier":"unet","configuration":"{\\"width\\":8}"},"head":{"identifier":"compsegnet","configuration":"{}"},"inputChannels":3,"training":{},"versions":{}}')
    put("config_json", "model-v3-min.json", '{"format":3,"topology":{"identifier":"unet"},"head":{"identifier":"compsegnet"},"inputChannels":3,"training":{"epochs":5},"versions":{}}')
    put("config_json", "settings.json", json.dumps({"modality": "infrared", "epochs": 5, "lr": 0.01, "seed": 1,
        "optimizer": "sgd", "balancedBatches": False, "topologyConfiguration": {"width": 8, "depth": 2,
        "tissue": {"removeSpecksSmallerThan": 4}, "initializer": {"uniform": {"scale": 0.5}}}}))
    put("config_json", "plugin.json", '{"width": 8, "rate": 1e-3, "name": null, "initializer": {"torchDefault": {}}, "options": [1, "a", true, null, {"x": -0.5}]}')
    # config_yaml: modality manifests and settings files.
    for f in sorted(glob.glob(os.path.join(ROOT, "modalities", "*.yaml"))):
        with open(f, "rb") as h:
            put("config_yaml", os.path.basename(f), h.read())
    put("config_yaml", "manifest-bhw.yaml", "reader: infrared\noptions: {layout: bhw, mask: null}\npreprocessing:\n"
        "  - crop: {lower: 950, upper: 1800}\n  - rubberBand\n  - normalize: {method: band, wavenumber: 1655}\n  - pca: {components: 16}\n")
    put("config_yaml", "settings.yaml", "modality: infrared\ndata: manifest.csv\nout: run\nepochs: 40\nbatch: 7\nlr: 1.0e-3\n"
        "optimizer: rmsprop\nbalancedBatches: false\nseed: 42\ntopologyConfiguration:\n  width: 16\n  depth: 3\n"
        "modalityConfiguration: {layout: flat, height: /data/ypixels, width: /data/xpixels}\n")
    put("config_yaml", "anchors.yaml", "base: &b {width: 8, depth: 2}\ntopologyConfiguration: *b\nheadConfiguration:\n  <<: *b\n  alpha: 0.1\n")
    put("config_yaml", "settings.json", json.dumps({"modality": "raman", "epochs": 2, "warmup": 0, "cacheMb": 64}))
    # hdf5_layout: see fuzz/hdf5_layout.swift for the input format.
    for name, data in hdf5_layout_seeds():
        put("hdf5_layout", name, data)
    total = sum(os.path.getsize(f) for f in glob.glob(os.path.join(OUT, "*", "*")))
    print(f"wrote {len(glob.glob(os.path.join(OUT, '*', '*')))} seeds, {total // 1024} KiB, under {OUT}")


def hdf5_layout_seeds():
    """Files like the infrared fixtures, in fuzz/hdf5_layout.swift's input format."""
    F32, F64, U8, I32, I64, U16, BOOL, STR = range(8)

    def ds(type, dims, declared=False):
        head = 1 | type << 1 | (16 if declared else 0) | len(dims) << 5
        return bytes([head]) + b"".join(struct.pack("<Q", d) if declared else bytes([d]) for d in dims)

    def opts(layout, mask=0, zero=0, slab=2):
        return bytes([layout | mask << 2 | zero << 4 | slab << 5])

    def f32(n, start=1.0):
        return struct.pack(f"<{n}f", *[start + i * 0.5 for i in range(n)])

    def f64(values):
        return struct.pack(f"<{len(values)}d", *values)

    wn = [1000.0 + 50 * i for i in range(6)]
    mask = bytes([1, 0] * 10)
    seeds = [
        ("hwb", opts(0) + b"\0" + ds(F32, [4, 5, 6]) + ds(F64, [6]) + ds(BOOL, [4, 5]) + b"\0" * 2 + f32(120) + f64(wn) + mask),
        ("bhw-nomask", opts(1, mask=1, slab=3) + b"\0" + ds(F32, [6, 4, 5]) + ds(F64, [6]) + b"\0" * 3 + f32(120) + f64(wn)),
        ("matlab-u8", opts(3, slab=1) + b"\0" + ds(U16, [6, 5, 4]) + ds(F32, [1, 6]) + ds(U8, [5, 4]) + b"\0" * 2
         + bytes(range(240)) + struct.pack("<6f", *wn) + mask),
        ("flat-datasets", opts(2, mask=2, slab=4) + b"\0" + ds(F32, [20, 6]) + ds(F64, [6]) + ds(U8, [20])
         + ds(F32, [1]) + ds(I64, []) + f32(120) + f64(wn) + mask + struct.pack("<f", 4) + struct.pack("<q", 5)),
        ("flat-attributes", opts(2, slab=5) + b"\1" + ds(F32, [20, 6]) + ds(F64, [6]) + b"\0" + f32(120) + f64(wn)
         + bytes([0]) + struct.pack("<q", 4) + bytes([0]) + struct.pack("<q", 5)),
        ("flat-attributes-on-spectra", opts(2, mask=1, zero=1, slab=6) + b"\2" + ds(F32, [20, 6]) + ds(F64, [6]) + b"\0"
         + f32(120) + f64(wn) + bytes([0]) + struct.pack("<q", 5) + bytes([0]) + struct.pack("<q", 4)),
        ("declared-unwritten", opts(0, slab=3) + b"\0" + ds(F32, [4, 5, 6], declared=True) + ds(F64, [6]) + b"\0" * 3
         + f64(wn)),
        ("nan-zero", opts(0, mask=1, zero=1, slab=7) + b"\0" + ds(F32, [2, 2, 3]) + ds(F64, [3]) + b"\0" * 3
         + struct.pack("<12f", 1, float("nan"), 2, 3, float("inf"), 4, 5, 6, 7, 8, 9, 10) + f64([1, 2, 3])),
    ]
    return seeds


if __name__ == "__main__":
    sys.exit(main())
