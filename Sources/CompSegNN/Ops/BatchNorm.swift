/// Batch normalization over N, H, W per channel: y = (x − μ) / √(σ² + ε) · scale + shift.
///
/// In training, μ and σ² are the batch's (biased variance) and the running statistics move toward
/// them: running ← (1 − momentum)·running + momentum·batch, with the unbiased variance, as PyTorch.
/// In inference, the running statistics are used.
/// - Parameters:
///   - scale, shift: C (the learned γ and β).
///   - runningMean, runningVariance: C, updated in place in training.
public func batchNorm(_ x: Tensor, scale: Tensor, shift: Tensor, runningMean: Tensor, runningVariance: Tensor,
                      training: Bool, momentum: Float = 0.1, epsilon: Float = 1e-5) throws -> Tensor {
    let op = "batchNorm"
    try x.shape.requireImage(op)
    let c = x.shape.c
    for (name, t) in [("scale", scale), ("shift", shift), ("runningMean", runningMean), ("runningVariance", runningVariance)] {
        try require(t.shape == [c] && t.isPlain, op, "\(name) must have shape \(c) for input \(x.shape), got \(t.shape)")
    }
    let count = x.shape.n * x.shape.h * x.shape.w
    try require(!training || count > 1, op, "training needs more than one value per channel, input is \(x.shape)")
    let backend = Backend.current
    let frozen = training ? nil : BatchStatistics(mean: runningMean, variance: runningVariance)
    let (y, stats) = try backend.batchNormForward(x, scale: scale, shift: shift, statistics: frozen, epsilon: epsilon)
    if training {
        try blend(runningMean, toward: stats.mean, momentum: momentum, factor: 1)
        try blend(runningVariance, toward: stats.variance, momentum: momentum, factor: Float(count) / Float(count - 1))
    }
    // The statistics used, frozen copies where a backward may run (the running ones change before
    // it does); none for inference, where a copy made on the host would wait for the GPU.
    guard records([x, scale, shift]) else { return y }
    let used = training ? stats : BatchStatistics(mean: runningMean.copy(), variance: runningVariance.copy())
    return record(op, [x, scale, shift], y) { dy in
        let (dx, dscale, dshift) = try backend.batchNormBackward(dy, x: x, scale: scale, statistics: used,
                                                                 frozen: !training, epsilon: epsilon)
        return [dx, dscale, dshift]
    }
}

/// running ← (1 − momentum)·running + momentum·batch·factor, in place: where the tensors live
/// (`DeviceKernels`), else on the host.
private func blend(_ running: Tensor, toward batch: Tensor, momentum: Float, factor: Float) throws {
    if let kernels = Backend.deviceKernels,
       try kernels.blend(running, toward: batch, momentum: momentum, factor: factor) {
        running.noteWrite()
        return
    }
    batch.withPlainBuffer { b in
        running.withMutablePlainBuffer { r in for i in r.indices { r[i] = (1 - momentum) * r[i] + momentum * b[i] * factor } }
    }
}
