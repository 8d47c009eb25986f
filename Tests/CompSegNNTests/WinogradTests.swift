import Foundation
import Testing
import CompSegTestSupport
@testable import CompSegNN

/// 3×3 convolutions large enough for Winograd's F(4×4, 3×3) kernels (AVX-512 CPUs): forward (with
/// and without softplus, which then runs after the kernel), backward data and backward weights
/// against sums computed in double precision. On other CPUs the same geometries take direct
/// kernels and the same bounds hold.
@Suite struct WinogradTests {
    /// Input channels, output channels, H, W, batch: channel counts off the 16-channel block and
    /// sides off the 4-pixel tile, so padded tiles and channels are covered.
    @Test(arguments: [(20, 24, 17, 19, 2), (32, 16, 16, 16, 3)])
    func agreesWithDoublePrecisionSums(_ c: (Int, Int, Int, Int, Int)) throws {
        let (ic, oc, h, w, n) = c
        let backend = CPUBackend.shared
        let geometry = ConvolutionGeometry(padding: 1)
        let weightShape: Shape = [oc, ic, 3, 3]
        #expect(CPUBackend.usesWinograd(input: [n, ic, h, w], weightShape: weightShape, geometry: geometry, training: true)
                == (CPUBackend.convolutionAlgorithm == .winograd))
        let kernels = try backend.convolutionImplementations([n, ic, h, w], weightShape: weightShape, withBias: true,
                                                             geometry: geometry, epilogue: .training)
        if CPUBackend.convolutionAlgorithm == .winograd, CPUBackend.instructionSet.hasPrefix("AVX-512") {
            #expect(kernels.allSatisfy { $0.contains("wino") }, "\(kernels)")
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
        func check(_ name: String, _ got: [Float], _ expected: [(Double, Double)]) {
            let error = got.indices.map { Swift.abs(Double(got[$0]) - expected[$0].0) / (expected[$0].1 * 0x1p-24 + 1e-30) }
            let worst = error.indices.max { error[$0] < error[$1] }!
            #expect(error[worst] <= 64, "\(name)[\(worst)] = \(got[worst]), expected \(expected[worst].0): error \(error[worst]) ε of the terms' magnitudes (\(kernels))")
        }
        let plain = try backend.convolutionForward(x, weight: weight, bias: bias, geometry: geometry, epilogue: .training)
        check("y", plain.scalars, y)
        let softplus = try backend.convolutionForward(x, weight: weight, bias: bias, geometry: geometry,
                                                      epilogue: ConvolutionEpilogue(activation: .softplus, training: true))
        // softplus(v) = log(1 + eᵛ) has slope < 1, so it carries y's error on, plus its own rounding.
        let expectedSoftplus = y.map { (Foundation.log1p(Foundation.exp($0.0)), $0.1 + Swift.abs($0.0)) }
        check("softplus(y)", softplus.scalars, expectedSoftplus)
        // Inference runs the batch image by image (on AVX-512 on Winograd kernels): same bounds.
        let inference = try backend.convolutionForward(x, weight: weight, bias: bias, geometry: geometry,
                                                       epilogue: ConvolutionEpilogue(activation: .softplus, training: false))
        check("softplus(y) in inference", inference.scalars, expectedSoftplus)
        check("dx", try backend.convolutionBackwardData(dy, weight: weight, inputShape: x.shape, geometry: geometry).scalars, dx)
        let (gotDW, _) = try backend.convolutionBackwardWeights(dy, input: x, weightShape: weightShape, weightLayout: nil,
                                                                withBias: true, geometry: geometry)
        check("dw", gotDW.scalars, dw)
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
    }

    /// Inference runs Winograd kernels image by image: an image's map does not depend on the
    /// batch it comes in (segment's --batch).
    @Test func inferenceGivesAnImageTheSameBitsInAnyBatch() throws {
        let backend = CPUBackend.shared
        let geometry = ConvolutionGeometry(padding: 1)
        let x = randomTensor([3, 24, 20, 20], seed: 8), weight = randomTensor([16, 24, 3, 3], seed: 9, scale: 0.1)
        let bias = randomTensor([16], seed: 10)
        let epilogue = ConvolutionEpilogue(activation: .softplus, training: false)
        let kernel = try backend.convolutionImplementations(x.shape, weightShape: weight.shape, withBias: true,
                                                            geometry: geometry, epilogue: epilogue)[0]
        if CPUBackend.convolutionAlgorithm == .winograd, CPUBackend.instructionSet.hasPrefix("AVX-512") {
            #expect(kernel.contains("wino"), "\(kernel)")
        }
        let batch = try backend.convolutionForward(x, weight: weight, bias: bias, geometry: geometry, epilogue: epilogue).scalars
        let per = 24 * 20 * 20, out = 16 * 20 * 20
        for m in 0..<3 {
            let image = try Tensor(shape: [1, 24, 20, 20], scalars: Array(x.scalars[(m * per)..<((m + 1) * per)]))
            let alone = try backend.convolutionForward(image, weight: weight, bias: bias, geometry: geometry, epilogue: epilogue)
            let differing = zip(alone.scalars, batch[(m * out)..<((m + 1) * out)]).filter { $0 != $1 }.count
            #expect(differing == 0, "image \(m): \(differing) values differ")
        }
    }
}
