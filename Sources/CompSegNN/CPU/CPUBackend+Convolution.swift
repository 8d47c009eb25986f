import CDNNL
import Glibc

/// Convolution and transposed convolution on oneDNN's convolution / deconvolution primitives.
/// Activations use format `any` (oneDNN's blocked choice). A trained convolution's weights lie in
/// its forward primitive's layout (`convolutionWeightLayout`), their gradients too; plain weights
/// (PyTorch's layout) are reordered to the primitive's choice, once while they are unchanged.
extension CPUBackend {
    /// The op descriptors of one convolution geometry: forward, backward data, backward weights.
    private struct ConvolutionDescs {
        let op: String
        let transposed: Bool
        var src, weights, bias, dst: dnnl_memory_desc_t
        let strides: [Int64], padL: [Int64], padR: [Int64]
        let withBias: Bool
        let outputShape: Shape
        /// Plain PyTorch-layout weights: O×I×kH×kW, or I×O×kH×kW (oneDNN `iohw`) when transposed.
        let plainWeights: dnnl_memory_desc_t
        /// `dnnl_convolution_winograd` when asked for, else direct (set back to direct when oneDNN
        /// has no Winograd kernel for this CPU or geometry).
        var algorithm: dnnl_alg_kind_t

        init(input: Shape, weightShape: Shape, withBias: Bool, geometry g: ConvolutionGeometry, winograd: Bool) {
            transposed = g.transposed
            op = transposed ? "transposedConv2d" : "conv2d"
            // oneDNN weight dims are (output channels, input channels, kH, kW) in both forms.
            let (outC, inC) = transposed ? (weightShape[1], weightShape[0]) : (weightShape[0], weightShape[1])
            let (kh, kw) = (weightShape[2], weightShape[3])
            let oh = g.outputSize(input.h, kernel: kh, vertical: true)
            let ow = g.outputSize(input.w, kernel: kw, vertical: false)
            src = MemoryDesc.any(input.dims)
            weights = MemoryDesc.any([outC, inC, kh, kw])
            bias = MemoryDesc.any([outC])
            outputShape = [input.n, outC, oh, ow]
            dst = MemoryDesc.any(outputShape.dims)
            strides = [Int64(g.strideH), Int64(g.strideW)]
            padL = [Int64(g.paddingH), Int64(g.paddingW)]
            // Right padding that makes oneDNN's size rule give PyTorch's output size.
            let (big, small) = transposed ? ((oh, ow), (input.h, input.w)) : ((input.h, input.w), (oh, ow))
            padR = [Int64((small.0 - 1) * g.strideH + kh - big.0 - g.paddingH),
                    Int64((small.1 - 1) * g.strideW + kw - big.1 - g.paddingW)]
            self.withBias = withBias
            plainWeights = MemoryDesc.byTag([outC, inC, kh, kw], transposed ? dnnl_iohw : dnnl_oihw)
            algorithm = winograd ? dnnl_convolution_winograd : dnnl_convolution_direct
        }


        /// The forward primitive: inference or training propagation, the activation as a post-op.
        mutating func forward(_ epilogue: ConvolutionEpilogue) throws(ShapeError) -> Primitive {
            // Winograd always in training propagation: its inference kind keeps weights transformed
            // to 6×6 tiles, four times their memory.
            let kind = epilogue.training || algorithm == dnnl_convolution_winograd
                ? dnnl_forward_training : dnnl_forward_inference
            // oneDNN's Winograd kernels take no activation post-op: it runs on the output after.
            let activationAfter = algorithm == dnnl_convolution_winograd ? epilogue.activation : nil
            let attr = try PostOps.attribute(activationAfter == nil ? epilogue.activation : nil, op)
            defer { if let attr { dnnl_primitive_attr_destroy(attr) } }
            if transposed {
                var d = dnnl_deconvolution_desc_t()
                try withOptionalPointer(to: withBias ? bias : nil) { (b) throws(ShapeError) in
                    try check(dnnl_deconvolution_forward_desc_init(&d, kind, dnnl_deconvolution_direct,
                                                               &src, &weights, b, &dst,
                                                               strides, padL, padR), op, "descriptor")
                }
                return try Primitive(op, desc: &d, attr: attr)
            }
            var d = dnnl_convolution_desc_t()
            try withOptionalPointer(to: withBias ? bias : nil) { (b) throws(ShapeError) in
                    try check(dnnl_convolution_forward_desc_init(&d, kind, algorithm,
                                                         &src, &weights, b, &dst,
                                                         strides, padL, padR), op, "descriptor")
                }
            let p = try Primitive(op, desc: &d, attr: attr)
            p.activationAfter = activationAfter
            return p
        }

