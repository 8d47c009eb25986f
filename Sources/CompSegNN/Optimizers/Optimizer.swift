/// Updates parameters from their gradients. Subclasses implement the per-parameter rule; the
/// base keeps each parameter's state and applies weight decay (L2, added to the gradient, as
/// PyTorch's RMSprop, Adam and SGD do).
open class Optimizer: @unchecked Sendable {
    public var learningRate: Float
    public let weightDecay: Float
    /// One parameter's state: `stateWidth` planes laid out as the parameter is (padding included),
    /// and the number of updates it has had. A reference, so a step updates it in place.
    private final class State {
        var values: [Float]
        /// The layout of each plane: the parameter's when the state was made or last moved.
        var layout: TensorLayout?
        var updates = 0
        init(count: Int, layout: TensorLayout?) {
            values = [Float](repeating: 0, count: count)
            self.layout = layout
        }

        /// Plane `k` as a tensor of `shape` (a copy), in the state's layout.
        func plane(_ k: Int, shape: Shape) -> Tensor {
            let n = layout?.physicalCount ?? shape.count
            let t = Tensor(shape: shape, layout: layout, storage: Storage(count: n, zeroed: false))
            values.withUnsafeBufferPointer { t.storage.base.update(from: $0.baseAddress! + k * n, count: n) }
            return t
        }

        /// The planes moved into `parameter`'s layout (it moved into its kernel's layout after the
        /// state was made, or the state was imported in plain order).
        func follow(_ parameter: Tensor, width: Int) {
            guard layout !== parameter.layout else { return }
            let planes = (0..<width).map { Backend.current.reorder(plane($0, shape: parameter.shape), to: parameter.layout) }
            values = planes.flatMap { p in p.withStorage { Array($0) } }
            layout = parameter.layout
        }
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

    /// Applies one update to every parameter that has a gradient. The update runs on the values as
    /// they lie in memory, in the parameter's layout: the gradient comes in that layout, and a
    /// layout's padding stays zero (its gradient is zero, and so is every rule's update of zeros
    /// with ε > 0; with ε = 0 it turns NaN, as would any value with a zero gradient history, and
    /// oneDNN zero-fills padding of the buffers it is handed, so kernels never read it).
    public func step(_ parameters: [Tensor]) {
        stepCount += 1
        for p in parameters {
            guard let grad = p.grad else { continue }
            let g = Backend.current.reorder(grad, to: p.layout)
            let count = p.physicalCount
            let state = states[ObjectIdentifier(p)] ?? State(count: stateWidth * count, layout: p.layout)
            states[ObjectIdentifier(p)] = state
            state.follow(p, width: stateWidth)
            state.updates += 1
            let step = state.updates
            p.withMutableStorage { value in
                g.withStorage { gradient in
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

    /// The per-parameter state by parameter name (a stateWidth×count tensor each, plain order),
    /// and how many updates each has had: what a checkpoint needs to continue exactly.
    public func exportState(_ parameters: [(String, Tensor)]) -> (tensors: [String: Tensor], updates: [String: Int]) {
        var tensors: [String: Tensor] = [:], updates: [String: Int] = [:]
        for (name, p) in parameters {
            guard let state = states[ObjectIdentifier(p)] else { continue }
            if stateWidth > 0 {
                let planes = (0..<stateWidth).flatMap { state.plane($0, shape: p.shape).scalars }
                tensors[name] = try? Tensor(shape: [stateWidth, p.shape.count], scalars: planes)
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
            let state = State(count: stateWidth * p.shape.count, layout: nil)
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
    /// parameter's updates from 1. Elements are in memory order (a layout's padding included), so
    /// a rule is elementwise and maps zeros to zeros. Called concurrently for disjoint ranges.
    open func update(value: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                     state: UnsafeMutableBufferPointer<Float>, count: Int, step: Int, range: Range<Int>) {
        fatalError("Optimizer subclasses implement update(value:gradient:state:count:step:range:)")
    }
}
