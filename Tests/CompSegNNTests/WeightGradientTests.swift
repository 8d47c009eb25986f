import Testing
import CompSegTestSupport
@testable import CompSegNN

/// The matrix-product path of a convolution's weight gradient (AVX2 CPUs take it for layers with
/// 64 or more output channels), called directly so that every CPU checks it, against the sums
/// computed in double precision.
@Suite struct WeightGradientTests {
    /// Input channels, output channels, H, W, kernel, padding, batch.
    @Test(arguments: [(5, 64, 7, 9, 3, 1, 2), (9, 72, 6, 5, 5, 2, 1), (16, 64, 8, 8, 3, 0, 3), (3, 64, 5, 4, 1, 0, 2)])
    func matchesTheSumsItStandsFor(_ c: (Int, Int, Int, Int, Int, Int, Int)) throws {
        let (ic, oc, h, w, k, p, n) = c
        let backend = CPUBackend.shared
        let geometry = ConvolutionGeometry(padding: p)
        let weightShape: Shape = [oc, ic, k, k]
        let (ho, wo) = (h + 2 * p - k + 1, w + 2 * p - k + 1)
        let x = randomTensor([n, ic, h, w], seed: 1)
        let dy = randomTensor([n, oc, ho, wo], seed: 2)

        // dW[o, i, a, b] = Σ dy[n, o, y, x] · x[n, i, y + a − p, x + b − p]; db[o] = Σ dy[n, o, y, x].
        // The products sum over the padded grid's pixels (zeros included): float32 accumulation of
        // `terms` values errs by at most terms·2⁻²⁴ of the sum of their magnitudes.
        let (xs, ds) = (x.scalars.map(Double.init), dy.scalars.map(Double.init))
        let terms = n * (h + 2 * p) * (w + 2 * p)
        var expected = [Double](repeating: 0, count: weightShape.count), bound = expected
        for o in 0..<oc { for i in 0..<ic { for a in 0..<k { for b in 0..<k {
            var sum = 0.0, magnitude = 0.0
            for m in 0..<n { for y in 0..<ho { for xx in 0..<wo {
                let (sy, sx) = (y + a - p, xx + b - p)
                guard (0..<h).contains(sy), (0..<w).contains(sx) else { continue }
                let product = ds[((m * oc + o) * ho + y) * wo + xx] * xs[((m * ic + i) * h + sy) * w + sx]
                sum += product
                magnitude += Swift.abs(product)
            } } }
            let index = ((o * ic + i) * k + a) * k + b
            expected[index] = sum
            bound[index] = Double(terms) * 0x1p-24 * magnitude + 1e-7
        } } } }
        func biasSum(_ o: Int, _ f: (Double) -> Double) -> Double {
            (0..<n).reduce(0.0) { s, m in s + ds[((m * oc + o) * ho * wo)..<((m * oc + o + 1) * ho * wo)].map(f).reduce(0, +) }
        }

        // Input plain or in the convolution's layout; gradient plain or in the weights' kernel layout.
        let blocked = try backend.convolutionInputLayout(x.shape, weightShape: weightShape, withBias: true,
                                                         geometry: geometry, epilogue: .training)
        let weightLayout = try backend.convolutionWeightLayout(x.shape, weightShape: weightShape, withBias: true,
                                                               geometry: geometry, epilogue: .training)
        for (input, layout) in [(x, nil), (backend.reorder(x, to: blocked), weightLayout)] {
            let (dw, db) = try backend.gemmWeightGradient(dy, input: input, weightShape: weightShape,
                                                          weightLayout: layout, withBias: true, geometry: geometry)
            #expect(dw.layout === layout)
            let got = dw.scalars
            let worst = got.indices.max { Swift.abs(Double(got[$0]) - expected[$0]) / bound[$0]
                < Swift.abs(Double(got[$1]) - expected[$1]) / bound[$1] }!
            #expect(Swift.abs(Double(got[worst]) - expected[worst]) <= bound[worst],
                    "dW[\(worst)] = \(got[worst]), expected \(expected[worst]) ± \(bound[worst])")
            let bias = try #require(db).scalars
            for o in 0..<oc {
                #expect(Swift.abs(Double(bias[o]) - biasSum(o, { $0 })) <= Double(terms) * 0x1p-24 * biasSum(o, Swift.abs) + 1e-7)
            }
        }
    }
}
