/// Updates parameters from their gradients. Subclasses implement the per-parameter rule; the
/// base keeps each parameter's state and applies weight decay (L2, added to the gradient, as
/// PyTorch's RMSprop, Adam and SGD do).
open class Optimizer: @unchecked Sendable {
    public var learningRate: Float
    public let weightDecay: Float
    /// Per-parameter state, by parameter identity.
    private var states: [ObjectIdentifier: [Float]] = [:]
    public private(set) var stepCount = 0

    public init(learningRate: Float, weightDecay: Float = 0) {
        precondition(learningRate >= 0, "learning rate must be non-negative, got \(learningRate)")
        precondition(weightDecay >= 0, "weight decay must be non-negative, got \(weightDecay)")
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }

    /// Floats of state per parameter element (e.g. 2 for Adam's two moments).
    open var stateWidth: Int { 0 }

    /// Applies one update to every parameter that has a gradient.
    public func step(_ parameters: [Tensor]) {
        stepCount += 1
        for p in parameters {
            guard let grad = p.grad else { continue }
            let g = grad.plain()
            let count = p.shape.count
            var state = states[ObjectIdentifier(p)] ?? [Float](repeating: 0, count: stateWidth * count)
            p.withMutablePlainBuffer { value in
                g.withPlainBuffer { gradient in
                    state.withUnsafeMutableBufferPointer { s in
                        update(value: value, gradient: gradient, state: s, count: count)
                    }
                }
            }
            states[ObjectIdentifier(p)] = state
        }
    }

    /// The gradient with weight decay: g + λ·p.
    @inline(__always) public func decayed(_ g: Float, _ p: Float) -> Float { weightDecay == 0 ? g : g + weightDecay * p }

    /// The rule: updates `value` in place from `gradient`; `state` holds `stateWidth` planes of `count`.
    open func update(value: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                     state: UnsafeMutableBufferPointer<Float>, count: Int) {
        fatalError("Optimizer subclasses implement update(value:gradient:state:count:)")
    }
}
