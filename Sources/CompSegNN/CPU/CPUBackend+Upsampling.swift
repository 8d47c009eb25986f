import CDNNL

/// Inference of the 2×2, stride-2 transposed convolution (the U-Net's up-sampling) as a 1×1
/// convolution to 4·O channels followed by a depth-to-space copy: each input pixel's four output
/// pixels are independent products, so one matrix product computes them all. oneDNN's
/// deconvolution kernel ran this shape at 12–16 GFLOP/s on 2 cores; its 1×1 convolution runs at
/// the rate of the other layers (about 85 GFLOP/s a core). Training keeps the deconvolution,
/// whose backward passes oneDNN provides.
extension CPUBackend {
    /// Whether `convolutionForward` takes this path: inference, kernel 2, stride 2, no padding, no
    /// fused activation, output channels in whole blocks of 8.
    static func upsamplesPointwise(weightShape: Shape, geometry g: ConvolutionGeometry, epilogue: ConvolutionEpilogue) -> Bool {
        !epilogue.training && epilogue.activation == nil && g.transposed && g.strideH == 2 && g.strideW == 2
            && g.paddingH == 0 && g.paddingW == 0 && weightShape[2] == 2 && weightShape[3] == 2 && weightShape[1] % 8 == 0
    }

    /// The 1×1 convolution I → 4·O (output channel k·O + o for kernel position k = 2·ky + kx),
    /// writing oneDNN's 8-channel blocks, which the copy reads.
    func pointwiseUpsamplingPrimitive(input: Shape, weightShape: Shape) throws(ShapeError) -> Primitive {
        let (inC, outC) = (weightShape[0], weightShape[1])
        return try primitiveCache.primitive(["pointwise upsampling", input, weightShape] as [AnyHashable]) { () throws(ShapeError) -> Primitive in
            var src = MemoryDesc.any(input.dims)
            var weights = MemoryDesc.any([4 * outC, inC, 1, 1])
            var dst = MemoryDesc.byTag([input.n, 4 * outC, input.h, input.w], dnnl_nChw8c)
            var d = dnnl_convolution_desc_t()
            try check(dnnl_convolution_forward_desc_init(&d, dnnl_forward_inference, dnnl_convolution_direct, &src, &weights,
                                                         nil, &dst, [1, 1], [0, 0], [0, 0]), "transposedConv2d", "descriptor")
            return try Primitive("transposedConv2d", desc: &d)
        }
    }

    func upsamplePointwise(_ x: Tensor, weight: Tensor, bias: Tensor?) throws(ShapeError) -> Tensor {
        let (inC, outC) = (weight.shape[0], weight.shape[1])
        let (n, h, w) = (x.shape.n, x.shape.h, x.shape.w)
        let p = try pointwiseUpsamplingPrimitive(input: x.shape, weightShape: weight.shape)
        let target = p.desc(dnnl_query_weights_md)
        // The I×O×2×2 weights as (4·O)×I×1×1, then in the primitive's layout; kept while unchanged.
        let key = MemoryDesc.key(target) + [0x75, 0x70]  // distinct from the deconvolution's own layouts
        let pointwise = try weightCache.reordered(weight.storage, layout: key) { () throws(ShapeError) -> Storage in
            let plain = Storage(count: 4 * outC * inC, zeroed: false)
            let source = weight.storage.base
            for i in 0..<inC { for o in 0..<outC { for k in 0..<4 {
                plain.base[(k * outC + o) * inC + i] = source[(i * outC + o) * 4 + k]
            } } }
            let chosen = Storage(count: DNNLLayout(target).physicalCount, zeroed: false)
            try reorder(from: MemoryDesc.byTag([4 * outC, inC, 1, 1], dnnl_oihw), plain.base, to: target, chosen.base)
            return chosen
        }
        let src = try reorder(x, to: p.desc(dnnl_query_src_md))
        let z = p.output(dnnl_query_dst_md, shape: [n, 4 * outC, h, w])
        try p.execute([(Arg.src, p.desc(dnnl_query_src_md), UnsafeMutableRawPointer(src.storage.base)),
                       (Arg.weights, target, UnsafeMutableRawPointer(pointwise.base)),
                       (Arg.dst, p.desc(dnnl_query_dst_md), UnsafeMutableRawPointer(z.storage.base))])
        // Depth to space, in 8-channel blocks: z[n][k·O/8 + b][y][x][0..8] → out[n][b][2y+ky][2x+kx][0..8] (+ bias).
        let outShape: Shape = [n, outC, 2 * h, 2 * w]
        let out = CPUBackend.tensor(shape: outShape, desc: MemoryDesc.byTag(outShape.dims, dnnl_nChw8c))
        let blocks = outC / 8
        let biasValues = [Float](unsafeUninitializedCapacity: outC) { b, count in
            for o in 0..<outC { b[o] = bias.map { $0.storage.base[o] } ?? 0 }
            count = outC
        }
        let (zBase, yBase) = (DisjointAccess(z.storage.base), DisjointAccess(out.storage.base))
        parallelChunks(n * blocks * h, minimumPerChunk: 16) { rows in
            for row in rows {
                let (image, b, y) = (row / (blocks * h), row / h % blocks, row % h)
                let bias = SIMD8<Float>(biasValues[(b * 8)..<(b * 8 + 8)])
                for k in 0..<4 {
                    let (ky, kx) = (k / 2, k % 2)
                    let from = zBase.value + (((image * 4 * blocks + k * blocks + b) * h + y) * w) * 8
                    let to = yBase.value + (((image * blocks + b) * 2 * h + 2 * y + ky) * 2 * w + kx) * 8
                    for x in 0..<w {
                        let v = UnsafeRawPointer(from + x * 8).loadUnaligned(as: SIMD8<Float>.self) + bias
                        UnsafeMutableRawPointer(to + x * 16).storeBytes(of: v, as: SIMD8<Float>.self)
                    }
                }
            }
        }
        return out
    }
}
