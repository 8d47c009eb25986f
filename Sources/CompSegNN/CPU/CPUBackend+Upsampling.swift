import CDNNL

/// The 2×2, stride-2 transposed convolution (the U-Net's up-sampling) as a 1×1 convolution to
/// 4·O channels and a depth-to-space copy: each input pixel's four output pixels are independent
/// products, so one matrix product computes them all. oneDNN's deconvolution kernel ran this shape
/// at 12–16 GFLOP/s on 2 cores; its 1×1 convolution runs at the rate of the other layers (about
/// 85 GFLOP/s a core). The backward passes are the 1×1 convolution's, on the gradient copied
/// back from space to depth.
extension CPUBackend {
    /// Whether the convolution takes this path: kernel 2, stride 2, no padding, no fused
    /// activation, output channels in whole channel blocks, input channels too or fewer than a
    /// block (oneDNN 2.x views a blocked dimension only in whole blocks: `copyKernelPositions`).
    static func upsamplesPointwise(weightShape: Shape, geometry g: ConvolutionGeometry,
                                   epilogue: ConvolutionEpilogue = .training) -> Bool {
        epilogue.activation == nil && g.transposed && g.strideH == 2 && g.strideW == 2
            && g.paddingH == 0 && g.paddingW == 0 && weightShape[2] == 2 && weightShape[3] == 2
            && weightShape[1] % channelBlock == 0
            && (weightShape[0] % channelBlock == 0 || weightShape[0] < channelBlock)
    }

    enum PointwisePass: String { case forward, backwardData, backwardWeights }

