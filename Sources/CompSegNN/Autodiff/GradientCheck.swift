/// A check of gradients by finite differences, for anyone who writes an op, a layer, a topology
/// or a pooling head: the engine's own tests use them, and so can a lab's (docs/adding-a-head.md).

/// The largest |a − b| relative to the largest |b| (the reference), and where it happens.
/// A scale-relative measure: PyTorch's and oneDNN's float32 kernels sum in different orders, so
/// elements near zero differ by rounding of the large terms, not relative to themselves.
public func relativeError(_ a: [Float], _ reference: [Float]) -> (error: Float, index: Int) {
    precondition(a.count == reference.count, "sizes differ: \(a.count) and \(reference.count)")
    let scale = max(reference.map { Swift.abs($0) }.max() ?? 0, Float.leastNormalMagnitude)
    var worst: (Float, Int) = (0, 0)
    for i in a.indices {
        let e = Swift.abs(a[i] - reference[i]) / scale
        if e > worst.0 { worst = (e, i) }
    }
    return worst
}

/// Finite-difference check of every gradient of f(inputs) · w for a fixed random weighting w.
///
/// Central differences with step `step` in float32: the function values are O(10), so rounding
/// contributes about 1e-6·10/(2·step) ≈ 5e-4 at step 1e-2, and truncation O(step²) ≈ 1e-4; hence the
/// default tolerance 5e-3 on the scale-relative error of each input's gradient.
/// - Returns: the failures, one message per input; empty when all agree.
public func gradientCheck(_ inputs: [Tensor], step: Float = 1e-2, tolerance: Float = 5e-3,
                          _ f: ([Tensor]) throws -> Tensor) throws -> [String] {
    for x in inputs { x.requiresGrad = true; x.zeroGrad() }
    let y0 = try f(inputs)
    var generator = SeededGenerator(seed: 99)
    let weights = try Tensor(shape: y0.shape, scalars: (0..<y0.shape.count).map { _ in generator.nextNormal() })
    let objective = { (y: Tensor) throws -> Tensor in try sum(multiply(y, weights)) }
    try objective(y0).backward()

    var failures: [String] = []
    for (k, x) in inputs.enumerated() {
        guard let analytic = x.grad?.scalars else { failures.append("input \(k): no gradient"); continue }
        var numeric = [Float](repeating: 0, count: x.shape.count)
        let originals = x.scalars  // a trained weight lies in its kernel's layout
        for i in 0..<x.shape.count {
            let original = originals[i]
            func value(at v: Float) throws -> Double {
                x.withMutablePlainBuffer { $0[i] = v }
                return try withoutGradients { Double(try objective(f(inputs)).scalars[0]) }
            }
            let plus = try value(at: original + step), minus = try value(at: original - step)
            x.withMutablePlainBuffer { $0[i] = original }
            numeric[i] = Float((plus - minus) / Double(2 * step))
        }
        let (e, i) = relativeError(analytic, numeric)
        if e > tolerance {
            failures.append("input \(k) \(x.shape): relative error \(e) at \(i): analytic \(analytic[i]), numeric \(numeric[i])")
        }
    }
    return failures
}
