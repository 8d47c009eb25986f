/// Where each window's maximum was, kept by `maxPool2d` for its backward and for `maxUnpool2d`.
public final class PoolIndices: @unchecked Sendable {
    let workspace: PoolingWorkspace
    /// The pooled tensor's input shape (N×C×H×W), which unpooling restores.
    public let inputShape: Shape
    let geometry: PoolingGeometry
    init(workspace: PoolingWorkspace, inputShape: Shape, geometry: PoolingGeometry) {
        self.workspace = workspace; self.inputShape = inputShape; self.geometry = geometry
    }
}

/// Max pooling with a k×k window and stride k, N×C×H×W → N×C×⌊H/k⌋×⌊W/k⌋
/// (a trailing row or column that fills no window is dropped).
/// - Parameter keepIndices: also return the argmax (SegNet's decoder needs it for unpooling).
/// - Returns: the pooled tensor, and its indices when asked for or when gradients are tracked.
public func maxPool2d(_ x: Tensor, kernel: Int = 2, keepIndices: Bool = false) throws -> (output: Tensor, indices: PoolIndices?) {
    let op = "maxPool2d"
    try x.shape.requireImage(op)
    try require(kernel > 0 && x.shape.h >= kernel && x.shape.w >= kernel, op,
                "input \(x.shape) is smaller than the \(kernel)×\(kernel) window")
    let geometry = PoolingGeometry(kernel: kernel, kind: .max)
    let tracked = GradientMode.isEnabled && x.requiresGrad
    let backend = Backend.current
    let (y, workspace) = try backend.poolingForward(x, geometry: geometry, training: tracked || keepIndices)
    let indices = workspace.map { PoolIndices(workspace: $0, inputShape: x.shape, geometry: geometry) }
    record(op, [x], y) { dy in
        [try backend.poolingBackward(dy, workspace: workspace, inputShape: x.shape, geometry: geometry)]
    }
    return (y, indices)
}

/// Max unpooling: places each value of `x` where its window's maximum was in the pooled input,
/// zeros elsewhere; N×C×h×w → the pooled input's shape N×C×H×W.
/// - Throws: when `x` does not have the pooled output's shape.
public func maxUnpool2d(_ x: Tensor, indices: PoolIndices) throws -> Tensor {
    let op = "maxUnpool2d"
    let g = indices.geometry, s = indices.inputShape
    let expected: Shape = [s.n, s.c, g.outputSize(s.h), g.outputSize(s.w)]
    try require(x.shape == expected, op, "input \(x.shape) differs from the pooled shape \(expected) of these indices")
    let backend = Backend.current
    // Scattering to the argmax is exactly max pooling's backward.
    let y = try backend.poolingBackward(x, workspace: indices.workspace, inputShape: s, geometry: g)
    return record(op, [x], y) { dy in
        // Gathering from the argmax: mask dy to the argmax positions, then sum each window
        // (average pooling times the window's area).
        let argmax = try backend.poolingBackward(Tensor(repeating: 1, shape: expected), workspace: indices.workspace,
                                                 inputShape: s, geometry: g)
        let masked = try backend.binary(.multiply, dy.matching(argmax.layout), argmax)
        let average = PoolingGeometry(kernel: g.kernel, stride: g.stride, kind: .average)
        let (mean, _) = try backend.poolingForward(masked, geometry: average, training: false)
        return [try backend.eltwiseForward(mean, .linear(alpha: Float(g.kernel * g.kernel), beta: 0))]
    }
}
