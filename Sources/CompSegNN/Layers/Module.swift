/// A network part with parameters: subclasses store `Tensor` parameters (requiresGrad), buffers
/// (Tensors without requiresGrad, e.g. running statistics) and child modules, singly or in arrays,
/// as stored properties. Names follow the property path, dotted: `down.0.conv1.weight`. These
/// same names serve checkpoints (safetensors) and match PyTorch modules built the same way.
open class Module: @unchecked Sendable {
    /// Training mode (batch statistics, dropout) or inference.
    public private(set) var isTraining = true

    public init() {}

    /// Trainable tensors by dotted name, in declaration order.
    public func namedParameters() -> [(String, Tensor)] { namedTensors().filter { $0.1.requiresGrad } }

    /// Non-trainable state by dotted name (e.g. `bn.runningMean`).
    public func namedBuffers() -> [(String, Tensor)] { namedTensors().filter { !$0.1.requiresGrad } }

    /// Every parameter and buffer by dotted name.
    public func namedTensors() -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        visit(prefix: "") { name, value in
            if let t = value as? Tensor { out.append((name, t)) }
        }
        return out
    }

    public var parameters: [Tensor] { namedParameters().map(\.1) }
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.shape.count } }

    /// Sets training or inference mode on this module and all its children.
    public func setTraining(_ training: Bool) {
        isTraining = training
        visit(prefix: "") { _, value in (value as? Module)?.isTraining = training }
    }

    public func zeroGradients() { for p in parameters { p.zeroGrad() } }

    /// The children (tensors, modules, arrays of them) by name. By default the stored
    /// properties by property name; override to name them otherwise (e.g. by position, as
    /// PyTorch's `nn.Sequential` does: `0`, `2`).
    open func namedChildren() -> [(String, Any)] {
        var fields: [(String, Any)] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror {  // superclass fields first: declaration order
            fields.insert(contentsOf: m.children.compactMap { c in c.label.map { ($0, c.value) } }, at: 0)
            mirror = m.superclassMirror
        }
        return fields.filter { $0.0 != "isTraining" }
    }

    /// Calls `body` for every tensor and child module below this one with its dotted name.
    private func visit(prefix: String, _ body: (String, Any) -> Void) {
        func walk(_ name: String, _ value: Any) {
            switch value {
            case let t as Tensor: body(name, t)
            case let module as Module:
                body(name, module)
                module.visit(prefix: name + ".", body)
            case let array as [Any]:
                for (i, element) in array.enumerated() { walk("\(name).\(i)", element) }
            default: break  // Optionals unwrap in the casts above; nil ones are skipped.
            }
        }
        for (label, value) in namedChildren() { walk(prefix + label, value) }
    }
}
