import CDNNL
import CKernels

/// Winograd F(4×4, 3×3) convolutions of our own (`Sources/CKernels/winograd.c`, AVX2 and FMA):
/// forward, backward data and weight gradient, activations in nChw8c, weights plain; work buffers
/// reused call after call. Taken where oneDNN has no Winograd kernels (AVX2 without AVX-512) and,
/// on AVX-512, for the layers oneDNN's Winograd runs slowly (`usesOwnWinograd`).
extension CPUBackend {
    /// Whether this CPU runs our Winograd kernels (AVX2 and FMA).
    static let ownWinogradAvailable = compseg_winograd_available() != 0

    /// Output tiles of 4×4 pixels an image needs for our Winograd kernels to pay (32×32 images):
    /// the weights are transformed on every call. Measured on 2 cores: 512→512 on one 32×32
    /// image (64 tiles) breaks even with direct kernels (~4 + 23 ms against ~25), 1024→1024 on
    /// one 16×16 image loses (~10 + 36 against ~25). A rule on the image alone, never the batch,
    /// so that an image's map does not depend on the batch it comes in.
    static let ownWinogradMinimumTiles = 64

    /// Whether a convolution runs on our Winograd kernels: a geometry `usesWinograd` takes, on
    /// images of at least `ownWinogradMinimumTiles` tiles (⌈h/4⌉·⌈w/4⌉), on a CPU where ours run
    /// and either oneDNN has no Winograd kernels, or the layer has one AVX-512 block of outputs
    /// (16) and 128 or more inputs (a width-16 network's first layer), which oneDNN's AVX-512
    /// Winograd runs at half our speed (measured, 2 Zen 4 cores: 450→16 on seven 64×64 images,
    /// forward 27.8 ms against 12.5–13.4, weight gradient 14.6 against 14.7–15.4; the training
    /// step of (450, 64², width 16, batch 7), reorders to and from 16-channel blocks included,
    /// 0.084–0.109 s against 0.077–0.091). The same rule in training and inference: our kernels
    /// give an image the same bits in any batch.
    static func usesOwnWinograd(input: Shape, weightShape: Shape, geometry: ConvolutionGeometry) -> Bool {
        guard usesWinograd(input: input, weightShape: weightShape, geometry: geometry, training: true),
              ownWinogradAvailable,
              ((input.h + 3) / 4) * ((input.w + 3) / 4) >= ownWinogradMinimumTiles else { return false }
        return !oneDNNHasWinograd || (weightShape[0] == 16 && weightShape[1] >= 128)
    }

    /// Channels rounded up to whole blocks of 8, as nChw8c and the transformed weights hold them.
    private static func inBlocksOf8(_ channels: Int) -> Int { (channels + 7) / 8 * 8 }

    /// nChw8c, the layout our Winograd kernels read and write.
    static func winogradLayout(_ shape: Shape) -> DNNLLayout {
        DNNLLayout(MemoryDesc.byTag(shape.dims, dnnl_nChw8c))
    }

    /// The forward pass (and `epilogue`'s activation after it) on our Winograd kernels, its work
    /// split in `threads` parts (run on up to `Threads.count` threads; the result does not depend on them).
    func ownWinogradForward(_ x: Tensor, weight: Tensor, bias: Tensor?, epilogue: ConvolutionEpilogue,
                            threads: Int = Threads.count) throws -> Tensor {
        let (n, inputs, h, w, outputs) = (x.shape.n, x.shape.c, x.shape.h, x.shape.w, weight.shape[0])
        precondition(weight.shape.dims == [outputs, inputs, 3, 3] && bias.map { $0.shape.dims == [outputs] } != false,
                     "Winograd forward: weight \(weight.shape), bias \(bias?.shape.description ?? "none") for input \(x.shape)")
        let y = try ownWinograd(reorder(x, to: Self.winogradLayout(x.shape).desc), inputs: inputs,
                                weight: weight, backwardData: false, bias: bias, output: [n, outputs, h, w],
                                threads: threads)
        if let activation = epilogue.activation { try eltwiseInPlace(y, activation) }
        return y
    }

