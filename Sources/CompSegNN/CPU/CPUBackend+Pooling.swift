import CDNNL

/// The forward pooling primitive and its workspace (max pooling's argmax, in oneDNN's form).
final class DNNLPoolingWorkspace: PoolingWorkspace, @unchecked Sendable {
    let forward: Primitive
    let storage: Storage
    let desc: dnnl_memory_desc_t
    init(forward: Primitive, desc: dnnl_memory_desc_t) {
        self.forward = forward
        self.desc = desc
        storage = Storage(count: max(1, (dnnl_memory_desc_get_size([desc]) + 3) / 4))
    }
}

extension CPUBackend {
    private func poolingDescs(_ input: Shape, _ g: PoolingGeometry, sourceDesc: dnnl_memory_desc_t)
        -> (dnnl_alg_kind_t, dnnl_memory_desc_t, dnnl_memory_desc_t, strides: [Int64], kernel: [Int64], padR: [Int64]) {
        let oh = g.outputSize(input.h), ow = g.outputSize(input.w)
        let dst = MemoryDesc.any([input.n, input.c, oh, ow])
        let alg = g.kind == .max ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding
        // Right padding for oneDNN's size rule; negative where PyTorch drops a partial window.
        let padR = [Int64((oh - 1) * g.stride + g.kernel - input.h), Int64((ow - 1) * g.stride + g.kernel - input.w)]
        return (alg, sourceDesc, dst, [Int64(g.stride), Int64(g.stride)], [Int64(g.kernel), Int64(g.kernel)], padR)
    }

    private func forwardPrimitive(_ input: Shape, _ g: PoolingGeometry, sourceDesc: dnnl_memory_desc_t,
                                  training: Bool) throws(ShapeError) -> Primitive {
        var (alg, src, dst, strides, kernel, padR) = poolingDescs(input, g, sourceDesc: sourceDesc)
        var d = dnnl_pooling_v2_desc_t()
        let zeros: [Int64] = [0, 0]
        try check(dnnl_pooling_v2_forward_desc_init(&d, training ? dnnl_forward_training : dnnl_forward_inference,
                                                    alg, &src, &dst, strides, kernel, zeros, zeros, padR),
                  "pool2d", "descriptor")
        return try Primitive("pool2d", desc: &d)
    }

    public func poolingForward(_ x: Tensor, geometry: PoolingGeometry, training: Bool) throws -> (Tensor, PoolingWorkspace?) {
        let p = try forwardPrimitive(x.shape, geometry, sourceDesc: MemoryDesc.of(x), training: training)
        let outShape: Shape = [x.shape.n, x.shape.c, geometry.outputSize(x.shape.h), geometry.outputSize(x.shape.w)]
        let y = p.output(dnnl_query_dst_md, shape: outShape)
        var args: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)] = [
            (Arg.src, MemoryDesc.of(x), UnsafeMutableRawPointer(x.storage.base)),
            (Arg.dst, MemoryDesc.of(y), UnsafeMutableRawPointer(y.storage.base)),
        ]
        var workspace: DNNLPoolingWorkspace?
        if training && geometry.kind == .max {
            let ws = DNNLPoolingWorkspace(forward: p, desc: p.desc(dnnl_query_workspace_md))
            args.append((Arg.workspace, ws.desc, UnsafeMutableRawPointer(ws.storage.base)))
            workspace = ws
        }
        try p.execute(args)
        return (y, workspace)
    }

    public func poolingBackward(_ dy: Tensor, workspace: PoolingWorkspace?, inputShape: Shape,
                                geometry: PoolingGeometry) throws -> Tensor {
        let ws = workspace as? DNNLPoolingWorkspace
        let hint = try ws?.forward ?? forwardPrimitive(inputShape, geometry, sourceDesc: MemoryDesc.any(inputShape.dims),
                                                      training: true)
        let (alg, _, _, strides, kernel, padR) = poolingDescs(inputShape, geometry, sourceDesc: MemoryDesc.any(inputShape.dims))
        var diffSrc = hint.desc(dnnl_query_src_md)
        var diffDst = hint.desc(dnnl_query_dst_md)
        var d = dnnl_pooling_v2_desc_t()
        let zeros: [Int64] = [0, 0]
        try check(dnnl_pooling_v2_backward_desc_init(&d, alg, &diffSrc, &diffDst, strides, kernel, zeros, zeros, padR),
                  "pool2d backward", "descriptor")
        let p = try Primitive("pool2d backward", desc: &d, hint: hint)
        let dx = p.output(dnnl_query_diff_src_md, shape: inputShape)
        let g = try reorder(dy, to: p.desc(dnnl_query_diff_dst_md))
        var args: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)] = [
            (Arg.diffDst, MemoryDesc.of(g), UnsafeMutableRawPointer(g.storage.base)),
            (Arg.diffSrc, MemoryDesc.of(dx), UnsafeMutableRawPointer(dx.storage.base)),
        ]
        if let ws { args.append((Arg.workspace, ws.desc, UnsafeMutableRawPointer(ws.storage.base))) }
        try p.execute(args)
        return dx
    }
}
