/// Dropout: in training, zeroes each element with probability p and scales the rest by 1/(1−p);
/// in inference, returns x. The mask comes from `generator`, in plain element order, so the same
/// seed drops the same elements whatever the backend's layout.
public func dropout(_ x: Tensor, probability p: Float, training: Bool,
                    generator: inout SeededGenerator) throws -> Tensor {
    let op = "dropout"
    try require(p >= 0 && p < 1, op, "probability must be in [0, 1), got \(p)")
    guard training, p > 0 else { return x }
    let keep = 1 / (1 - p)
    var maskValues = [Float](repeating: 0, count: x.shape.count)
    for i in maskValues.indices where generator.nextUniform() >= p { maskValues[i] = keep }
    let mask = try Tensor(shape: x.shape, scalars: maskValues)
    let backend = Backend.current
    let y = try backend.binary(.multiply, x.plain(), mask)
    return record(op, [x], y) { dy in [try backend.binary(.multiply, dy.plain(), mask)] }
}
