import CDNNL

/// Batch normalization on oneDNN's primitive: batch statistics in training (computed here and
/// returned), given running statistics in inference.
extension CPUBackend {
    private func batchNormPrimitive(_ data: dnnl_memory_desc_t, epsilon: Float, useGlobalStats: Bool) throws(ShapeError) -> Primitive {
        var data = data
        var d = dnnl_batch_normalization_desc_t()
        var flags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue
        if useGlobalStats { flags |= dnnl_use_global_stats.rawValue }
        try check(dnnl_batch_normalization_forward_desc_init(&d, dnnl_forward_training, &data, epsilon, UInt32(flags)),
                  "batchNorm", "descriptor")
        return try Primitive("batchNorm", desc: &d)
    }

    public func batchNormForward(_ x: Tensor, scale: Tensor, shift: Tensor, statistics: BatchStatistics?,
                                 epsilon: Float) throws -> (y: Tensor, statistics: BatchStatistics) {
        let p = try batchNormPrimitive(MemoryDesc.of(x), epsilon: epsilon, useGlobalStats: statistics != nil)
        let y = p.output(dnnl_query_dst_md, shape: x.shape)
        let stats = statistics ?? BatchStatistics(mean: Tensor(zeros: [x.shape.c]), variance: Tensor(zeros: [x.shape.c]))
        try p.execute([(Arg.src, x), (Arg.dst, y), (Arg.scale, scale.plain()), (Arg.shift, shift.plain()),
                       (Arg.mean, stats.mean.plain()), (Arg.variance, stats.variance.plain())])
        return (y, stats)
    }

    /// The backward in closed form over plain data (oneDNN 2.6's batch-normalization backward
    /// rejects its arguments at execution; batch norm is optional in CompSeg's networks):
    ///   x̂ = (x − μ)/σ,  dβ = Σ dy,  dγ = Σ dy·x̂,
    ///   dx = γ/σ · dy                              (frozen statistics)
    ///   dx = γ/σ · (dy − dβ/M − x̂·dγ/M)            (batch statistics, M = N·H·W)
    public func batchNormBackward(_ dy: Tensor, x: Tensor, scale: Tensor, statistics: BatchStatistics,
                                  frozen: Bool, epsilon: Float) throws -> (dx: Tensor, dscale: Tensor, dshift: Tensor) {
        let (n, c, plane) = (x.shape.n, x.shape.c, x.shape.h * x.shape.w)
        let xs = x.plain().scalars, gs = dy.plain().scalars
        let gamma = scale.scalars, mean = statistics.mean.scalars, variance = statistics.variance.scalars
        var dx = [Float](repeating: 0, count: xs.count)
        var dscale = [Float](repeating: 0, count: c), dshift = [Float](repeating: 0, count: c)
        let m = Float(n * plane)
        for ch in 0..<c {
            let inverseStd = 1 / (variance[ch] + epsilon).squareRoot()
            var sumG: Double = 0, sumGX: Double = 0
            for b in 0..<n {
                let base = (b * c + ch) * plane
                for i in base..<(base + plane) {
                    sumG += Double(gs[i])
                    sumGX += Double(gs[i] * (xs[i] - mean[ch]) * inverseStd)
                }
            }
            dshift[ch] = Float(sumG); dscale[ch] = Float(sumGX)
            let k = gamma[ch] * inverseStd
            for b in 0..<n {
                let base = (b * c + ch) * plane
                for i in base..<(base + plane) {
                    dx[i] = frozen ? k * gs[i]
                        : k * (gs[i] - dshift[ch] / m - (xs[i] - mean[ch]) * inverseStd * dscale[ch] / m)
                }
            }
        }
        return (try Tensor(shape: x.shape, scalars: dx), try Tensor(shape: scale.shape, scalars: dscale),
                try Tensor(shape: scale.shape, scalars: dshift))
    }
}
