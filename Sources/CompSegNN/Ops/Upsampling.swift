/// Nearest-neighbour 2× upsampling: each value becomes a 2×2 block, N×C×H×W → N×C×2H×2W
/// (PyTorch's `interpolate(scale_factor=2, mode="nearest")`). U-Net's `resize` decoder follows it
/// with a convolution, which avoids the checkerboard of a stride-2 transposed convolution.
///
/// The backward sums each 2×2 block of the output gradient into the value it was copied from.
public func upsampleNearest2x(_ x: Tensor) throws -> Tensor {
    let op = "upsampleNearest2x"
    try x.shape.requireImage(op)
    let (n, c, h, w) = (x.shape.n, x.shape.c, x.shape.h, x.shape.w)
    let (oh, ow) = (2 * h, 2 * w)
    let y = plainMap(x, to: [n, c, oh, ow]) { src, dst in
        for plane in 0..<(n * c) {
            for i in 0..<h {
                let s = (plane * h + i) * w, d = (plane * oh + 2 * i) * ow
                for j in 0..<w {
                    let v = src[s + j]
                    dst[d + 2 * j] = v; dst[d + 2 * j + 1] = v
                    dst[d + ow + 2 * j] = v; dst[d + ow + 2 * j + 1] = v
                }
            }
        }
    }
    return record(op, [x], y) { dy in
        [plainMap(dy, to: x.shape) { src, dst in
            for plane in 0..<(n * c) {
                for i in 0..<h {
                    let s = (plane * oh + 2 * i) * ow, d = (plane * h + i) * w
                    for j in 0..<w {
                        dst[d + j] = src[s + 2 * j] + src[s + 2 * j + 1] + src[s + ow + 2 * j] + src[s + ow + 2 * j + 1]
                    }
                }
            }
        }]
    }
}
