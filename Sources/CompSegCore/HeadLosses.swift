import CompSegNN

// Parts of a pooling head's loss that heads share: the labels checked, class weights, and a
// binary cross-entropy of the pooled scores. Built from CompSegNN's differentiable ops.

/// Scores are clipped to [ε, 1 − ε] before their logarithm (`binaryCrossEntropy`), so a confident
/// wrong score costs −log ε ≈ 13.8 instead of infinity (and its gradient vanishes there, as PyTorch's clamp).
public let probabilityEpsilon: Float = 1e-6

/// The labels of a `PoolingHead.loss` as numbers, checked: shape N (one per image), each 0 or 1.
/// - Parameters:
///   - labels: the labels the trainer passes (N: 1 cancer, 0 cancer-free).
///   - n: the number of images (`activation.shape.n`).
///   - head: the head's identifier, for messages ("topk loss: …").
/// - Returns: the N labels.
/// - Throws: `ShapeError` naming the shape, or the image whose label is neither 0 nor 1.
public func checkedLabels(_ labels: Tensor, images n: Int, head: String) throws -> [Float] {
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

/// Class weights that balance a batch: N / (2·N_c) for an image of class c, where N_c counts
/// the batch's images of that class, so each class carries half of the batch mean whatever its
/// share. A class absent from the batch gets weight 0 (it has no image to weigh), so a batch of
/// one class weighs each image 1/2.
/// - Parameter labels: N labels, 0 or 1 (`checkedLabels`).
/// - Returns: N weights, for `binaryCrossEntropy(_:labels:weights:)`.
public func balancedClassWeights(_ labels: [Float]) -> [Float] {
    let n = Float(labels.count)
    let cancer = Float(labels.filter { $0 == 1 }.count), free = n - cancer
    let wCancer: Float = cancer > 0 ? n / (2 * cancer) : 0
    let wFree: Float = free > 0 ? n / (2 * free) : 0
    return labels.map { $0 == 1 ? wCancer : wFree }
}

/// Binary cross-entropy of scores s against labels ℓ, weighted per image:
/// −(1/N) Σₙ wₙ [ℓₙ log ŝₙ + (1 − ℓₙ) log(1 − ŝₙ)], ŝ = clip(s, ε, 1 − ε) (`probabilityEpsilon`).
/// Differentiable in `s`; labels and weights are constants.
/// - Parameters:
///   - s: N scores in [0, 1] (a head's `score`).
///   - labels: N labels, 0 or 1 (`checkedLabels`).
///   - weights: N weights (`balancedClassWeights`); nil weighs every image 1.
/// - Returns: the loss, shape 1.
public func binaryCrossEntropy(_ s: Tensor, labels: [Float], weights: [Float]? = nil) throws -> Tensor {
    let n = labels.count
    let w = weights ?? Array(repeating: 1, count: n)
    let clipped = try clip(s, lower: probabilityEpsilon, upper: 1 - probabilityEpsilon)
    let positive = try Tensor(shape: [n], scalars: (0..<n).map { w[$0] * labels[$0] })
    let negative = try Tensor(shape: [n], scalars: (0..<n).map { w[$0] * (1 - labels[$0]) })
    let logLikelihood = try add(multiply(log(clipped), positive),
                                multiply(log(affine(clipped, scale: -1, offset: 1)), negative))
    return try scale(sum(logLikelihood), by: -1 / Float(n))
}