    /// The input gradient on our Winograd kernels: the forward kernel with flipped, transposed weights.
    func ownWinogradBackwardData(_ dy: Tensor, weight: Tensor, inputShape: Shape,
                                 threads: Int = Threads.count) throws -> Tensor {
        precondition(weight.shape.dims == [dy.shape.c, inputShape.c, 3, 3]
                     && dy.shape.dims == [inputShape.n, dy.shape.c, inputShape.h, inputShape.w],
                     "Winograd backward data: weight \(weight.shape), gradient \(dy.shape) for input \(inputShape)")
        return try ownWinograd(reorder(dy, to: Self.winogradLayout(dy.shape).desc), inputs: dy.shape.c,
                               weight: weight, backwardData: true, bias: nil, output: inputShape, threads: threads)
    }

    /// `input` (in nChw8c) convolved with `weight` (or, with `backwardData`, its transpose) into a
    /// new nChw8c tensor of `output`'s shape; weight rows, then tile ranges split among the threads.
    private func ownWinograd(_ input: Tensor, inputs: Int, weight: Tensor, backwardData: Bool, bias: Tensor?,
                             output: Shape, threads: Int) throws -> Tensor {
        let plainWeight = reorder(weight, to: nil)
        let (n, h, w, outputs) = (input.shape.n, input.shape.h, input.shape.w, output.c)
        let rows = Self.inBlocksOf8(inputs)
        let transformed = 36 * rows * Self.inBlocksOf8(outputs)
        let scratch = compseg_winograd_forward_scratch(inputs, outputs)
        let tiles = n * ((h + 3) / 4) * ((w + 3) / 4)
        let threads = max(1, min(threads, tiles))
        let layout = Self.winogradLayout(output)
        let y = Tensor(shape: output, layout: layout, storage: Storage(count: layout.physicalCount, zeroed: false))
        winogradScratch.with([transformed, scratch * threads]) { buffers in
            let (u, work) = (DisjointAccess(buffers[0]), DisjointAccess(buffers[1]))
            let (weights, src, dst, b) = (DisjointAccess(plainWeight.storage.base), DisjointAccess(input.storage.base),
                                          DisjointAccess(y.storage.base), DisjointAccess(bias?.storage.base))
            let (outputsOfWeight, inputsOfWeight) = (weight.shape[0], weight.shape[1])
            parallelChunks(threads, minimumPerChunk: 1) { range in
                for thread in range {
                    compseg_winograd_transform_weights(weights.value, outputsOfWeight, inputsOfWeight, backwardData ? 1 : 0,
                                                       u.value, rows * thread / threads, rows * (thread + 1) / threads)
                }
            }
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
    /// input channel blocks split in `threads` parts (the result does not depend on them).
    func ownWinogradWeightGradient(_ dy: Tensor, input: Tensor, weightShape: Shape, weightLayout: TensorLayout?,
                                   withBias: Bool, threads: Int = Threads.count) throws -> (weight: Tensor, bias: Tensor?) {
        let (n, inputs, h, w, outputs) = (input.shape.n, input.shape.c, input.shape.h, input.shape.w, weightShape[0])
        precondition(weightShape.dims == [outputs, inputs, 3, 3] && dy.shape.dims == [n, outputs, h, w],
                     "Winograd weight gradient: weight \(weightShape), gradient \(dy.shape) for input \(input.shape)")
        let src = try reorder(input, to: Self.winogradLayout(input.shape).desc)
        let gradient = try reorder(dy, to: Self.winogradLayout(dy.shape).desc)
        let blocks = Self.inBlocksOf8(inputs) / 8
        let transformed = 36 * Self.inBlocksOf8(inputs) * Self.inBlocksOf8(outputs)
        let scratch = compseg_winograd_weight_gradient_scratch(inputs, outputs)
        let threads = max(1, min(threads, blocks))
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
