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

    public func batchNormBackward(_ dy: Tensor, x: Tensor, scale: Tensor, statistics: BatchStatistics,
                                  frozen: Bool, epsilon: Float) throws -> (dx: Tensor, dscale: Tensor, dshift: Tensor) {
        var data = MemoryDesc.of(x)
        let hint = try batchNormPrimitive(data, epsilon: epsilon, useGlobalStats: frozen)
        var d = dnnl_batch_normalization_desc_t()
        var flags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue
        if frozen { flags |= dnnl_use_global_stats.rawValue }
        try check(dnnl_batch_normalization_backward_desc_init(&d, dnnl_backward, &data, &data, epsilon, UInt32(flags)),
                  "batchNorm backward", "descriptor")
        let p = try Primitive("batchNorm backward", desc: &d, hint: hint)
        let dx = p.output(dnnl_query_diff_src_md, shape: x.shape)
        let dscale = Tensor(zeros: scale.shape), dshift = Tensor(zeros: scale.shape)
        try p.execute([(Arg.src, x), (Arg.diffDst, try reorder(dy, to: data)), (Arg.scale, scale.plain()),
                       (Arg.mean, statistics.mean.plain()), (Arg.variance, statistics.variance.plain()),
                       (Arg.diffSrc, dx), (Arg.diffScale, dscale), (Arg.diffShift, dshift)])
        return (dx, dscale, dshift)
    }
}