        mutating func backwardData(hint: Primitive) throws(ShapeError) -> Primitive {
            let name = op + " backward data"
            if transposed {
                var d = dnnl_deconvolution_desc_t()
                try check(dnnl_deconvolution_backward_data_desc_init(&d, dnnl_deconvolution_direct, &src, &weights,
                                                                     &dst, strides, padL, padR), name, "descriptor")
                return try Primitive(name, desc: &d, hint: hint)
            }
            var d = dnnl_convolution_desc_t()
            try check(dnnl_convolution_backward_data_desc_init(&d, algorithm, &src, &weights,
                                                               &dst, strides, padL, padR), name, "descriptor")
            return try Primitive(name, desc: &d, hint: hint)
        }

        mutating func backwardWeights(hint: Primitive) throws(ShapeError) -> Primitive {
            let name = op + " backward weights"
            if transposed {
                var d = dnnl_deconvolution_desc_t()
                try withOptionalPointer(to: withBias ? bias : nil) { (b) throws(ShapeError) in
                    try check(dnnl_deconvolution_backward_weights_desc_init(&d, dnnl_deconvolution_direct, &src,
                                                                        &weights, b, &dst,
                                                                        strides, padL, padR), name, "descriptor")
                }
                return try Primitive(name, desc: &d, hint: hint)
            }
            var d = dnnl_convolution_desc_t()
            try withOptionalPointer(to: withBias ? bias : nil) { (b) throws(ShapeError) in
                    try check(dnnl_convolution_backward_weights_desc_init(&d, algorithm, &src, &weights,
                                                                  b, &dst,
                                                                  strides, padL, padR), name, "descriptor")
                }
            return try Primitive(name, desc: &d, hint: hint)
        }
    }

    /// Which primitive of a convolution geometry.
    private enum Pass: Hashable { case forward(ConvolutionEpilogue), backwardData, backwardWeights }

    private struct ConvolutionKey: Hashable {
        let pass: Pass
        let input: Shape, weight: Shape
        let withBias: Bool
        let geometry: ConvolutionGeometry
        /// For a Winograd primitive, the thread that made it, the only one to run it: oneDNN 2.6's
        /// Winograd kernels crashed (null scratch pointers) run on another thread than their maker's.
        let winogradThread: UInt?
    }

    /// How 3×3 convolutions are computed: `.winograd` (the default) takes Winograd F(4×4, 3×3)
    /// kernels where the image is large enough to pay (`usesWinograd`): oneDNN's where they exist
    /// (AVX-512 CPUs), compseg's own elsewhere and for some layers there (`usesOwnWinograd`);
    /// `.direct` always takes direct convolution, as PyTorch does. Winograd does
    /// 2.25× fewer multiplications and rounds differently (errors of some float32 epsilons of the
    /// terms' magnitudes, `WinogradTests`). oneDNN's Winograd forward gives an image other bits in
    /// another batch, so inference runs it image by image: a map does not depend on `--batch`.
    /// Set before the first convolution; `COMPSEG_CONVOLUTION=direct` in the environment sets it at start.
    public enum ConvolutionAlgorithm: String, Sendable { case direct, winograd }

    public static let convolutionAlgorithm: ConvolutionAlgorithm = {
        guard let value = getenv("COMPSEG_CONVOLUTION").map({ String(cString: $0) }) else { return .winograd }
        guard let algorithm = ConvolutionAlgorithm(rawValue: value) else {
            let message = "compseg: COMPSEG_CONVOLUTION is '\(value)', expected 'direct' or 'winograd'; using winograd\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            return .winograd
        }
        return algorithm
    }()

    /// How 3×3 convolutions run here, in words (for `compseg --version`).
    public static var convolutionSummary: String {
        guard convolutionAlgorithm == .winograd else { return "direct (COMPSEG_CONVOLUTION=direct)" }
        if oneDNNHasWinograd {
            return "Winograd F(4×4, 3×3) where it pays (oneDNN's kernels; compseg's for 128+ inputs to 16 outputs), else direct"
        }
        if ownWinogradAvailable {
            return "Winograd F(4×4, 3×3) on images of \(ownWinogradMinimumTiles)+ tiles (compseg's AVX2 kernels), else direct"
        }
        return "direct (no Winograd kernels for this CPU)"
    }

