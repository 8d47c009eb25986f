import Foundation
import Testing
import CompSegTestSupport
@testable import CompSegNN

/// 3×3 convolutions large enough for Winograd's F(4×4, 3×3) kernels: forward (with and without
/// softplus, which then runs after the kernel), backward data and backward weights against sums
/// computed in double precision, through the backend (whichever kernels it takes here: oneDNN's
/// Winograd, compseg's, or direct) and through compseg's own AVX2 kernels, called directly (any
/// CPU with AVX2 and FMA).
@Suite struct WinogradTests {
    /// Input channels, output channels, H, W, batch: channel counts off the 8- and 16-channel
    /// blocks and sides off the 4-pixel tile, so padded tiles and channels are covered; the last
    /// (70→75) has more channels than compseg's kernels take at once (64) and more tiles than a
    /// block (144 against 24 and 64), in images of 72 tiles, which the backend gives compseg's
    /// kernels on AVX2 CPUs; 128→16 on 32×32 is a layer the backend gives them on AVX-512 CPUs too.
    @Test(arguments: [(20, 24, 17, 19, 2), (32, 16, 16, 16, 3), (13, 19, 9, 11, 3), (70, 75, 34, 30, 2),
                      (128, 16, 32, 32, 1)])
    func agreesWithDoublePrecisionSums(_ c: (Int, Int, Int, Int, Int)) throws {
        let (ic, oc, h, w, n) = c
        let backend = CPUBackend.shared
        let geometry = ConvolutionGeometry(padding: 1)
        let weightShape: Shape = [oc, ic, 3, 3]
        #expect(CPUBackend.usesWinograd(input: [n, ic, h, w], weightShape: weightShape, geometry: geometry, training: true)
                == (CPUBackend.convolutionAlgorithm == .winograd && ic >= 16 && oc >= 16))
        let kernels = try backend.convolutionImplementations([n, ic, h, w], weightShape: weightShape, withBias: true,
                                                             geometry: geometry, epilogue: .training)
        // Which kernels the backend takes: compseg's where its rule says so, else on AVX-512 oneDNN's Winograd.
        let own = CPUBackend.usesOwnWinograd(input: [n, ic, h, w], weightShape: weightShape, geometry: geometry)
        #expect(kernels.allSatisfy { $0.contains("compseg_winograd") } == own, "\(kernels)")
        if CPUBackend.convolutionAlgorithm == .winograd, CPUBackend.ownWinogradAvailable {
            let tiles = ((h + 3) / 4) * ((w + 3) / 4)
            let expected = ic >= 16 && oc >= 16 && tiles >= CPUBackend.ownWinogradMinimumTiles
                && (!CPUBackend.oneDNNHasWinograd || (oc == 16 && ic >= 128))
            #expect(own == expected, "compseg's kernels taken: \(own)")
        }
        if CPUBackend.convolutionAlgorithm == .winograd, CPUBackend.instructionSet.hasPrefix("AVX-512"), ic >= 16, oc >= 16,
           !own {
            #expect(kernels.allSatisfy { $0.contains("wino") && !$0.contains("compseg") }, "\(kernels)")
        }

        let x = randomTensor([n, ic, h, w], seed: 1), weight = randomTensor(weightShape, seed: 2, scale: 0.1)
        let bias = randomTensor([oc], seed: 3), dy = randomTensor([n, oc, h, w], seed: 4)
        let (xs, ws, bs, ds) = (x.scalars.map(Double.init), weight.scalars.map(Double.init),
                                bias.scalars.map(Double.init), dy.scalars.map(Double.init))
        func xAt(_ m: Int, _ i: Int, _ y: Int, _ xx: Int) -> Double? {
            (0..<h).contains(y) && (0..<w).contains(xx) ? xs[((m * ic + i) * h + y) * w + xx] : nil
        }
        // Each value with the sum of its terms' magnitudes, the scale its rounding error grows with.
        var y = [(Double, Double)](), dx = [(Double, Double)](), dw = [(Double, Double)]()
        for m in 0..<n { for o in 0..<oc { for r in 0..<h { for q in 0..<w {
            var (sum, magnitude) = (bs[o], Swift.abs(bs[o]))
            for i in 0..<ic { for a in 0..<3 { for b in 0..<3 {
                guard let v = xAt(m, i, r + a - 1, q + b - 1) else { continue }
                let product = ws[((o * ic + i) * 3 + a) * 3 + b] * v
                sum += product; magnitude += Swift.abs(product)
            } } }
            y.append((sum, magnitude))
        } } } }
        for m in 0..<n { for i in 0..<ic { for r in 0..<h { for q in 0..<w {
            var (sum, magnitude) = (0.0, 0.0)
            for o in 0..<oc { for a in 0..<3 { for b in 0..<3 {
                let (sy, sx) = (r - a + 1, q - b + 1)
                guard (0..<h).contains(sy), (0..<w).contains(sx) else { continue }
                let product = ds[((m * oc + o) * h + sy) * w + sx] * ws[((o * ic + i) * 3 + a) * 3 + b]
                sum += product; magnitude += Swift.abs(product)
            } } }
            dx.append((sum, magnitude))
        } } } }
        for o in 0..<oc { for i in 0..<ic { for a in 0..<3 { for b in 0..<3 {
            var (sum, magnitude) = (0.0, 0.0)
            for m in 0..<n { for r in 0..<h { for q in 0..<w {
                guard let v = xAt(m, i, r + a - 1, q + b - 1) else { continue }
                let product = ds[((m * oc + o) * h + r) * w + q] * v
                sum += product; magnitude += Swift.abs(product)
            } } }
            dw.append((sum, magnitude))
        } } } }

