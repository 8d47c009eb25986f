/// Concatenation along the channel axis: N×C₁×H×W, N×C₂×H×W, … → N×(C₁+C₂+…)×H×W
/// (U-Net's skip connections).
public func concat(_ xs: [Tensor]) throws -> Tensor {
    let op = "concat"
    try require(!xs.isEmpty, op, "needs at least one tensor")
    for x in xs { try x.shape.requireImage(op) }
    let first = xs[0].shape
    for x in xs.dropFirst() {
        try require(x.shape.n == first.n && x.shape.h == first.h && x.shape.w == first.w, op,
                    "shapes \(xs.map(\.shape.description).joined(separator: ", ")) differ outside the channel axis")
    }
    let backend = Backend.current
    let y = try backend.concat(xs, axis: 1)
    return record(op, xs, y) { dy in
        var start = 0
        return try xs.map { x in
            defer { start += x.shape.c }
            return x.requiresGrad ? try backend.slice(dy, axis: 1, range: start..<(start + x.shape.c)) : nil
        }
    }
}
