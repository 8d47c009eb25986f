import CDNNL
import Foundation

/// The weight gradient of a stride-1 convolution as one matrix product per kernel position, on
/// oneDNN's GEMM (same OpenMP threads as its convolutions).
///
/// With the input zero-padded to Hp×Wp and channels last, and pixels numbered over the padded
/// grid (r = (n·Hp + y)·Wp + x), the input pixel that kernel position (i, j) meets for output pixel
/// r is pixel r + i·Wp + j. So dW[:, :, i, j] = dY · X₊, where dY is O × (pixels) with zeros where
/// the padded grid has no output pixel, and X₊ is the padded input, (pixels) × I, read from row
/// i·Wp + j on: a view, nothing copied. The zero columns of dY cancel every product that would
/// straddle a border or an image boundary.
///
/// On AVX2 CPUs oneDNN 2.6's own backward-weights kernels run at ~90 GFLOP/s on the U-Net's deep
/// layers where its GEMM runs at 110–150 (2 cores, measured): this path takes those layers.
extension CPUBackend {
    /// Whether `convolutionBackwardWeights` takes the GEMM path: stride 1, not transposed, AVX2
    /// kernels (where it was measured faster), at least 64 output channels (the products' rows) and
    /// at least 10⁹ multiply-adds. Measured on 2 cores, the paper's network (every such layer ≥ 1.2·10⁹)
    /// gains 8%; (450, 64², 16, b7) and (32, 128², 16, b7), whose layers have ≤ 0.6·10⁹, lose 1–4%
    /// (the copies and nine parallel regions cost more than the products save).
    static func usesGEMMWeightGradient(input: Shape, weightShape: Shape, geometry g: ConvolutionGeometry) -> Bool {
        guard runsAVX2Kernels, !g.transposed, g.stride == (1, 1), weightShape[0] >= 64 else { return false }
        let outputPixels = input.n * g.outputSize(input.h, kernel: weightShape[2], vertical: true)
            * g.outputSize(input.w, kernel: weightShape[3], vertical: false)
        // Work buffers (channels-last input and padded dY) at most 256 MiB: the paper's first layer at
        // batch 7 would need ~960 MB, held for the process' life.
        let padded = input.n * (input.h + 2 * g.paddingH) * (input.w + 2 * g.paddingW)
        let workBytes = 4 * padded * (input.c + weightShape[0])
        return weightShape.count * outputPixels >= 1_000_000_000 && workBytes <= 256 << 20
    }

    /// Whether oneDNN runs its AVX2 kernels here (where the GEMM path was measured faster), not
    /// AVX-512 ones nor older (AVX-only CPUs also use 8-channel blocks).
    static let runsAVX2Kernels = [dnnl_cpu_isa_avx2, dnnl_cpu_isa_avx2_vnni].contains(dnnl_get_effective_cpu_isa())