        // Winograd's transforms scale values by up to 8 on the way in and out and sum 36 tile
        // terms, so its rounding error is some float32 epsilons (2⁻²⁴) of the terms' magnitudes
        // (measured on AVX-512: at most 15.2, in dx): bound 64·2⁻²⁴ of them.
        func check(_ name: String, _ got: [Float], _ expected: [(Double, Double)], _ kernels: [String]) {
            let error = got.indices.map { Swift.abs(Double(got[$0]) - expected[$0].0) / (expected[$0].1 * 0x1p-24 + 1e-30) }
            let worst = error.indices.max { error[$0] < error[$1] }!
            #expect(error[worst] <= 64, "\(name)[\(worst)] = \(got[worst]), expected \(expected[worst].0): error \(error[worst]) ε of the terms' magnitudes (\(kernels))")
        }
        // softplus(v) = log(1 + eᵛ) has slope < 1, so it carries y's error on, plus its own rounding.
        let expectedSoftplus = y.map { (Foundation.log1p(Foundation.exp($0.0)), $0.1 + Swift.abs($0.0)) }
        let softplusTraining = ConvolutionEpilogue(activation: .softplus, training: true)
        let softplusInference = ConvolutionEpilogue(activation: .softplus, training: false)

        if ic >= 16, oc >= 16 {
            let plain = try backend.convolutionForward(x, weight: weight, bias: bias, geometry: geometry, epilogue: .training)
            check("y", plain.scalars, y, kernels)
            let softplus = try backend.convolutionForward(x, weight: weight, bias: bias, geometry: geometry,
                                                          epilogue: softplusTraining)
            check("softplus(y)", softplus.scalars, expectedSoftplus, kernels)
            // Inference runs the batch image by image (on AVX-512 on Winograd kernels): same bounds.
            let inference = try backend.convolutionForward(x, weight: weight, bias: bias, geometry: geometry,
                                                           epilogue: softplusInference)
            check("softplus(y) in inference", inference.scalars, expectedSoftplus, kernels)
            check("dx", try backend.convolutionBackwardData(dy, weight: weight, inputShape: x.shape, geometry: geometry).scalars,
                  dx, kernels)
            let (gotDW, _) = try backend.convolutionBackwardWeights(dy, input: x, weightShape: weightShape, weightLayout: nil,
                                                                    withBias: true, geometry: geometry)
            check("dw", gotDW.scalars, dw, kernels)
        }

        guard CPUBackend.ownWinogradAvailable else { return }
        let ownKernels = ["compseg_winograd_4x3:avx2"]
        check("y", try backend.ownWinogradForward(x, weight: weight, bias: bias, epilogue: .training).scalars, y, ownKernels)
        check("softplus(y)", try backend.ownWinogradForward(x, weight: weight, bias: bias, epilogue: softplusTraining).scalars,
              expectedSoftplus, ownKernels)
        check("dx", try backend.ownWinogradBackwardData(dy, weight: weight, inputShape: x.shape).scalars, dx, ownKernels)
        let (ownDW, ownDB) = try backend.ownWinogradWeightGradient(dy, input: x, weightShape: weightShape, weightLayout: nil,
                                                                   withBias: true)
        check("dw", ownDW.scalars, dw, ownKernels)
        var db = [(Double, Double)](repeating: (0, 0), count: oc)
        for m in 0..<n { for o in 0..<oc { for p in 0..<(h * w) {
            let value = ds[(m * oc + o) * h * w + p]
            db[o].0 += value; db[o].1 += Swift.abs(value)
        } } }
        check("db", ownDB!.scalars, db, ownKernels)

