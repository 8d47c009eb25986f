/// Updates parameters from their gradients. Subclasses implement the per-parameter rule; the
/// base keeps each parameter's state and applies weight decay (L2, added to the gradient, as
/// PyTorch's RMSprop, Adam and SGD do).
open class Optimizer: @unchecked Sendable {
    public var learningRate: Float
    public let weightDecay: Float
    /// One parameter's state: `stateWidth` planes laid out as the parameter is (padding included),
    /// in the memory of the backend it was made on, and the number of updates it has had. A
    /// reference, so a step updates it in place.
    private final class State {
        /// The planes one after the other, `width` × the parameter's physical count.
        var values: Tensor
        /// The layout of each plane: the parameter's when the state was made or last moved.
        var layout: TensorLayout?
        var updates = 0
        init(count: Int, layout: TensorLayout?) {
            values = Tensor(zeros: [count])
            self.layout = layout
        }

        /// Plane `k` as a tensor of `shape` (a copy), in the state's layout.
        func plane(_ k: Int, shape: Shape) -> Tensor {
            let n = layout?.physicalCount ?? shape.count
            let t = Tensor(shape: shape, layout: layout, storage: Storage(count: n, zeroed: false))
            values.withStorage { t.storage.base.update(from: $0.baseAddress! + k * n, count: n) }
            return t
        }

        /// The planes moved into `parameter`'s layout (it moved into its kernel's layout after the
        /// state was made, or the state was imported in plain order).
        func follow(_ parameter: Tensor, width: Int) {
            guard layout !== parameter.layout else { return }
            let planes = (0..<width).map { Backend.current.reorder(plane($0, shape: parameter.shape), to: parameter.layout) }
            let moved = Tensor(uninitialized: [width * parameter.physicalCount])
            moved.withMutableStorage { m in
                for (k, p) in planes.enumerated() {
                    p.withStorage { (m.baseAddress! + k * parameter.physicalCount).update(from: $0.baseAddress!, count: $0.count) }
                }
            }
            values = moved
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
            if let kernels = Backend.deviceKernels, let rule = rule(step: step) {
                // State made on another backend (host memory) moves once into this one's.
                if state.values.storage.memory !== kernels.memory { state.values = state.values.copy() }
                do {
                    if try kernels.update(rule, value: p, gradient: g, state: state.values) {
                        p.noteWrite()
                        continue
                    }
                } catch {
                    fatalError("CompSegNN: \(kernels.name) failed to update a parameter: \(error)")
                }
            }
            p.withMutableStorage { value in
                g.withStorage { gradient in
                    state.values.withMutableStorage { s in
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
            let state = State(count: 0, layout: nil)
            if stateWidth > 0 {
                guard let t = tensors[name], t.shape == [stateWidth, p.shape.count] else {
                    throw ShapeError("optimizer state", "\(name): expected state \(stateWidth)×\(p.shape.count), "
                                     + "got \(tensors[name].map { $0.shape.description } ?? "none")")
                }
                state.values = t.copy()  // in this backend's memory
            }
            state.updates = count
            states[ObjectIdentifier(p)] = state
        }
    }

    /// This optimizer's update at a parameter's `step` (counted from 1) for a backend that runs it
    /// where the parameters live (`DeviceKernels`); nil where there is none (the host loop runs).
    open func rule(step: Int) -> OptimizerRule? { nil }

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

/// An optimizer's update at one step, in the terms a device kernel takes (`CUDAKernels`'
/// compseg_rmsprop, compseg_adam, compseg_sgd: the same operations in the same order as the rules
/// of Rules.swift).
public enum OptimizerRule: Sendable {
    case rmsprop(alpha: Float, learningRate: Float, epsilon: Float, weightDecay: Float, centered: Bool, momentum: Float)
    /// stepSize = lr / (1 − β₁ᵗ), correction = √(1 − β₂ᵗ).
    case adam(beta1: Float, beta2: Float, stepSize: Float, correction: Float, epsilon: Float, weightDecay: Float)
    case sgd(learningRate: Float, momentum: Float, dampening: Float, nesterov: Bool, weightDecay: Float, step: Int)
}
