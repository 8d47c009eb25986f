/// Updates parameters from their gradients. Subclasses implement the per-parameter rule; the
/// base keeps each parameter's state and applies weight decay (L2, added to the gradient, as
/// PyTorch's RMSprop, Adam and SGD do).
open class Optimizer: @unchecked Sendable {
    public var learningRate: Float
    public let weightDecay: Float
    /// One parameter's state: `stateWidth` planes and the number of updates it has had.
    /// A reference, so a step updates it in place (an array in the dictionary would be copied).
    private final class State {
        var values: [Float]
        var updates = 0
        init(count: Int) { values = [Float](repeating: 0, count: count) }
    }
    private var states: [ObjectIdentifier: State] = [:]
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
            let state = states[ObjectIdentifier(p)] ?? State(count: stateWidth * count)
            states[ObjectIdentifier(p)] = state
            state.updates += 1
            let step = state.updates
            p.withMutablePlainBuffer { value in
                g.withPlainBuffer { gradient in
                    state.values.withUnsafeMutableBufferPointer { s in
                        let access = DisjointAccess((self, value, gradient, s))
                        parallelChunks(count) { range in
                            let (optimizer, value, gradient, s) = access.value
                            optimizer.update(value: value, gradient: gradient, state: s, count: count, step: step,
                                             range: range)
                        }
                    }
                }
            }
        }
    }

    /// The per-parameter state by parameter name (a stateWidth×count tensor each), and how many
    /// updates each has had: what a checkpoint needs to continue exactly.
    public func exportState(_ parameters: [(String, Tensor)]) -> (tensors: [String: Tensor], updates: [String: Int]) {
        var tensors: [String: Tensor] = [:], updates: [String: Int] = [:]
        for (name, p) in parameters {
            guard let state = states[ObjectIdentifier(p)] else { continue }
            if stateWidth > 0 {
                tensors[name] = try? Tensor(shape: [stateWidth, p.shape.count], scalars: state.values)
            }
            updates[name] = state.updates
        }
        return (tensors, updates)
    }

    /// Forgets every parameter's state, as if no step had been taken.
    public func resetState() { states = [:] }

    /// Restores what `exportState` gave, for the same parameters by name.
    /// - Throws: `ShapeError` when a state's shape does not fit its parameter.
    public func importState(_ parameters: [(String, Tensor)], tensors: [String: Tensor], updates: [String: Int]) throws {
        for (name, p) in parameters {
            guard let count = updates[name] else { continue }
            let state = State(count: stateWidth * p.shape.count)
            if stateWidth > 0 {
                guard let t = tensors[name], t.shape == [stateWidth, p.shape.count] else {
                    throw ShapeError("optimizer state", "\(name): expected state \(stateWidth)×\(p.shape.count), "
                                     + "got \(tensors[name].map { $0.shape.description } ?? "none")")
                }
                state.values = t.scalars
            }
            state.updates = count
            states[ObjectIdentifier(p)] = state
        }
    }

    /// The gradient with weight decay: g + λ·p.
    @inline(__always) public func decayed(_ g: Float, _ p: Float) -> Float { weightDecay == 0 ? g : g + weightDecay * p }

    /// The rule: updates the elements in `range` of `value` in place from `gradient`; `state` holds
    /// `stateWidth` planes of `count` (element i of plane k at k·count + i); `step` counts this
    /// parameter's updates from 1. Called concurrently for disjoint ranges.
    open func update(value: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                     state: UnsafeMutableBufferPointer<Float>, count: Int, step: Int, range: Range<Int>) {
        fatalError("Optimizer subclasses implement update(value:gradient:state:count:step:range:)")
    }
}
