/// Applies an elementwise function, tracking it for autodiff.
func eltwise(_ x: Tensor, _ function: Eltwise, _ op: String) throws -> Tensor {
    try require(x.shape.count > 0, op, "input is empty (\(x.shape))")
    let backend = Backend.current
    let y = try backend.eltwiseForward(x, function)
    let value = function.usesOutputForBackward ? y.detached() : x  // detached: no cycle through y
    return record(op, [x], y) { dy in [try backend.eltwiseBackward(dy, value: value, function)] }
}

/// max(x, 0), elementwise.
public func relu(_ x: Tensor) throws -> Tensor { try eltwise(x, .relu, "relu") }
/// log(1 + eˣ), elementwise (the paper's activation).
public func softplus(_ x: Tensor) throws -> Tensor { try eltwise(x, .softplus, "softplus") }
/// 1 / (1 + e⁻ˣ), elementwise.
public func sigmoid(_ x: Tensor) throws -> Tensor { try eltwise(x, .sigmoid, "sigmoid") }
/// |x|, elementwise (L1 losses; the gradient at 0 is taken as 0).
public func abs(_ x: Tensor) throws -> Tensor { try eltwise(x, .abs, "abs") }
/// eˣ, elementwise.
public func exp(_ x: Tensor) throws -> Tensor { try eltwise(x, .exp, "exp") }
/// ln x, elementwise (x > 0; clip first where x may reach 0).
public func log(_ x: Tensor) throws -> Tensor { try eltwise(x, .log, "log") }
/// x², elementwise.
public func square(_ x: Tensor) throws -> Tensor { try eltwise(x, .square, "square") }
/// min(max(x, lower), upper), elementwise; gradient 1 inside (lower, upper), 0 outside.
public func clip(_ x: Tensor, lower: Float, upper: Float) throws -> Tensor {
    try require(lower <= upper, "clip", "lower bound \(lower) exceeds upper bound \(upper)")
    return try eltwise(x, .clip(lower: lower, upper: upper), "clip")
}
/// factor · x.
public func scale(_ x: Tensor, by factor: Float) throws -> Tensor {
    try eltwise(x, .linear(alpha: factor, beta: 0), "scale")
}
/// factor · x + offset, elementwise.
public func affine(_ x: Tensor, scale factor: Float, offset: Float) throws -> Tensor {
    try eltwise(x, .linear(alpha: factor, beta: offset), "affine")
}

/// a + b elementwise (same shapes).
public func add(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try require(a.shape == b.shape, "add", "shapes differ: \(a.shape) and \(b.shape)")
    let y = try Backend.current.binary(.add, a, b)
    return record("add", [a, b], y) { dy in [dy, dy] }
}

/// a · b elementwise (same shapes).
public func multiply(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try require(a.shape == b.shape, "multiply", "shapes differ: \(a.shape) and \(b.shape)")
    let backend = Backend.current
    let y = try backend.binary(.multiply, a, b)
    return record("multiply", [a, b], y) { dy in
        [a.requiresGrad ? try backend.binary(.multiply, dy, b) : nil,
         b.requiresGrad ? try backend.binary(.multiply, dy, a) : nil]
    }
}