    /// The 1×1 convolution I → 4·O (output channel k·O + o for kernel position k = 2·ky + kx) of
    /// `pass`, its 4·O side in channel blocks (`channelBlock`), which the copies read and write.
    func pointwiseUpsamplingPrimitive(_ pass: PointwisePass = .forward, input: Shape,
                                      weightShape: Shape) throws(ShapeError) -> Primitive {
        let (inC, outC) = (weightShape[0], weightShape[1])
        let key = ["pointwise upsampling", pass.rawValue, input, weightShape] as [AnyHashable]
        return try primitiveCache.primitive(key) { () throws(ShapeError) -> Primitive in
            let name = "transposedConv2d"
            var src = MemoryDesc.any(input.dims)
            var weights = MemoryDesc.any([4 * outC, inC, 1, 1])
            var bias = MemoryDesc.any([4 * outC])
            var dst = Self.channelBlocked([input.n, 4 * outC, input.h, input.w])
            let (one, zero): ([Int64], [Int64]) = ([1, 1], [0, 0])
            var d = dnnl_convolution_desc_t()
            switch pass {
            case .forward:
                try check(dnnl_convolution_forward_desc_init(&d, dnnl_forward_training, dnnl_convolution_direct, &src,
                                                             &weights, nil, &dst, one, zero, zero), name, "descriptor")
                return try Primitive(name, desc: &d)
            case .backwardData:
                let hint = try pointwiseUpsamplingPrimitive(input: input, weightShape: weightShape)
                try check(dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &src, &weights, &dst,
                                                                   one, zero, zero), name, "backward data descriptor")
                return try Primitive(name + " backward data", desc: &d, hint: hint)
            case .backwardWeights:
                let hint = try pointwiseUpsamplingPrimitive(input: input, weightShape: weightShape)
                try check(dnnl_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &src, &weights, &bias,
                                                                      &dst, one, zero, zero), name, "backward weights descriptor")
                return try Primitive(name + " backward weights", desc: &d, hint: hint)
            }
        }
    }

    /// The I×O×2×2 weights as (4·O)×I×1×1 in the layout `target`; kept while the weights are unchanged.
    private func pointwiseWeights(_ weight: Tensor, _ target: dnnl_memory_desc_t) throws(ShapeError) -> Storage {
        precondition(weight.isPlain, "transposed-convolution weights stay plain")
        let key = MemoryDesc.key(target) + [0x75, 0x70]  // distinct from the deconvolution's own layouts
        return try weightCache.reordered(weight.storage, layout: key) { () throws(ShapeError) -> Storage in
            let chosen = Storage(count: DNNLLayout(target).physicalCount, zeroed: false)
            try copyKernelPositions(plain: weight.storage.base, pointwise: chosen.base, layout: target,
                                    inputs: weight.shape[0], outputs: weight.shape[1], toPointwise: true)
            return chosen
        }
    }

    /// Copies between plain I×O×2×2 weights and the (4·O)×I×1×1 pointwise weights in `layout`:
    /// one oneDNN reorder per kernel position k, from the strided O×I view of the plain weights
    /// at offset k (o at stride 4, i at 4·O) to the output channels k·O… of the pointwise ones.
    private func copyKernelPositions(plain: UnsafeMutablePointer<Float>, pointwise: UnsafeMutablePointer<Float>,
                                     layout: dnnl_memory_desc_t, inputs: Int, outputs: Int,
                                     toPointwise: Bool) throws(ShapeError) {
        let dims: [Int64] = [Int64(outputs), Int64(inputs), 1, 1]
        var strided = dnnl_memory_desc_t()
        try check(dnnl_memory_desc_init_by_strides(&strided, 4, dims, dnnl_f32, [4, Int64(4 * outputs), 1, 1]),
                  "transposedConv2d", "weight view")
        for k in 0..<4 {
            var parent = layout, part = dnnl_memory_desc_t()
            try check(dnnl_memory_desc_init_submemory(&part, &parent, dims, [Int64(k * outputs), 0, 0, 0]),
                      "transposedConv2d", "weight view")
            if toPointwise {
                try reorder(from: strided, plain + k, to: part, pointwise)
            } else {
                try reorder(from: part, pointwise, to: strided, plain + k)
            }
        }
    }

    func upsamplePointwise(_ x: Tensor, weight: Tensor, bias: Tensor?) throws(ShapeError) -> Tensor {
        let outC = weight.shape[1]
        let (n, h, w) = (x.shape.n, x.shape.h, x.shape.w)
        let p = try pointwiseUpsamplingPrimitive(input: x.shape, weightShape: weight.shape)
        let target = p.desc(dnnl_query_weights_md)
        let pointwise = try pointwiseWeights(weight, target)
        let src = try reorder(x, to: p.desc(dnnl_query_src_md))
        let z = p.output(dnnl_query_dst_md, shape: [n, 4 * outC, h, w])
        try p.execute([(Arg.src, p.desc(dnnl_query_src_md), UnsafeMutableRawPointer(src.storage.base)),
                       (Arg.weights, target, UnsafeMutableRawPointer(pointwise.base)),
                       (Arg.dst, p.desc(dnnl_query_dst_md), UnsafeMutableRawPointer(z.storage.base))])
        withExtendedLifetime((src, pointwise)) {}
        let outShape: Shape = [n, outC, 2 * h, 2 * w]
        let out = CPUBackend.tensor(shape: outShape, desc: Self.channelBlocked(outShape))
        let biasValues = (0..<outC).map { o in bias.map { $0.storage.base[o] } ?? 0 }
        Self.moveBlocks(depth: z.storage.base, space: out.storage.base, toSpace: true, n: n, channels: outC, h: h, w: w,
                        bias: biasValues)
        return out
    }

    /// dL/dx: the 1×1 convolution's backward data on the gradient moved from space to depth.
    func upsamplePointwiseBackwardData(_ dy: Tensor, weight: Tensor, inputShape: Shape) throws(ShapeError) -> Tensor {
        let p = try pointwiseUpsamplingPrimitive(.backwardData, input: inputShape, weightShape: weight.shape)
        let target = p.desc(dnnl_query_weights_md)
        let pointwise = try pointwiseWeights(weight, target)
        let dz = try spaceToDepth(dy, inputShape: inputShape)
        let dx = p.output(dnnl_query_diff_src_md, shape: inputShape)
        try p.execute([(Arg.diffDst, MemoryDesc.of(dz), UnsafeMutableRawPointer(dz.storage.base)),
                       (Arg.weights, target, UnsafeMutableRawPointer(pointwise.base)),
                       (Arg.diffSrc, MemoryDesc.of(dx), UnsafeMutableRawPointer(dx.storage.base))])
        withExtendedLifetime((dz, pointwise)) {}
        return dx
    }

    /// dL/dW (I×O×2×2) and dL/db: the 1×1 convolution's backward weights, rearranged.
    func upsamplePointwiseBackwardWeights(_ dy: Tensor, input: Tensor, weightShape: Shape,
                                          withBias: Bool) throws(ShapeError) -> (weight: Tensor, bias: Tensor?) {
        let (inC, outC) = (weightShape[0], weightShape[1])
        let p = try pointwiseUpsamplingPrimitive(.backwardWeights, input: input.shape, weightShape: weightShape)
        let src = try reorder(input, to: p.desc(dnnl_query_src_md))
        let dz = try spaceToDepth(dy, inputShape: input.shape)
        let chosen = p.desc(dnnl_query_diff_weights_md)
        let dwChosen = Storage(count: DNNLLayout(chosen).physicalCount, zeroed: false)
        let dbPointwise = Storage(count: 4 * outC, zeroed: false)
        try p.execute([(Arg.src, MemoryDesc.of(src), UnsafeMutableRawPointer(src.storage.base)),
                       (Arg.diffDst, MemoryDesc.of(dz), UnsafeMutableRawPointer(dz.storage.base)),
                       (Arg.diffWeights, chosen, UnsafeMutableRawPointer(dwChosen.base)),
                       (Arg.diffBias, p.desc(dnnl_query_diff_weights_md, 1), UnsafeMutableRawPointer(dbPointwise.base))])
        withExtendedLifetime((src, dz)) {}
        let dw = Tensor(uninitialized: weightShape)  // every value written below
        try copyKernelPositions(plain: dw.storage.base, pointwise: dwChosen.base, layout: chosen,
                                inputs: inC, outputs: outC, toPointwise: false)
        guard withBias else { return (dw, nil) }
        let db = Tensor(uninitialized: [outC])
        for o in 0..<outC { db.storage.base[o] = (0..<4).reduce(Float(0)) { $0 + dbPointwise.base[$1 * outC + o] } }
        return (dw, db)
    }

    /// The gradient of the up-sampled image (N×O×2H×2W) as the 1×1 convolution's output gradient
    /// (N×4·O×H×W, channel blocks): the depth-to-space copy run backwards.
    private func spaceToDepth(_ dy: Tensor, inputShape: Shape) throws(ShapeError) -> Tensor {
        let (n, h, w) = (inputShape.n, inputShape.h, inputShape.w)
        let outC = dy.shape.c
        let blocked = try reorder(dy, to: Self.channelBlocked(dy.shape))
        let dz = CPUBackend.tensor(shape: [n, 4 * outC, h, w], desc: Self.channelBlocked([n, 4 * outC, h, w]))
        Self.moveBlocks(depth: dz.storage.base, space: blocked.storage.base, toSpace: false, n: n, channels: outC,
                        h: h, w: w, bias: [Float](repeating: 0, count: outC))
        withExtendedLifetime(blocked) {}
        return dz
    }

    /// Moves channel blocks (B = `channelBlock` channels) between the 1×1 convolution's side,
    /// depth[n][k·C/B + b][y][x][0..B], and the up-sampled image, space[n][b][2y+ky][2x+kx][0..B]
    /// (k = 2·ky + kx), adding `bias` on the way to space. Copies 8 channels at a time.
    private static func moveBlocks(depth: UnsafeMutablePointer<Float>, space: UnsafeMutablePointer<Float>, toSpace: Bool,
                                   n: Int, channels: Int, h: Int, w: Int, bias: [Float]) {
        let block = channelBlock, blocks = channels / channelBlock
        let (depthBase, spaceBase) = (DisjointAccess(depth), DisjointAccess(space))
        parallelChunks(n * blocks * h, minimumPerChunk: 16) { rows in
            for row in rows {
                let (image, b, y) = (row / (blocks * h), row / h % blocks, row % h)
                for k in 0..<4 {
                    let (ky, kx) = (k / 2, k % 2)
                    let d = depthBase.value + (((image * 4 * blocks + k * blocks + b) * h + y) * w) * block
                    let s = spaceBase.value + (((image * blocks + b) * 2 * h + 2 * y + ky) * 2 * w + kx) * block
                    for part in stride(from: 0, to: block, by: 8) {
                        let bias = SIMD8<Float>(bias[(b * block + part)..<(b * block + part + 8)])
                        for x in 0..<w {
                            if toSpace {
                                let v = UnsafeRawPointer(d + x * block + part).loadUnaligned(as: SIMD8<Float>.self) + bias
                                UnsafeMutableRawPointer(s + x * 2 * block + part).storeBytes(of: v, as: SIMD8<Float>.self)
                            } else {
                                let v = UnsafeRawPointer(s + x * 2 * block + part).loadUnaligned(as: SIMD8<Float>.self)
                                UnsafeMutableRawPointer(d + x * block + part).storeBytes(of: v, as: SIMD8<Float>.self)
                            }
                        }
                    }
                }
            }
        }
    }
}