    func gemmWeightGradient(_ dy: Tensor, input: Tensor, weightShape: Shape, weightLayout: TensorLayout?,
                            withBias: Bool,
                            geometry g: ConvolutionGeometry) throws(ShapeError) -> (weight: Tensor, bias: Tensor?) {
        let (n, ic, h, w) = (input.shape.n, input.shape.c, input.shape.h, input.shape.w)
        let (oc, kh, kw) = (weightShape[0], weightShape[2], weightShape[3])
        precondition(weightShape[1] == ic && g.stride == (1, 1) && !g.transposed
                     && dy.shape.dims == [n, oc, g.outputSize(h, kernel: kh, vertical: true),
                                          g.outputSize(w, kernel: kw, vertical: false)],
                     "GEMM weight gradient: weight \(weightShape), gradient \(dy.shape) for input \(input.shape)")
        let (hp, wp) = (h + 2 * g.paddingH, w + 2 * g.paddingW)
        let pixels = n * hp * wp
        // Rows the farthest kernel position reads past the last padded pixel.
        let tail = (kh - 1) * wp + kw - 1

        // Four work buffers: the input, the output gradient, the gradient by kernel position, ones.
        let counts = [(pixels + tail) * ic, oc * pixels, kh * kw * oc * ic, withBias ? pixels : 0]
        return try gemmScratch.with(counts) { (buffers) throws(ShapeError) in
            let (x, d, blocks, ones) = (buffers[0], buffers[1], buffers[2], buffers[3])
            // The input, channels last, in a zero frame.
            zeroFrame(x, images: n, height: h, width: w, padH: g.paddingH, padW: g.paddingW, channels: ic, tail: tail)
            try reorder(from: MemoryDesc.of(input), input.storage.base,
                        to: MemoryDesc.strided([n, ic, h, w], strides: [hp * wp * ic, 1, wp * ic, ic]),
                        x + (g.paddingH * wp + g.paddingW) * ic)
            // The output gradient, channel-major over the padded grid, zero where no output pixel is.
            d.update(repeating: 0, count: counts[1])
            try reorder(from: MemoryDesc.of(dy), dy.storage.base,
                        to: MemoryDesc.strided(dy.shape.dims, strides: [hp * wp, pixels, wp, 1]), d)

            // dW by kernel position: kh × kw blocks of O × I.
            for i in 0..<kh {
                for j in 0..<kw {
                    try check(dnnl_sgemm(78, 78, Int64(oc), Int64(ic), Int64(pixels), 1, d, Int64(pixels),
                                         x + (i * wp + j) * ic, Int64(ic), 0, blocks + (i * kw + j) * oc * ic, Int64(ic)),
                              "conv2d backward weights", "matrix product")
                }
            }
            let dw = Tensor(shape: weightShape, layout: weightLayout,
                            storage: Storage(count: weightLayout?.physicalCount ?? weightShape.count, zeroed: false))
            try reorder(from: MemoryDesc.strided([oc, ic, kh, kw], strides: [ic, 1, kw * oc * ic, oc * ic]), blocks,
                        to: (weightLayout as? DNNLLayout)?.desc ?? MemoryDesc.plain(weightShape.dims), dw.storage.base)

            guard withBias else { return (dw, nil) }
            // The bias gradient: dY's row sums (its zeros add nothing).
            ones.update(repeating: 1, count: pixels)
            let db = Tensor(uninitialized: [oc])
            try check(dnnl_sgemm(78, 78, Int64(oc), 1, Int64(pixels), 1, d, Int64(pixels), ones, 1, 0,
                                 db.storage.base, 1), "conv2d backward weights", "bias sum")
            return (dw, db)
        }
    }

    /// Zeroes the frame of `images` channels-last padded images (and `tail` pixels after them),
    /// leaving the H×W interiors, which a reorder then fills.
    private func zeroFrame(_ base: UnsafeMutablePointer<Float>, images: Int, height h: Int, width w: Int,
                           padH: Int, padW: Int, channels c: Int, tail: Int) {
        let (hp, wp) = (h + 2 * padH, w + 2 * padW)
        for image in 0..<images {
            let start = base + image * hp * wp * c
            start.update(repeating: 0, count: padH * wp * c)
            (start + (padH + h) * wp * c).update(repeating: 0, count: padH * wp * c)
            guard padW > 0 else { continue }
            for y in padH..<(padH + h) {
                let row = start + y * wp * c
                row.update(repeating: 0, count: padW * c)
                (row + (padW + w) * c).update(repeating: 0, count: padW * c)
            }
        }
        (base + images * hp * wp * c).update(repeating: 0, count: tail * c)
    }
}

/// Work buffers that grow to the largest size asked for and are reused call after call (held
/// for the process' life). Pooled storage would keep one idle buffer per layer size: on the paper's
/// network the GEMM weight gradient's copies then added 340 MB to the peak; reused, they add the
/// largest layer's (~175 MB). Calls are serialized.
final class ScratchBuffers: @unchecked Sendable {
    private let lock = NSLock()
    private var buffers: [(base: UnsafeMutablePointer<Float>, count: Int)] = []

    /// Runs `body` with one buffer of at least each of `counts` floats (contents undefined).
    func with<R, E: Error>(_ counts: [Int], _ body: ([UnsafeMutablePointer<Float>]) throws(E) -> R) throws(E) -> R {
        lock.lock()
        defer { lock.unlock() }
        for (k, count) in counts.enumerated() {
            if k == buffers.count { buffers.append((.allocate(capacity: 1), 1)) }
            if buffers[k].count < count {
                buffers[k].base.deallocate()
                buffers[k] = (.allocate(capacity: count), count)
            }
        }
        return try body(buffers.prefix(counts.count).map(\.base))
    }

    deinit { buffers.forEach { $0.base.deallocate() } }
}
