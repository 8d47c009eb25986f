/// A new zero-filled plain tensor of `shape`, written by `fill` from `x`'s values in plain
/// layout: the frame of ops whose forward or backward is a loop over plain memory.
func plainMap(_ x: Tensor, to shape: Shape,
              _ fill: (UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void) -> Tensor {
    let y = Tensor(zeros: shape)
    x.plain().withPlainBuffer { source in y.withMutablePlainBuffer { target in fill(source, target) } }
    return y
}

/// Reflection padding of H and W (the border row or column is not repeated, as PyTorch's
/// `reflect` mode): N×C×H×W → N×C×(top+H+bottom)×(left+W+right). Each pad must be < the size,
/// but along an axis one pixel long, which has nothing to reflect: its pixel is repeated (as
/// PyTorch's `replicate` mode), any number of times.
public func reflectPad(_ x: Tensor, top: Int, bottom: Int, left: Int, right: Int) throws -> Tensor {
    let op = "reflectPad"
    try x.shape.requireImage(op)
    let (n, c, h, w) = (x.shape.n, x.shape.c, x.shape.h, x.shape.w)
    try require([top, bottom, left, right].allSatisfy { $0 >= 0 } && (h == 1 || max(top, bottom) < h) && (w == 1 || max(left, right) < w), op,
                "pads (\(top), \(bottom), \(left), \(right)) must be non-negative and smaller than the input \(x.shape)")
    if top == 0 && bottom == 0 && left == 0 && right == 0 { return x }
    let (oh, ow) = (h + top + bottom, w + left + right)
    /// The source index of output index i along an axis of size `size` with leading pad `pad`.
    func source(_ i: Int, _ pad: Int, _ size: Int) -> Int {
        let j = i - pad
        return size == 1 ? 0 : j < 0 ? -j : (j >= size ? 2 * (size - 1) - j : j)
    }
    let rows = (0..<oh).map { source($0, top, h) }, cols = (0..<ow).map { source($0, left, w) }
    let y = plainMap(x, to: [n, c, oh, ow]) { src, dst in
        for plane in 0..<(n * c) {
            for i in 0..<oh {
                let s = plane * h * w + rows[i] * w, d = plane * oh * ow + i * ow
                for j in 0..<ow { dst[d + j] = src[s + cols[j]] }
            }
        }
    }
    return record(op, [x], y) { dy in
        [plainMap(dy, to: x.shape) { src, dst in
            for plane in 0..<(n * c) {
                for i in 0..<oh {
                    let s = plane * oh * ow + i * ow, d = plane * h * w + rows[i] * w
                    for j in 0..<ow { dst[d + cols[j]] += src[s + j] }
                }
            }
        }]
    }
}

/// The window of H×W starting at (top, left) of size height×width: N×C×H×W → N×C×height×width.
public func crop(_ x: Tensor, top: Int, left: Int, height: Int, width: Int) throws -> Tensor {
    let op = "crop"
    try x.shape.requireImage(op)
    try require(top >= 0 && left >= 0 && height > 0 && width > 0 && top + height <= x.shape.h && left + width <= x.shape.w,
                op, "window \(height)×\(width) at (\(top), \(left)) does not lie inside the input \(x.shape)")
    if top == 0 && left == 0 && height == x.shape.h && width == x.shape.w { return x }
    let backend = Backend.current
    let y = try backend.slice(backend.slice(x, axis: 2, range: top..<(top + height)), axis: 3, range: left..<(left + width))
    return record(op, [x], y) { dy in
        let (n, c, h, w) = (x.shape.n, x.shape.c, x.shape.h, x.shape.w)
        return [plainMap(dy, to: x.shape) { src, dst in
            for plane in 0..<(n * c) {
                for i in 0..<height {
                    let s = (plane * height + i) * width, d = plane * h * w + (top + i) * w + left
                    for j in 0..<width { dst[d + j] = src[s + j] }
                }
            }
        }]
    }
}

/// Runs `body` on `x` reflect-padded so H and W are multiples of 2^depth (what `depth` halvings
/// need), and crops its output back to x's H×W. Sizes that already fit pass through unchanged.
/// A pad wider than the image is reflected in rounds (each at most the size so far less one:
/// an 8×8 image reaches 32×32 as 8 → 22 → 32), the image mirrored again at the new edges. An
/// image one pixel high or wide has its row or column repeated (`reflectPad`).
public func withMultipleOfPowerOfTwo(_ x: Tensor, depth: Int, _ body: (Tensor) throws -> Tensor) throws -> Tensor {
    let m = 1 << depth
    let (h, w) = (x.shape.h, x.shape.w)
    let (padH, padW) = ((m - h % m) % m, (m - w % m) % m)
    if padH == 0 && padW == 0 { return try body(x) }
    var (top, bottom, left, right) = (padH / 2, padH - padH / 2, padW / 2, padW - padW / 2)
    var (padded, height, width) = (x, h, w)
    while top + bottom + left + right > 0 {
        // What one round can reflect: less than the size so far (all of it along an axis of one pixel).
        func most(_ size: Int) -> Int { size == 1 ? Int.max : size - 1 }
        let (t, b) = (min(top, most(height)), min(bottom, most(height))), (l, r) = (min(left, most(width)), min(right, most(width)))
        padded = try reflectPad(padded, top: t, bottom: b, left: l, right: r)
        (top, bottom, left, right) = (top - t, bottom - b, left - l, right - r)
        (height, width) = (height + t + b, width + l + r)
    }
    return try crop(body(padded), top: padH / 2, left: padW / 2, height: h, width: w)
}