        // The same bits on one thread and on three (tiles, weight rows and channel blocks split otherwise).
        for threads in [1, 3] {
            #expect(try backend.ownWinogradForward(x, weight: weight, bias: bias, epilogue: .training, threads: threads).scalars
                    == backend.ownWinogradForward(x, weight: weight, bias: bias, epilogue: .training).scalars)
            #expect(try backend.ownWinogradBackwardData(dy, weight: weight, inputShape: x.shape, threads: threads).scalars
                    == backend.ownWinogradBackwardData(dy, weight: weight, inputShape: x.shape).scalars)
            let (dwThreads, dbThreads) = try backend.ownWinogradWeightGradient(dy, input: x, weightShape: weightShape,
                                                                               weightLayout: nil, withBias: true,
                                                                               threads: threads)
            #expect(dwThreads.scalars == ownDW.scalars && dbThreads!.scalars == ownDB!.scalars, "\(threads) threads")
        }
    }

    /// Same inputs, same threads: the same bits (the kernels' sums run in a fixed order).
    @Test func repeatsItsResultsExactly() throws {
        let backend = CPUBackend.shared
        let geometry = ConvolutionGeometry(padding: 1)
        let x = randomTensor([3, 32, 24, 24], seed: 5), weight = randomTensor([32, 32, 3, 3], seed: 6, scale: 0.1)
        let dy = randomTensor([3, 32, 24, 24], seed: 7)
        func run() throws -> [[Float]] {
            [try backend.convolutionForward(x, weight: weight, bias: nil, geometry: geometry, epilogue: .training).scalars,
             try backend.convolutionBackwardData(dy, weight: weight, inputShape: x.shape, geometry: geometry).scalars,
             try backend.convolutionBackwardWeights(dy, input: x, weightShape: weight.shape, weightLayout: nil,
                                                    withBias: false, geometry: geometry).weight.scalars]
        }
        #expect(try run() == run())
        guard CPUBackend.ownWinogradAvailable else { return }
        func runOwn() throws -> [[Float]] {
            [try backend.ownWinogradForward(x, weight: weight, bias: nil, epilogue: .training).scalars,
             try backend.ownWinogradBackwardData(dy, weight: weight, inputShape: x.shape).scalars,
             try backend.ownWinogradWeightGradient(dy, input: x, weightShape: weight.shape, weightLayout: nil,
                                                   withBias: false).weight.scalars]
        }
        #expect(try runOwn() == runOwn())
    }

    /// An image's map does not depend on the batch it comes in (segment's --batch): oneDNN's
    /// Winograd kernels run image by image, compseg's give a tile the same bits in any batch, and
    /// which kernels run depends on the image, not the batch.
    @Test func inferenceGivesAnImageTheSameBitsInAnyBatch() throws {
        let backend = CPUBackend.shared
        let geometry = ConvolutionGeometry(padding: 1)
        let x = randomTensor([3, 24, 32, 32], seed: 8), weight = randomTensor([16, 24, 3, 3], seed: 9, scale: 0.1)
        let bias = randomTensor([16], seed: 10)
        let epilogue = ConvolutionEpilogue(activation: .softplus, training: false)
        let kernel = try backend.convolutionImplementations(x.shape, weightShape: weight.shape, withBias: true,
                                                            geometry: geometry, epilogue: epilogue)[0]
        if CPUBackend.convolutionAlgorithm == .winograd, CPUBackend.instructionSet.hasPrefix("AVX-512") {
            #expect(kernel.contains("wino"), "\(kernel)")
        }
        if CPUBackend.convolutionAlgorithm == .winograd, CPUBackend.ownWinogradAvailable, !CPUBackend.oneDNNHasWinograd {
            #expect(kernel.contains("compseg_winograd"), "\(kernel)")
        }
        let batch = try backend.convolutionForward(x, weight: weight, bias: bias, geometry: geometry, epilogue: epilogue).scalars
        let per = 24 * 32 * 32, out = 16 * 32 * 32
        for m in 0..<3 {
            let image = try Tensor(shape: [1, 24, 32, 32], scalars: Array(x.scalars[(m * per)..<((m + 1) * per)]))
            let alone = try backend.convolutionForward(image, weight: weight, bias: bias, geometry: geometry, epilogue: epilogue)
            let differing = zip(alone.scalars, batch[(m * out)..<((m + 1) * out)]).filter { $0 != $1 }.count
            #expect(differing == 0, "image \(m): \(differing) values differ")
        }
        guard CPUBackend.ownWinogradAvailable else { return }
        let ownBatch = try backend.ownWinogradForward(x, weight: weight, bias: bias, epilogue: epilogue).scalars
        for m in 0..<3 {
            let image = try Tensor(shape: [1, 24, 32, 32], scalars: Array(x.scalars[(m * per)..<((m + 1) * per)]))
            let alone = try backend.ownWinogradForward(image, weight: weight, bias: bias, epilogue: epilogue)
            let differing = zip(alone.scalars, ownBatch[(m * out)..<((m + 1) * out)]).filter { $0 != $1 }.count
            #expect(differing == 0, "image \(m), compseg's AVX2 kernels: \(differing) values differ")
        }
    }
}
