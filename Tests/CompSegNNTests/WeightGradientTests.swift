import Testing
import CompSegTestSupport
@testable import CompSegNN

/// The matrix-product path of a convolution's weight gradient (AVX2 CPUs take it for layers with
/// 64 or more output channels), called directly so that every CPU checks it, against the sums
/// computed in double precision.
@Suite struct WeightGradientTests {
    /// Input channels, output channels, H, W, kernel (kH×kW), padding (vertical, horizontal), batch.
    @Test(arguments: [(5, 64, 7, 9, (3, 3), (1, 1), 2), (9, 72, 6, 5, (5, 5), (2, 2), 1), (16, 64, 8, 8, (3, 3), (0, 0), 3),
                      (3, 64, 5, 4, (1, 1), (0, 0), 2), (6, 64, 7, 8, (3, 5), (1, 2), 2), (4, 64, 6, 9, (5, 3), (0, 1), 1)])
    func matchesTheSumsItStandsFor(_ c: (Int, Int, Int, Int, (Int, Int), (Int, Int), Int)) throws {
        let (ic, oc, h, w, (kh, kw), (ph, pw), n) = c
        let backend = CPUBackend.shared
        let geometry = ConvolutionGeometry(stride: (1, 1), padding: (ph, pw))
        let weightShape: Shape = [oc, ic, kh, kw]
        let (ho, wo) = (h + 2 * ph - kh + 1, w + 2 * pw - kw + 1)
        let x = randomTensor([n, ic, h, w], seed: 1)
        let dy = randomTensor([n, oc, ho, wo], seed: 2)

        // dW[o, i, a, b] = Σ dy[n, o, y, x] · x[n, i, y + a − pH, x + b − pW]; db[o] = Σ dy[n, o, y, x].
        // The products sum over the padded grid's pixels (zeros included): float32 accumulation of
        // `terms` values errs by at most terms·2⁻²⁴ of the sum of their magnitudes.
        let (xs, ds) = (x.scalars.map(Double.init), dy.scalars.map(Double.init))
        let terms = n * (h + 2 * ph) * (w + 2 * pw)
        var expected = [Double](repeating: 0, count: weightShape.count), bound = expected
        for o in 0..<oc { for i in 0..<ic { for a in 0..<kh { for b in 0..<kw {
            var sum = 0.0, magnitude = 0.0
            for m in 0..<n { for y in 0..<ho { for xx in 0..<wo {
                let (sy, sx) = (y + a - ph, xx + b - pw)
                guard (0..<h).contains(sy), (0..<w).contains(sx) else { continue }
                let product = ds[((m * oc + o) * ho + y) * wo + xx] * xs[((m * ic + i) * h + sy) * w + sx]
                sum += product
                magnitude += Swift.abs(product)
            } } }
            let index = ((o * ic + i) * kh + a) * kw + b
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
