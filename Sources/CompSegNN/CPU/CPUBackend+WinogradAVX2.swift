import CDNNL
import CKernels

/// Winograd F(4×4, 3×3) convolutions of our own (`Sources/CKernels/winograd.c`) on CPUs where
/// oneDNN has none (AVX2 without AVX-512): forward, backward data and weight gradient, activations
/// in nChw8c, weights plain. Transformed weights and work buffers are reused call after call.
extension CPUBackend {
    /// Whether this CPU runs our Winograd kernels (AVX2 and FMA).
    static let ownWinogradAvailable = compseg_winograd_available() != 0

    /// Output tiles (4×4 pixels, over the batch) a convolution needs for our Winograd kernels to
    /// pay: the weights are transformed on every call, which costs as much as ~30 tiles' products
    /// (measured, 2 cores: 512→512 on one 32×32 image, 64 tiles: 7 + 23 ms against ~25 direct;
    /// 64→64 on seven 16×16 images, 112 tiles: 0.6 against 0.7).
    static let ownWinogradMinimumTiles = 128

    /// Whether a convolution runs on our Winograd kernels: a geometry `usesWinograd` takes, on a
    /// CPU where oneDNN has no Winograd kernels and ours run, with enough tiles. The same rule in
    /// training and inference: our kernels give an image the same bits in any batch.
    static func usesOwnWinograd(input: Shape, weightShape: Shape, geometry: ConvolutionGeometry) -> Bool {
        guard usesWinograd(input: input, weightShape: weightShape, geometry: geometry, training: true),
              ownWinogradAvailable, !oneDNNHasWinograd else { return false }
        return input.n * ((input.h + 3) / 4) * ((input.w + 3) / 4) >= ownWinogradMinimumTiles
    }

    /// nChw8c, the layout our Winograd kernels read and write.
    static func winogradLayout(_ shape: Shape) -> DNNLLayout {
        DNNLLayout(MemoryDesc.byTag(shape.dims, dnnl_nChw8c))
    }

    /// The forward pass (and `epilogue`'s activation after it) on our Winograd kernels.
    func ownWinogradForward(_ x: Tensor, weight: Tensor, bias: Tensor?, epilogue: ConvolutionEpilogue) throws -> Tensor {
        let (n, inputs, h, w, outputs) = (x.shape.n, x.shape.c, x.shape.h, x.shape.w, weight.shape[0])
        let y = try ownWinograd(reorder(x, to: Self.winogradLayout(x.shape).desc), inputs: inputs,
                                weight: weight, backwardData: false, bias: bias, output: [n, outputs, h, w])
        if let activation = epilogue.activation { try eltwiseInPlace(y, activation) }
        return y
    }

    /// The input gradient on our Winograd kernels: the forward kernel with flipped, transposed weights.
    func ownWinogradBackwardData(_ dy: Tensor, weight: Tensor, inputShape: Shape) throws -> Tensor {
        try ownWinograd(reorder(dy, to: Self.winogradLayout(dy.shape).desc), inputs: dy.shape.c,
                        weight: weight, backwardData: true, bias: nil, output: inputShape)
    }

    /// `input` (in nChw8c) convolved with `weight` (or, with `backwardData`, its transpose) into a
    /// new nChw8c tensor of `output`'s shape, tile ranges split among the threads.
    private func ownWinograd(_ input: Tensor, inputs: Int, weight: Tensor, backwardData: Bool, bias: Tensor?,
                             output: Shape) throws -> Tensor {
        let plainWeight = reorder(weight, to: nil)
        let (n, h, w, outputs) = (input.shape.n, input.shape.h, input.shape.w, output.c)
        let transformed = 36 * ((inputs + 7) / 8 * 8) * ((outputs + 7) / 8 * 8)
        let scratch = compseg_winograd_forward_scratch(inputs, outputs)
        let tiles = n * ((h + 3) / 4) * ((w + 3) / 4)
        let threads = min(Threads.count, tiles)
        let y = Tensor(shape: output, layout: Self.winogradLayout(output),
                       storage: Storage(count: Self.winogradLayout(output).physicalCount, zeroed: false))
        winogradScratch.with([transformed, scratch * threads]) { buffers in
            compseg_winograd_transform_weights(plainWeight.storage.base, weight.shape[0], weight.shape[1],
                                               backwardData ? 1 : 0, buffers[0])
            let (u, work) = (DisjointAccess(buffers[0]), DisjointAccess(buffers[1]))
            let (src, dst, b) = (DisjointAccess(input.storage.base), DisjointAccess(y.storage.base),
                                 DisjointAccess(bias?.storage.base))
            parallelChunks(threads, minimumPerChunk: 1) { range in
                for thread in range {
                    let (begin, end) = (tiles * thread / threads, tiles * (thread + 1) / threads)
                    compseg_winograd_forward(src.value, n, inputs, h, w, u.value, outputs, b.value, dst.value,
                                             work.value + thread * scratch, begin, end)
                }
            }
        }
        withExtendedLifetime((plainWeight, input, bias)) {}
        return y
    }

    /// The weight gradient (in `weightLayout`) and bias gradient on our Winograd kernels, the
    /// input channels split among the threads.
    func ownWinogradWeightGradient(_ dy: Tensor, input: Tensor, weightShape: Shape, weightLayout: TensorLayout?,
                                   withBias: Bool) throws -> (weight: Tensor, bias: Tensor?) {
        let src = try reorder(input, to: Self.winogradLayout(input.shape).desc)
        let gradient = try reorder(dy, to: Self.winogradLayout(dy.shape).desc)
        let (n, inputs, h, w, outputs) = (input.shape.n, input.shape.c, input.shape.h, input.shape.w, weightShape[0])
        let blocks = (inputs + 7) / 8
        let transformed = 36 * blocks * 8 * ((outputs + 7) / 8 * 8)
        let scratch = compseg_winograd_weight_gradient_scratch(inputs, outputs)
        let threads = min(Threads.count, blocks)
        let dw = Tensor(uninitialized: weightShape)
        let db = withBias ? Tensor(uninitialized: [outputs]) : nil
        winogradScratch.with([transformed, scratch * threads]) { buffers in
            let (du, work) = (DisjointAccess(buffers[0]), DisjointAccess(buffers[1]))
            let (x, d, weights, bias) = (DisjointAccess(src.storage.base), DisjointAccess(gradient.storage.base),
                                         DisjointAccess(dw.storage.base), DisjointAccess(db?.storage.base))
            parallelChunks(threads, minimumPerChunk: 1) { range in
                for thread in range {
                    let (begin, end) = (blocks * thread / threads, blocks * (thread + 1) / threads)
                    compseg_winograd_weight_gradient(x.value, d.value, n, inputs, h, w, outputs, du.value, weights.value,
                                                     bias.value, work.value + thread * scratch, begin, end)
                }
            }
        }
        withExtendedLifetime((src, gradient)) {}
        return (reorder(dw, to: weightLayout), db)
    }
}
