/// One recorded op: its inputs and how to turn the gradient of its output into theirs.
final class GraphNode {
    let op: String
    let inputs: [Tensor]
    /// Given d(loss)/d(output), returns d(loss)/d(input) for each input (nil where not needed).
    let backward: (Tensor) throws -> [Tensor?]

    init(op: String, inputs: [Tensor], backward: @escaping (Tensor) throws -> [Tensor?]) {
        self.op = op
        self.inputs = inputs
        self.backward = backward
    }
}

/// Records `output` as made by `op` from `inputs` when any input is tracked; returns `output`.
/// `backward` is called only for recorded ops, with the output gradient in any layout.
@discardableResult
func record(_ op: String, _ inputs: [Tensor], _ output: Tensor,
            backward: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
    guard records(inputs) else { return output }
    output.requiresGrad = true
    output.creator = GraphNode(op: op, inputs: inputs, backward: backward)
    return output
}

/// Whether an op of `inputs` is recorded: gradients are on and an input is tracked.
func records(_ inputs: [Tensor]) -> Bool { GradientMode.isEnabled && inputs.contains(where: \.requiresGrad) }

/// Whether ops record the graph (on by default; off inside `withoutGradients`).
public enum GradientMode {
    @TaskLocal static var disabled = false
    public static var isEnabled: Bool { !disabled }
}

/// Runs `body` without recording any graph (inference: no activations kept for backward).
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradientMode.$disabled.withValue(true) { try body() }
}

extension Tensor {
    /// Reverse-mode differentiation: accumulates d(self)/d(leaf) into `grad` of every tracked leaf.
    ///
    /// `self` must hold one element (a loss) unless `seed`, the gradient of a downstream scalar with
    /// respect to `self`, is given. A tensor used by several ops receives the sum of their gradients.
    /// The graph is released afterwards, so each graph is differentiated once.
    /// - Throws: `ShapeError` when the seed's shape differs or an op's backward rejects its input.
    public func backward(seed: Tensor? = nil) throws {
        let op = "backward"
        try require(requiresGrad, op, "the tensor does not depend on any tensor with requiresGrad")
        let start: Tensor
        if let seed {
            try require(seed.shape == shape, op, "seed shape \(seed.shape) differs from tensor shape \(shape)")
            start = seed
        } else {
            try require(shape.count == 1, op, "needs a one-element tensor (a loss) or a seed; shape is \(shape)")
            start = Tensor(repeating: 1, shape: shape)
        }

        let order = topologicalOrder()
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): start]
        for tensor in order.reversed() {
            guard let g = grads.removeValue(forKey: ObjectIdentifier(tensor)) else { continue }
            guard let node = tensor.creator else {
                tensor.grad = try tensor.grad.map { try accumulate($0, g) } ?? g.matching(tensor.layout)
                continue
            }
            let inputGrads = try node.backward(g)
            for (input, ig) in zip(node.inputs, inputGrads) where input.requiresGrad {
                guard let ig else { continue }
                try require(ig.shape == input.shape, node.op,
                            "backward produced gradient \(ig.shape) for input \(input.shape)")
                let key = ObjectIdentifier(input)
                grads[key] = try grads[key].map { try accumulate($0, ig) } ?? ig
            }
        }
        for tensor in order { tensor.creator = nil }
    }

    /// Tensors reachable from self through recorded ops, inputs before the ops that use them.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited: Set<ObjectIdentifier> = []
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (tensor, expanded) = stack.popLast() {
            if expanded { order.append(tensor); continue }
            guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
            stack.append((tensor, true))
            for input in tensor.creator?.inputs ?? [] where input.requiresGrad
                && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }

    /// This tensor in `layout` (itself when already there).
    func matching(_ layout: TensorLayout?) -> Tensor { Backend.current.reorder(self, to: layout) }
}

/// a + b for gradients: no graph, result in a's layout.
private func accumulate(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try Backend.current.binary(.add, a, b.matching(a.layout))
}
