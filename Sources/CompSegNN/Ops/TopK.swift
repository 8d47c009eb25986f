/// The mean of each image's k largest activations among its masked (tissue) pixels, with
/// k = ⌈fraction · (number of mask pixels)⌉ and at least 1. N×C×H×W activation and mask
/// (1 tissue, 0 background; a pixel is in the mask when its value is > 0) → N.
///
/// Ties are broken by the lower plain (row-major) index, so the chosen pixels, and the result,
/// are deterministic. A product fraction · count within a relative 1e-6 of an integer counts as
/// that integer: Float's 0.1 lies slightly above one tenth, yet 0.1 of 10 pixels is 1 pixel.
/// The gradient is dy/k on the chosen pixels and 0 elsewhere (as for a max, the selection is
/// held fixed).
/// - Throws: when shapes differ, `fraction` is outside (0, 1], or an image's mask is empty
///   (naming the image's index).
public func maskedTopKMean(_ a: Tensor, mask: Tensor, fraction: Float) throws -> Tensor {
    let op = "maskedTopKMean"
    try a.shape.requireImage(op)
    try require(a.shape == mask.shape, op, "activation \(a.shape) and mask \(mask.shape) differ")
    try require(fraction > 0 && fraction <= 1, op, "fraction must lie in (0, 1], got \(fraction)")
    let (n, pixels) = (a.shape.n, a.shape.count / a.shape.n)
    let m = mask.plain()
    let av = a.plain()
    // The chosen plain indices of each image.
    let chosen: [[Int]] = try (0..<n).map { i in
        let range = (i * pixels)..<((i + 1) * pixels)
        let candidates: [Int] = m.withPlainBuffer { mb in range.filter { mb[$0] > 0 } }
        if candidates.isEmpty {
            throw ShapeError(op, "mask of image \(i) is empty: no pixel to take the largest values of")
        }
        let k = topCount(fraction: fraction, of: candidates.count)
        return av.withPlainBuffer { ab in
            Array(candidates.sorted { ab[$0] > ab[$1] || (ab[$0] == ab[$1] && $0 < $1) }.prefix(k))
        }
    }
    let means: [Float] = av.withPlainBuffer { ab in
        chosen.map { indices in
            Float(indices.reduce(0.0) { $0 + Double(ab[$1]) } / Double(indices.count))
        }
    }
    let y = try Tensor(shape: [n], scalars: means)
    return record(op, [a], y) { dy in
        let g = dy.scalars
        let da = Tensor(zeros: a.shape)
        da.withMutablePlainBuffer { d in
            for (i, indices) in chosen.enumerated() {
                let w = g[i] / Float(indices.count)
                for j in indices { d[j] = w }
            }
        }
        return [da]
    }
}

/// ⌈fraction · count⌉, at least 1 and at most count; products within a relative 1e-6 of an
/// integer count as that integer (Float's representation error of the fraction is ~6e-8).
func topCount(fraction: Float, of count: Int) -> Int {
    let x = Double(fraction) * Double(count)
    let nearest = x.rounded()
    let k = Swift.abs(x - nearest) <= 1e-6 * Swift.max(1, x) ? nearest : x.rounded(.up)
    return Swift.min(count, Swift.max(1, Int(k)))
}
