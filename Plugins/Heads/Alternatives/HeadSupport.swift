import CompSegCore
import CompSegNN

// The heads' shared losses (`checkedLabels`, `balancedClassWeights`, `binaryCrossEntropy`,
// `probabilityEpsilon`) live in CompSegCore, for every head plugin.

/// An N×1×H×W-shaped constant (shape of `like`) holding `values[n]` on every pixel of image n.
func perImage(_ values: [Float], like: Tensor) throws -> Tensor {
    let pixels = like.shape.count / like.shape.n
    return try Tensor(shape: like.shape, scalars: values.flatMap { Array(repeating: $0, count: pixels) })
}

/// Throws a `ConfigurationError` for `head` with `message` unless `condition` holds.
func validate(_ condition: Bool, _ head: String, _ message: @autoclosure () -> String) throws {
    if !condition { throw ConfigurationError(source: "\(head) head", message: message()) }
}