    /// Whether oneDNN has Winograd kernels on this CPU (AVX-512): a 16→16 convolution on 16×16.
    static let oneDNNHasWinograd: Bool = {
        let probe = try? CPUBackend.shared.primitive(.forward(.training), input: [1, 16, 16, 16], weight: [16, 16, 3, 3],
                                                     withBias: false, geometry: ConvolutionGeometry(padding: 1),
                                                     winograd: true)
        return probe?.0.winograd == true
    }()

    /// Whether a convolution asks oneDNN for Winograd kernels: 3×3, stride 1, padding 1, not
    /// transposed, 16 or more input and output channels (oneDNN rounds channels up to 16), on
    /// images of at least 8×8 pixels in training (four output tiles of 4×4; measured on AVX-512:
    /// on 4×4 images direct kernels are faster) and 16×16 in inference (which runs image by
    /// image, transforming the weights for each).
    static func usesWinograd(input: Shape, weightShape: Shape, geometry g: ConvolutionGeometry, training: Bool) -> Bool {
        guard convolutionAlgorithm == .winograd, !g.transposed, weightShape.dims.count == 4,
              weightShape[0] >= 16, weightShape[1] >= 16,
              weightShape[2] == 3, weightShape[3] == 3, g.stride == (1, 1), g.paddingH == 1, g.paddingW == 1,
              input.dims.count == 4 else { return false }
        return ((input.h + 3) / 4) * ((input.w + 3) / 4) >= (training ? 4 : 16)
    }

    /// The forward primitive that runs `input`, and how many times: once for the batch, or, in
    /// inference on Winograd kernels (see `ConvolutionAlgorithm`), once per image, where images
    /// lie one after another in the kernel's layouts; with the batch's source and output layouts.
    private func forwardPlan(_ input: Shape, weight: Shape, withBias: Bool, geometry: ConvolutionGeometry,
                             epilogue: ConvolutionEpilogue) throws(ShapeError)
        -> (p: Primitive, descs: ConvolutionDescs, images: Int, src: dnnl_memory_desc_t, dst: dnnl_memory_desc_t) {
        if !epilogue.training, Self.usesWinograd(input: input, weightShape: weight, geometry: geometry, training: false) {
            let (p, descs) = try primitive(.forward(epilogue), input: [1, input.c, input.h, input.w], weight: weight,
                                           withBias: withBias, geometry: geometry)
            if p.winograd, let src = MemoryDesc.batch(of: p.desc(dnnl_query_src_md), input.n),
               let dst = MemoryDesc.batch(of: p.desc(dnnl_query_dst_md), input.n) {
                return (p, descs, input.n, src, dst)
            }
        }
        // Inference on direct kernels otherwise: an image's bits do not depend on its batch.
        let winograd = epilogue.training
            && Self.usesWinograd(input: input, weightShape: weight, geometry: geometry, training: true)
        let (p, descs) = try primitive(.forward(epilogue), input: input, weight: weight, withBias: withBias,
                                       geometry: geometry, winograd: winograd)
        return (p, descs, 1, p.desc(dnnl_query_src_md), p.desc(dnnl_query_dst_md))
    }

    /// The primitive of `pass` for a geometry, created once and kept (oneDNN's own cache keeps
    /// primitives, but creating their descriptors iterates implementations on every call).
    private func primitive(_ pass: Pass, input: Shape, weight: Shape, withBias: Bool, geometry: ConvolutionGeometry,
                           winograd: Bool? = nil) throws(ShapeError) -> (Primitive, ConvolutionDescs) {
        let winograd = winograd ?? Self.usesWinograd(input: input, weightShape: weight, geometry: geometry, training: true)
        var descs = ConvolutionDescs(input: input, weightShape: weight, withBias: withBias, geometry: geometry,
                                     winograd: winograd)
        let key = ConvolutionKey(pass: pass, input: input, weight: weight, withBias: withBias, geometry: geometry,
                                 winogradThread: winograd ? UInt(pthread_self()) : nil)
        if let p = primitiveCache.lookup(key) { return (p as! Primitive, descs) }
        func create(_ descs: inout ConvolutionDescs) throws(ShapeError) -> Primitive {
            switch pass {
            case .forward(let epilogue): return try descs.forward(epilogue)
            case .backwardData:
                return try descs.backwardData(hint: primitive(.forward(.training), input: input, weight: weight,
                                                              withBias: withBias, geometry: geometry).0)
            case .backwardWeights:
                return try descs.backwardWeights(hint: primitive(.forward(.training), input: input, weight: weight,
                                                                 withBias: withBias, geometry: geometry).0)
            }
        }
        let p: Primitive
        if winograd, let made = try? create(&descs) {
            p = made
            p.winograd = true
        } else {
            descs.algorithm = dnnl_convolution_direct
            p = try create(&descs)
        }
        primitiveCache.store(key, p)
        return (p, descs)
    }

