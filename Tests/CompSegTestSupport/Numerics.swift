import CompSegNN

/// Whether `a` agrees with `reference` (same shape, scale-relative error ≤ tolerance); a message otherwise.
public func agreement(_ a: Tensor, _ reference: Tensor, tolerance: Float, _ what: String) -> String? {
    guard a.shape == reference.shape else { return "\(what): shape \(a.shape), expected \(reference.shape)" }
    let (e, i) = relativeError(a.scalars, reference.scalars)
    return e <= tolerance ? nil
        : "\(what): relative error \(e) > \(tolerance) at \(i) (\(a.scalars[i]) vs \(reference.scalars[i]))"
}

/// A deterministic tensor of normal values.
public func randomTensor(_ shape: Shape, seed: UInt64, scale: Float = 1, requiresGrad: Bool = false) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return try! Tensor(shape: shape, scalars: (0..<shape.count).map { _ in g.nextNormal() * scale },
                       requiresGrad: requiresGrad)
}
