import CompSegCore
import CompSegNN

/// Scores are clipped to [ε, 1 − ε] before their logarithm, so a confident wrong score costs
/// −log ε ≈ 13.8 instead of infinity (and its gradient vanishes there, as PyTorch's clamp).
let probabilityEpsilon: Float = 1e-6

/// The labels as numbers, checked: shape N (one per image of `activation`), each 0 or 1.
/// - Throws: `ShapeError` for the head's loss, naming the shape or the image whose label is wrong.
func checkedLabels(_ labels: Tensor, images n: Int, head: String) throws -> [Float] {
    let op = "\(head) loss"
    guard labels.shape == [n] else {
        throw ShapeError(op, "labels must have shape \(n) (one per image), got \(labels.shape)")
    }
    let values = labels.scalars
    if let bad = values.firstIndex(where: { $0 != 0 && $0 != 1 }) {
        throw ShapeError(op, "label of image \(bad) is \(values[bad]); expected 1 (cancer) or 0 (cancer-free)")
    }
    return values
}

/// Class weights that balance the batch: N / (2·N_c) for an image of class c, where N_c counts
/// the batch's images of that class. Each class then carries half of the batch mean, whatever
/// its share. A class absent from the batch gets weight 0 (it has no image to weigh), so a
/// batch of one class weighs each image 1/2.
func balancedClassWeights(_ labels: [Float]) -> [Float] {
    let n = Float(labels.count)
    let cancer = Float(labels.filter { $0 == 1 }.count), free = n - cancer
    let wCancer: Float = cancer > 0 ? n / (2 * cancer) : 0
    let wFree: Float = free > 0 ? n / (2 * free) : 0
    return labels.map { $0 == 1 ? wCancer : wFree }
}

/// Binary cross-entropy of scores s (N, in [0, 1]) against labels ℓ, weighted per image:
/// −(1/N) Σₙ wₙ [ℓₙ log ŝₙ + (1 − ℓₙ) log(1 − ŝₙ)], ŝ = clip(s, ε, 1 − ε). Shape 1.
/// Built from differentiable ops; labels and weights are constants.
func binaryCrossEntropy(_ s: Tensor, labels: [Float], weights: [Float]? = nil) throws -> Tensor {
    let n = labels.count
    let w = weights ?? Array(repeating: 1, count: n)
    let clipped = try clip(s, lower: probabilityEpsilon, upper: 1 - probabilityEpsilon)
    let positive = try Tensor(shape: [n], scalars: (0..<n).map { w[$0] * labels[$0] })
    let negative = try Tensor(shape: [n], scalars: (0..<n).map { w[$0] * (1 - labels[$0]) })
    let logLikelihood = try add(multiply(log(clipped), positive),
                                multiply(log(affine(clipped, scale: -1, offset: 1)), negative))
    return try scale(sum(logLikelihood), by: -1 / Float(n))
}

/// An N×1×H×W-shaped constant (shape of `like`) holding `values[n]` on every pixel of image n.
func perImage(_ values: [Float], like: Tensor) throws -> Tensor {
    let pixels = like.shape.count / like.shape.n
    return try Tensor(shape: like.shape, scalars: values.flatMap { Array(repeating: $0, count: pixels) })
}

/// Throws a `ConfigurationError` for `head` with `message` unless `condition` holds.
func validate(_ condition: Bool, _ head: String, _ message: @autoclosure () -> String) throws {
    if !condition { throw ConfigurationError(source: "\(head) head", message: message()) }
}
