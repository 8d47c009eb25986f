import Foundation

/// A backend's own memory layout for a tensor (e.g. oneDNN's channel-blocked `nChw8c`).
/// `nil` everywhere in CompSegNN means the plain dense layout: row-major over the logical dims.
public protocol TensorLayout: AnyObject, Sendable {
    /// Floats the layout occupies, padding included.
    var physicalCount: Int { get }
}

/// A Float32 tensor with a logical shape, its memory in plain or a backend's layout, and its
/// place in the autodiff graph.
///
/// Plain layout is row-major over `shape.dims` (NCHW for images, OIHW for convolution weights,
/// I×O×kH×kW for transposed-convolution weights, as in PyTorch). A tensor that an op left in a
/// backend layout is converted only where plain values are asked for (`scalars`, checkpoints).
public final class Tensor: @unchecked Sendable {
    public let shape: Shape
    /// nil: plain dense layout. A parameter may move once into the layout its convolution reads
    /// (`adoptLayout`); other tensors keep the layout they were made in.
    public private(set) var layout: TensorLayout?
    private(set) var storage: Storage

    /// Whether gradients are tracked for this tensor (parameters and inputs one differentiates by).
    public var requiresGrad: Bool
    /// The gradient accumulated by `backward()`, for tensors with `requiresGrad` and no creator op.
    public internal(set) var grad: Tensor?
    /// The op that made this tensor, while its graph is recorded.
    var creator: GraphNode?

    init(shape: Shape, layout: TensorLayout?, storage: Storage, requiresGrad: Bool = false) {
        precondition(storage.count >= (layout?.physicalCount ?? shape.count), "storage smaller than layout")
        self.shape = shape
        self.layout = layout
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    /// A zero-filled tensor in plain layout.
    public convenience init(zeros shape: Shape, requiresGrad: Bool = false) {
        self.init(shape: shape, layout: nil, storage: Storage(count: shape.count), requiresGrad: requiresGrad)
    }

    /// A plain-layout tensor holding `scalars` (row-major over `shape`).
    public convenience init(shape: Shape, scalars: [Float], requiresGrad: Bool = false) throws(ShapeError) {
        try require(scalars.count == shape.count, "Tensor",
                    "shape \(shape) needs \(shape.count) values, got \(scalars.count)")
        self.init(shape: shape, layout: nil, storage: Storage(count: shape.count, zeroed: false), requiresGrad: requiresGrad)
        _ = scalars.withUnsafeBufferPointer { storage.buffer.update(fromContentsOf: $0) }
    }

    /// A plain tensor whose values are not set: for code that writes every one of them.
    public convenience init(uninitialized shape: Shape) {
        self.init(shape: shape, layout: nil, storage: Storage(count: shape.count, zeroed: false))
    }

    /// A plain tensor filled with `value`.
    public convenience init(repeating value: Float, shape: Shape) {
        self.init(zeros: shape)
        storage.buffer.update(repeating: value)
    }

    public var isPlain: Bool { layout == nil }

    /// Floats in memory, a backend layout's padding included.
    var physicalCount: Int { layout?.physicalCount ?? shape.count }

    /// Moves the values into `layout` in place (values and shape unchanged): a parameter kept in
    /// the layout its convolution reads, so that neither the forward pass nor the optimizer
    /// converts it each step. A no-op when the tensor is already so laid out.
    func adoptLayout(_ layout: TensorLayout?) {
        let moved = Backend.current.reorder(self, to: layout)
        guard moved !== self else { return }
        self.layout = moved.layout
        storage = moved.storage
    }

    /// The values in plain row-major order (converting from the backend layout if needed).
    public var scalars: [Float] {
        let plain = Backend.current.reorder(self, to: nil)
        return withExtendedLifetime(plain) { Array(UnsafeBufferPointer(start: plain.storage.base, count: shape.count)) }
    }

    /// This tensor in plain layout: itself when already plain, else a converted copy (not tracked).
    public func plain() -> Tensor { Backend.current.reorder(self, to: nil) }

    /// Reads the values in plain row-major order: in place when plain, else through a plain copy
    /// (a trained convolution's weight lies in its kernel's layout).
    public func withPlainBuffer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let p = plain()
        return try withExtendedLifetime(p) { try body(UnsafeBufferPointer(start: p.storage.base, count: shape.count)) }
    }

    /// Writes plain values in place (initializers, loading weights). A tensor in a backend layout
    /// is written through a plain copy that then goes back into that layout (the same layout
    /// object, so an optimizer's state laid out as this tensor needs no move).
    public func withMutablePlainBuffer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        guard let layout else {
            storage.version &+= 1
            return try body(UnsafeMutableBufferPointer(start: storage.base, count: shape.count))
        }
        let plain = copy()
        let result = try plain.withMutablePlainBuffer(body)
        storage = Backend.current.reorder(plain, to: layout).storage
        return result
    }

    /// Records a write made elsewhere (a device kernel), for copies made from these values.
    func noteWrite() { storage.version &+= 1 }

    /// Writes the values as they lie in memory, padding included (elementwise updates of tensors
    /// in one layout: optimizers).
    func withMutableStorage<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        storage.version &+= 1
        return try body(UnsafeMutableBufferPointer(start: storage.base, count: physicalCount))
    }

    /// Reads the values as they lie in memory, padding included.
    func withStorage<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base, count: physicalCount))
    }

    /// The same values, outside any graph.
    public func detached() -> Tensor { Tensor(shape: shape, layout: layout, storage: storage) }

    /// Whether no other tensor shares these values (`detached()` shares them): a caller that holds
    /// the only reference to this tensor may then write them in place.
    public var ownsItsValues: Bool { isKnownUniquelyReferenced(&storage) }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// A tensor with the same values in a new buffer, plain, outside any graph.
    public func copy() -> Tensor {
        let p = plain()
        let t = Tensor(uninitialized: shape)
        withExtendedLifetime(p) { t.storage.base.update(from: p.storage.base, count: shape.count) }
        return t
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = scalars
        let shown = values.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape)\(layout == nil ? "" : ", backend layout"): [\(shown)\(values.count > 8 ? ", …" : "")])"
    }
}