    public func convolutionForward(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                                   epilogue: ConvolutionEpilogue) throws -> Tensor {
        if Self.upsamplesPointwise(weightShape: weight.shape, geometry: geometry, epilogue: epilogue) {
            return try upsamplePointwise(x, weight: weight, bias: bias)
        }
        if Self.usesOwnWinograd(input: x.shape, weightShape: weight.shape, geometry: geometry) {
            return try ownWinogradForward(x, weight: weight, bias: bias, epilogue: epilogue)
        }
        let (p, descs, images, srcDesc, dstDesc) = try forwardPlan(x.shape, weight: weight.shape, withBias: bias != nil,
                                                                   geometry: geometry, epilogue: epilogue)
        let (wDesc, wPointer, wKeep) = try weightsReordered(weight, plainDesc: descs.plainWeights,
                                                            to: p.desc(dnnl_query_weights_md))
        var outputShape = descs.outputShape
        outputShape.dims[0] = x.shape.n
        let y = CPUBackend.tensor(shape: outputShape, desc: dstDesc)
        let src = try reorder(x, to: srcDesc)
        let (srcStep, dstStep) = (src.physicalCount / images, y.physicalCount / images)
        for image in 0..<images {
            var args: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)] = [
                (Arg.src, p.desc(dnnl_query_src_md), UnsafeMutableRawPointer(src.storage.base + image * srcStep)),
                (Arg.weights, wDesc, UnsafeMutableRawPointer(wPointer)),
                (Arg.dst, p.desc(dnnl_query_dst_md), UnsafeMutableRawPointer(y.storage.base + image * dstStep)),
            ]
            if let bias { args.append((Arg.bias, p.desc(dnnl_query_weights_md, 1), UnsafeMutableRawPointer(bias.storage.base))) }
            try p.execute(args)
        }
        withExtendedLifetime((wKeep, src)) {}
        if let activation = p.activationAfter { try eltwiseInPlace(y, activation) }
        return y
    }

    public func convolutionBackwardData(_ dy: Tensor, weight: Tensor, inputShape: Shape,
                                        geometry: ConvolutionGeometry) throws -> Tensor {
        if Self.upsamplesPointwise(weightShape: weight.shape, geometry: geometry) {
            return try upsamplePointwiseBackwardData(dy, weight: weight, inputShape: inputShape)
        }
        if Self.usesOwnWinograd(input: inputShape, weightShape: weight.shape, geometry: geometry) {
            return try ownWinogradBackwardData(dy, weight: weight, inputShape: inputShape)
        }
        let (p, descs) = try primitive(.backwardData, input: inputShape, weight: weight.shape, withBias: false, geometry: geometry)
        let (wDesc, wPointer, wKeep) = try weightsReordered(weight, plainDesc: descs.plainWeights,
                                                            to: p.desc(dnnl_query_weights_md))
        let dx = p.output(dnnl_query_diff_src_md, shape: inputShape)
        let diffDst = try reorder(dy, to: p.desc(dnnl_query_diff_dst_md))
        try p.execute([
            (Arg.diffDst, MemoryDesc.of(diffDst), UnsafeMutableRawPointer(diffDst.storage.base)),
            (Arg.weights, wDesc, UnsafeMutableRawPointer(wPointer)),
            (Arg.diffSrc, MemoryDesc.of(dx), UnsafeMutableRawPointer(dx.storage.base)),
        ])
        withExtendedLifetime((wKeep, diffDst)) {}
        return dx
    }

    public func convolutionBackwardWeights(_ dy: Tensor, input: Tensor, weightShape: Shape, weightLayout: TensorLayout?,
                                           withBias: Bool, geometry: ConvolutionGeometry) throws -> (weight: Tensor, bias: Tensor?) {
        if Self.upsamplesPointwise(weightShape: weightShape, geometry: geometry) {
            return try upsamplePointwiseBackwardWeights(dy, input: input, weightShape: weightShape, withBias: withBias)
        }
        if Self.usesOwnWinograd(input: input.shape, weightShape: weightShape, geometry: geometry) {
            return try ownWinogradWeightGradient(dy, input: input, weightShape: weightShape, weightLayout: weightLayout,
                                                 withBias: withBias)
        }
        if Self.usesGEMMWeightGradient(input: input.shape, weightShape: weightShape, geometry: geometry) {
            return try gemmWeightGradient(dy, input: input, weightShape: weightShape, weightLayout: weightLayout,
                                          withBias: withBias, geometry: geometry)
        }
        let (p, descs) = try primitive(.backwardWeights, input: input.shape, weight: weightShape, withBias: withBias,
                                       geometry: geometry)
        let src = try reorder(input, to: p.desc(dnnl_query_src_md))
        let diffDst = try reorder(dy, to: p.desc(dnnl_query_diff_dst_md))
        let chosen = p.desc(dnnl_query_diff_weights_md)
        let dwChosen = Storage(count: DNNLLayout(chosen).physicalCount, zeroed: false)
        let db = withBias ? Tensor(uninitialized: [weightShape[descs.transposed ? 1 : 0]]) : nil
        var args: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)] = [
            (Arg.src, MemoryDesc.of(src), UnsafeMutableRawPointer(src.storage.base)),
            (Arg.diffDst, MemoryDesc.of(diffDst), UnsafeMutableRawPointer(diffDst.storage.base)),
            (Arg.diffWeights, chosen, UnsafeMutableRawPointer(dwChosen.base)),
        ]
        if let db { args.append((Arg.diffBias, p.desc(dnnl_query_diff_weights_md, 1), UnsafeMutableRawPointer(db.storage.base))) }
        try p.execute(args)
        withExtendedLifetime((src, diffDst)) {}
        let wanted = (weightLayout as? DNNLLayout)?.desc ?? descs.plainWeights
        if MemoryDesc.equal(chosen, wanted) {
            return (Tensor(shape: weightShape, layout: weightLayout, storage: dwChosen), db)
        }
        let dw = Tensor(shape: weightShape, layout: weightLayout,
                        storage: Storage(count: weightLayout?.physicalCount ?? weightShape.count, zeroed: false))
        try reorder(from: chosen, dwChosen.base, to: wanted, dw.storage.base)
        return (dw, db)
    }

    public func convolutionWeightLayout(_ input: Shape, weightShape: Shape, withBias: Bool,
                                        geometry: ConvolutionGeometry, epilogue: ConvolutionEpilogue) throws -> TensorLayout? {
        // Transposed weights stay plain: their tensor's order (I×O) is not oneDNN's (O×I). Our
        // Winograd kernels read plain weights.
        guard !geometry.transposed,
              !Self.usesOwnWinograd(input: input, weightShape: weightShape, geometry: geometry) else { return nil }
        let (p, descs) = try primitive(.forward(epilogue), input: input, weight: weightShape, withBias: withBias,
                                       geometry: geometry)
        let desc = p.desc(dnnl_query_weights_md)
        return MemoryDesc.equal(desc, descs.plainWeights) ? nil : DNNLLayout(desc)
    }

    /// oneDNN's names for the kernels of a convolution's three passes (forward as it runs `input`,
    /// backward data, backward weights), for tests and profiles.
    func convolutionImplementations(_ input: Shape, weightShape: Shape, withBias: Bool, geometry: ConvolutionGeometry,
                                    epilogue: ConvolutionEpilogue) throws -> [String] {
        if Self.usesOwnWinograd(input: input, weightShape: weightShape, geometry: geometry) {
            return Array(repeating: "compseg_winograd_4x3:avx2", count: 3)
        }
        let forward = try forwardPlan(input, weight: weightShape, withBias: withBias, geometry: geometry, epilogue: epilogue)
        return try [forward.p.implementation] + [Pass.backwardData, .backwardWeights].map {
            try primitive($0, input: input, weight: weightShape, withBias: withBias, geometry: geometry).0.implementation
        }
    }

    public func convolutionInputLayout(_ input: Shape, weightShape: Shape, withBias: Bool,
                                       geometry: ConvolutionGeometry, epilogue: ConvolutionEpilogue) throws -> TensorLayout? {
        if Self.upsamplesPointwise(weightShape: weightShape, geometry: geometry, epilogue: epilogue) {
            let desc = try pointwiseUpsamplingPrimitive(input: input, weightShape: weightShape).desc(dnnl_query_src_md)
            return MemoryDesc.equal(desc, MemoryDesc.plain(input.dims)) ? nil : DNNLLayout(desc)
        }
        if Self.usesOwnWinograd(input: input, weightShape: weightShape, geometry: geometry) {
            return Self.winogradLayout(input)
        }
        let desc = try forwardPlan(input, weight: weightShape, withBias: withBias, geometry: geometry, epilogue: epilogue).src
        return MemoryDesc.equal(desc, MemoryDesc.plain(input.dims)) ? nil : DNNLLayout(desc)
    }
}
