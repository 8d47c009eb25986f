/// A module's tensors as a name → tensor dictionary (checkpoints, best-model copies).
extension Module {
    /// Copies of every parameter and buffer by dotted name.
    public func stateDictionary() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedTensors().map { ($0.0, $0.1.copy()) })
    }

    /// Overwrites every parameter and buffer from `state`.
    /// - Throws: `ShapeError` naming missing or unexpected names, or a shape that differs.
    public func load(_ state: [String: Tensor]) throws {
        let own = namedTensors()
        let names = Set(own.map(\.0))
        let missing = own.map(\.0).filter { state[$0] == nil }
        let unexpected = state.keys.filter { !names.contains($0) }.sorted()
        guard missing.isEmpty && unexpected.isEmpty else {
            throw ShapeError("load", (missing.isEmpty ? "" : "missing \(missing.joined(separator: ", "))")
                             + (missing.isEmpty || unexpected.isEmpty ? "" : "; ")
                             + (unexpected.isEmpty ? "" : "unexpected \(unexpected.joined(separator: ", "))"))
        }
        for (name, t) in own {
            let source = state[name]!
            guard source.shape == t.shape else {
                throw ShapeError("load", "\(name) has shape \(source.shape), the network expects \(t.shape)")
            }
            let values = source.scalars
            t.withMutablePlainBuffer { _ = $0.update(fromContentsOf: values) }
        }
    }
}
