/// The sum of all elements, as a tensor of shape 1.
public func sum(_ x: Tensor) throws -> Tensor {
    try require(x.shape.count > 0, "sum", "input is empty (\(x.shape))")
    return try reduceAll(x, "sum", factor: 1)
}

/// The mean of all elements, as a tensor of shape 1.
public func mean(_ x: Tensor) throws -> Tensor {
    try require(x.shape.count > 0, "mean", "input is empty (\(x.shape))")
    return try reduceAll(x, "mean", factor: 1 / Float(x.shape.count))
}

private func reduceAll(_ x: Tensor, _ op: String, factor: Float) throws -> Tensor {
    let total = x.plain().withPlainBuffer { v in v.reduce(0.0) { $0 + Double($1) } }
    let y = try Tensor(shape: [1], scalars: [Float(total) * Float(factor)])
    return record(op, [x], y) { dy in
        [Tensor(repeating: dy.scalars[0] * factor, shape: x.shape)]
    }
}

/// The mean of each image's activation over its masked (tissue) pixels: p_n = Σ m·a / Σ m.
/// N×1×H×W activation and mask (1 tissue, 0 background) → N.
/// - Throws: when shapes differ, or an image's mask is empty (naming the image's index).
public func maskedMean(_ a: Tensor, mask: Tensor) throws -> Tensor {
    let op = "maskedMean"
    try a.shape.requireImage(op)
    try require(a.shape == mask.shape, op, "activation \(a.shape) and mask \(mask.shape) differ")
    let (n, pixels) = (a.shape.n, a.shape.count / a.shape.n)
    let m = mask.plain()
    /// Throws for the first image whose mask holds no pixel.
    func requireTissue(_ totals: [Float]) throws {
        if let empty = totals.firstIndex(where: { !($0 > 0) }) {
            throw ShapeError(op, "mask of image \(empty) is empty: no pixel to average over")
        }
    }
    if let kernels = Backend.deviceKernels, let (means, totals) = try kernels.maskedMean(a.plain(), mask: m) {
        try requireTissue(totals.scalars)
        return record(op, [a], means) { dy in [try kernels.maskedMeanBackward(dy, mask: m, totals: totals)] }
    }
    let totals: [Float] = m.withPlainBuffer { mb in
        (0..<n).map { i in mb[(i * pixels)..<((i + 1) * pixels)].reduce(0, +) }
    }
    try requireTissue(totals)
    let means: [Float] = a.plain().withPlainBuffer { ab in
        m.withPlainBuffer { mb in
            (0..<n).map { i in
                var s: Double = 0
                for j in (i * pixels)..<((i + 1) * pixels) { s += Double(ab[j] * mb[j]) }
                return Float(s) / totals[i]
            }
        }
    }
    let y = try Tensor(shape: [n], scalars: means)
    return record(op, [a], y) { dy in
        let g = dy.scalars
        let da = Tensor(zeros: a.shape)
        m.withPlainBuffer { mb in
            da.withMutablePlainBuffer { d in
                for i in 0..<n {
                    let w = g[i] / totals[i]
                    for j in (i * pixels)..<((i + 1) * pixels) { d[j] = w * mb[j] }
                }
            }
        }
        return [da]
    }
}

/// The lowest and highest value of N×C×H×W `a` over the pixels where `mask` (same shape) is > 0,
/// over all images (+∞ and −∞ when the mask holds none); untracked. Where the backend holds the
/// tensors (a GPU) it is found there, and only two numbers per image reach the host.
/// - Throws: when the shapes differ or are not images.
public func maskedRange(_ a: Tensor, mask: Tensor) throws -> (lowest: Float, highest: Float) {
    let op = "maskedRange"
    try a.shape.requireImage(op)
    try require(a.shape == mask.shape, op, "activation \(a.shape) and mask \(mask.shape) differ")
    var lowest = Float.infinity, highest = -Float.infinity
    if let kernels = Backend.deviceKernels, let range = try kernels.maskedRange(a.plain(), mask: mask.plain()) {
        for (k, v) in range.scalars.enumerated() { if k % 2 == 0 { lowest = min(lowest, v) } else { highest = max(highest, v) } }
        return (lowest, highest)
    }
    a.withPlainBuffer { values in
        mask.withPlainBuffer { m in
            for i in values.indices where m[i] > 0 { lowest = min(lowest, values[i]); highest = max(highest, values[i]) }
        }
    }
    return (lowest, highest)
}
