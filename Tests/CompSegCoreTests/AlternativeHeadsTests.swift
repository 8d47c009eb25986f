import Foundation
import Testing
import AlternativeHeads
import CompSegCore
import CompSegNN
import CompSegTestSupport

/// Shared helpers: expected values are computed here in Double, independently of the heads.
private enum Reference {
    static let epsilon = 1e-6
    static func clipped(_ s: Double) -> Double { Swift.min(Swift.max(s, epsilon), 1 - epsilon) }
    /// −[ℓ log ŝ + (1 − ℓ) log(1 − ŝ)] with ŝ clipped to [1e-6, 1 − 1e-6].
    static func crossEntropy(_ s: Double, _ label: Double) -> Double {
        let c = clipped(s)
        return -(label * Foundation.log(c) + (1 - label) * Foundation.log(1 - c))
    }
    /// Activations for a gradient check: per image, tissue values uniform in `tissue` and others
    /// uniform in `background`; the mask leaves out every fourth pixel.
    static func activations(_ ranges: [(tissue: ClosedRange<Float>, background: ClosedRange<Float>)],
                            pixels: Int, seed: UInt64) throws -> (activation: Tensor, mask: Tensor) {
        var g = SeededGenerator(seed: seed)
        let mask = (0..<(ranges.count * pixels)).map { $0 % 4 == 3 ? Float(0) : 1 }
        let values = mask.indices.map { i -> Float in
            let r = mask[i] > 0 ? ranges[i / pixels].tissue : ranges[i / pixels].background
            return r.lowerBound + (r.upperBound - r.lowerBound) * g.nextUniform()
        }
        let shape: Shape = [ranges.count, 1, 1, pixels]
        return (try Tensor(shape: shape, scalars: values), try Tensor(shape: shape, scalars: mask))
    }
    static func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }
}

/// Registration and configuration of the four heads; one nested suite per head.
@Suite struct AlternativeHeadsTests {
    func registry() throws -> Registry {
        var r = Registry()
        try TrapezoidHead.register(in: &r)
        try SizeHead.register(in: &r)
        try LSEHead.register(in: &r)
        try TopKHead.register(in: &r)
        return r
    }

    @Test func allFourAreRegisteredWithOneLineSummaries() throws {
        let r = try registry()
        #expect(r.heads.infos.map(\.identifier) == ["lse", "size", "topk", "trapezoid"])
        #expect(r.heads.infos.allSatisfy { !$0.summary.isEmpty && !$0.summary.contains("\n") })
        #expect(try r.head("trapezoid") is TrapezoidHead)
        #expect(try r.head("SIZE") is SizeHead)
        #expect(try r.head("lse") is LSEHead)
        #expect(try r.head("topk") is TopKHead)
    }

    @Test(arguments: [
        ("trapezoid", #"{"alpha": 0.1, "gamma": 1}"#, "unknown key 'gamma'; known keys: alpha, beta"),
        ("size", #"{"a": 0.2}"#, "unknown key 'a'; known keys: lower, reduction, upper"),
        ("lse", #"{"r": 10}"#, "unknown key 'r'; known keys: sharpness"),
        ("topk", #"{"k": 0.2}"#, "unknown key 'k'; known keys: fraction"),
    ])
    func unknownConfigurationKeysAreNamed(head: String, json: String, message: String) throws {
        let configuration = PluginConfiguration(json: Data(json.utf8), source: "run.yaml: head")
        #expect(throws: ConfigurationError(source: "run.yaml: head", message: message)) {
            try registry().head(head, configuration)
        }
    }

    @Test(arguments: [
        ("trapezoid", #"{"alpha": 0}"#), ("trapezoid", #"{"beta": -0.1}"#), ("trapezoid", #"{"alpha": 0.2, "beta": 0.8}"#),
        ("size", #"{"lower": -0.1}"#), ("size", #"{"lower": 0.6, "upper": 0.5}"#), ("size", #"{"upper": 1.5}"#),
        ("size", #"{"reduction": "max"}"#),
        ("lse", #"{"sharpness": 0}"#), ("lse", #"{"sharpness": -2}"#),
        ("topk", #"{"fraction": 0}"#), ("topk", #"{"fraction": 1.5}"#),
    ])
    func invalidValuesAreRejected(head: String, json: String) throws {
        let configuration = PluginConfiguration(json: Data(json.utf8), source: "run.yaml: head")
        #expect(throws: ConfigurationError.self) { try registry().head(head, configuration) }
    }

    @Test func validationMessagesNameTheValues() {
        var t = TrapezoidHead.Configuration()
        t.beta = 0.95
        #expect(Reference.message { try TrapezoidHead(t) } == "trapezoid head: alpha must be positive, beta non-negative "
                + "and alpha + beta below 1, got alpha 0.05, beta 0.95")
        var s = SizeHead.Configuration()
        s.lower = 0.95
        #expect(Reference.message { try SizeHead(s) }
                == "size head: lower and upper must satisfy 0 ≤ lower ≤ upper ≤ 1, got lower 0.95, upper 0.9")
        var k = TopKHead.Configuration()
        k.fraction = 2
        #expect(Reference.message { try TopKHead(k) } == "topk head: fraction must lie in (0, 1], got 2.0")
        var l = LSEHead.Configuration()
        l.sharpness = .infinity
        #expect(Reference.message { try LSEHead(l) } == "lse head: sharpness must be positive and finite, got inf")
    }

    @Test func defaultsAreFilledForMissingKeys() throws {
        let c = try PluginConfiguration(json: Data(#"{"upper": 0.5}"#.utf8)).decode(SizeHead.Configuration.self)
        #expect(c.lower == 0.1 && c.upper == 0.5 && c.reduction == .mean)
        let t = try PluginConfiguration(json: Data(#"{"beta": 0.5}"#.utf8)).decode(TrapezoidHead.Configuration.self)
        #expect(t.alpha == 0.05 && t.beta == 0.5)
        #expect(try PluginConfiguration().decode(LSEHead.Configuration.self).sharpness == 5)
        #expect(try PluginConfiguration().decode(TopKHead.Configuration.self).fraction == 0.1)
    }

    /// Every head rejects labels that are not one 0 or 1 per image, and an image without tissue.
    @Test(arguments: ["trapezoid", "size", "lse", "topk"])
    func badLabelsAndEmptyTissueAreNamed(head: String) throws {
        let h = try registry().head(head)
        let a = Tensor(repeating: 0.5, shape: [2, 1, 2, 2])
        let tissue = Tensor(repeating: 1, shape: [2, 1, 2, 2])
        #expect(Reference.message { try h.loss(activation: a, tissue: tissue, labels: Tensor(zeros: [3])) }
            == "\(head) loss: labels must have shape 2 (one per image), got 3")
        let half = try Tensor(shape: [2], scalars: [1, 0.5])
        #expect(Reference.message { try h.loss(activation: a, tissue: tissue, labels: half) }
            == "\(head) loss: label of image 1 is 0.5; expected 1 (cancer) or 0 (cancer-free)")
        let partial = try Tensor(shape: [2, 1, 2, 2], scalars: [1, 1, 0, 0, 0, 0, 0, 0])
        #expect(Reference.message { try h.score(activation: a, tissue: partial) }.contains("mask of image 1 is empty"))
    }
}

extension AlternativeHeadsTests {
    @Suite struct Trapezoid {
        static func trapezoid(_ p: Double, alpha: Double = 0.05, beta: Double = 0.8) -> Double {
            let top = alpha + beta
            return Swift.min(Swift.max(p / alpha, 0), 1) + Swift.min(Swift.max(-(p - top) / Swift.abs(1 - top), -1), 0)
        }

        /// Rising edge, corners, plateau, falling edge and both ends: 0, .4, 1, 1, 1, 2/3, 0.
        @Test(arguments: [0.0, 0.02, 0.05, 0.5, 0.85, 0.9, 1.0])
        func trapezoidAtKnownPoints(p: Double) throws {
            // Every tissue pixel is p; the pixel off tissue (0.99) must not count.
            let a = try Tensor(shape: [1, 1, 2, 2], scalars: [Float(p), 0.99, Float(p), Float(p)])
            let mask = try Tensor(shape: [1, 1, 2, 2], scalars: [1, 0, 1, 1])
            let o = try TrapezoidHead().score(activation: a, tissue: mask).scalars[0]
            #expect(Swift.abs(Double(o) - Self.trapezoid(p)) < 1e-5)  // float32 of p, times 1/α = 20
        }

        @Test func configuredCornersMove() throws {
            var c = TrapezoidHead.Configuration()
            (c.alpha, c.beta) = (0.2, 0.3)  // rises to 1 at 0.2, falls from 0.5 to 0 at 1
            let head = try TrapezoidHead(c)
            for p in [0.1, 0.3, 0.75] {
                let o = try head.score(activation: Tensor(repeating: Float(p), shape: [1, 1, 1, 2]),
                                       tissue: Tensor(repeating: 1, shape: [1, 1, 1, 2])).scalars[0]
                #expect(Swift.abs(Double(o) - Self.trapezoid(p, alpha: 0.2, beta: 0.3)) < 1e-5)
            }
        }

        /// Two cancer images and one cancer-free: class weights 3/(2·2) and 3/(2·1); the background
        /// term averages −log(1 − a) over the off-tissue pixel of image 0 and both pixels of image 2.
        @Test func lossIsBalancedCrossEntropyPlusBackground() throws {
            let a = try Tensor(shape: [3, 1, 1, 2], scalars: [0.02, 0.6, 0.3, 0.5, 0.01, 0.03])
            let mask = try Tensor(shape: [3, 1, 1, 2], scalars: [1, 0, 1, 1, 1, 0])  // p = .02, .4, .01
            let labels = try Tensor(shape: [3], scalars: [1, 1, 0])
            let o = [0.02, 0.4, 0.01].map { Self.trapezoid($0) }  // .4, 1, .2
            let bce = (0.75 * Reference.crossEntropy(o[0], 1) + 0.75 * Reference.crossEntropy(o[1], 1)
                       + 1.5 * Reference.crossEntropy(o[2], 0)) / 3
            let background = -(Foundation.log(1 - 0.6) + Foundation.log(1 - 0.01) + Foundation.log(1 - 0.03)) / 3
            let loss = try TrapezoidHead().loss(activation: a, tissue: mask, labels: labels)
            #expect(loss.shape == [1])
            #expect(Swift.abs(Double(loss.scalars[0]) - (bce + background)) < 1e-5)
        }

        /// A batch of one class weighs each image N/(2·N) = 1/2 (the absent class weighs 0); with all
        /// tissue in cancer images there is no background pixel, so no background term.
        @Test func singleClassBatchWeighsHalfAndMayHaveNoBackground() throws {
            let a = try Tensor(shape: [2, 1, 1, 2], scalars: [0.01, 0.03, 0.9, 0.96])  // p = .02, .93
            let labels = try Tensor(shape: [2], scalars: [1, 1])
            let expected = 0.5 * (Reference.crossEntropy(Self.trapezoid(0.02), 1)
                                  + Reference.crossEntropy(Self.trapezoid(0.93), 1)) / 2
            let tissue = Tensor(repeating: 1, shape: [2, 1, 1, 2])
            let loss = try TrapezoidHead().loss(activation: a, tissue: tissue, labels: labels)
            #expect(Swift.abs(Double(loss.scalars[0]) - expected) < 1e-5)
        }

        /// Tissue means on the rising edge (≈.03) and falling edge (≈.92) and a cancer-free one on
        /// the rising edge, each ≥ .01 from a corner; a pixel step of 1e-3 moves p by < 2e-4, so no
        /// clip kink is crossed (pixels stay in [.01, .96], far from the 1e-6 clips). The slopes are
        /// O(1/α) = 20, hence the step 1e-3 (truncation ~1e-5) and tolerance 1e-2 (float32 rounding of
        /// an O(1) loss over 2·step ≈ 1e-4 of a gradient scale ~1).
        @Test func lossGradientMatchesFiniteDifferences() throws {
            let (a, mask) = try Reference.activations([(0.02...0.04, 0.1...0.5), (0.89...0.95, 0.2...0.6),
                                                       (0.01...0.04, 0.01...0.04)], pixels: 8, seed: 5)
            let labels = try Tensor(shape: [3], scalars: [1, 1, 0])
            let head = try TrapezoidHead()
            let failures = try gradientCheck([a], step: 1e-3, tolerance: 1e-2) { t in
                try head.loss(activation: t[0], tissue: mask, labels: labels)
            }
            #expect(failures.isEmpty, "\(failures)")
        }
    }
}

extension AlternativeHeadsTests {
    @Suite struct Size {
        static func penalty(_ v: Double, lower: Double, upper: Double) -> Double {
            let below = Swift.max(lower - v, 0), above = Swift.max(v - upper, 0)
            return below * below + above * above
        }

        /// Cancer images below, inside and above [.1, .9]; cancer-free ones pushed to V = 0.
        @Test(arguments: [(0.05, 1.0), (0.5, 1.0), (0.95, 1.0), (0.1, 1.0), (0.3, 0.0), (0.0, 0.0)])
        func penaltyAtKnownPoints(v: Double, label: Double) throws {
            // The tissue pixels average to v; the off-tissue 0.99 must not count.
            let a = try Tensor(shape: [1, 1, 1, 3], scalars: [Float(v) - 0.01 * Float(v), 0.99, Float(v) + 0.01 * Float(v)])
            let mask = try Tensor(shape: [1, 1, 1, 3], scalars: [1, 0, 1])
            let head = try SizeHead()
            #expect(Swift.abs(Double(try head.score(activation: a, tissue: mask).scalars[0]) - v) < 1e-6)
            let loss = try head.loss(activation: a, tissue: mask, labels: Tensor(shape: [1], scalars: [Float(label)]))
            let expected = label == 1 ? Self.penalty(v, lower: 0.1, upper: 0.9) : v * v
            #expect(Swift.abs(Double(loss.scalars[0]) - expected) < 1e-6)
        }

        @Test func reductionIsMeanOrSumAndBoundsAreConfigurable() throws {
            let v: [Double] = [0.1, 0.6, 0.3]
            let a = try Tensor(shape: [3, 1, 1, 2], scalars: v.flatMap { [Float($0), Float($0)] })
            let mask = Tensor(repeating: 1, shape: [3, 1, 1, 2])
            let labels = try Tensor(shape: [3], scalars: [1, 1, 0])
            var c = SizeHead.Configuration()
            (c.lower, c.upper) = (0.2, 0.4)
            let penalties = [Self.penalty(0.1, lower: 0.2, upper: 0.4), Self.penalty(0.6, lower: 0.2, upper: 0.4), 0.09]
            let meanLoss = try SizeHead(c).loss(activation: a, tissue: mask, labels: labels).scalars[0]
            #expect(Swift.abs(Double(meanLoss) - penalties.reduce(0, +) / 3) < 1e-6)
            c.reduction = .sum
            let sumLoss = try SizeHead(c).loss(activation: a, tissue: mask, labels: labels).scalars[0]
            #expect(Swift.abs(Double(sumLoss) - penalties.reduce(0, +)) < 1e-6)
        }

        /// Cancer images below a (V ≈ .05), above b (≈ .95) and inside (≈ .5, zero gradient), and a
        /// cancer-free one (≈ .3); a pixel step of 1e-2 moves V by < 2e-3, never across a or b. The
        /// penalty is piecewise quadratic, so central differences are exact up to float32 rounding:
        /// the default step 1e-2 and tolerance 5e-3 apply.
        @Test func lossGradientMatchesFiniteDifferences() throws {
            let (a, mask) = try Reference.activations([(0.03...0.07, 0.5...0.9), (0.93...0.97, 0.1...0.5),
                                                       (0.4...0.6, 0.1...0.9), (0.2...0.4, 0.1...0.9)], pixels: 8, seed: 6)
            let labels = try Tensor(shape: [4], scalars: [1, 1, 1, 0])
            let head = try SizeHead()
            let failures = try gradientCheck([a]) { t in try head.loss(activation: t[0], tissue: mask, labels: labels) }
            #expect(failures.isEmpty, "\(failures)")
        }
    }
}

extension AlternativeHeadsTests {
    @Suite struct LSE {
        /// (1/r)·log(mean of exp(r·a) over tissue), straight from the definition in Double.
        static func lse(_ values: [Double], r: Double) -> Double {
            Foundation.log(values.map { Foundation.exp(r * $0) }.reduce(0, +) / Double(values.count)) / r
        }

        @Test(arguments: [0.5, 5, 200] as [Float])
        func scoreAtKnownPoints(r: Float) throws {
            // The off-tissue pixel is 1: exp(200·1) overflows float32, so it must not enter at all.
            let a = try Tensor(shape: [2, 1, 1, 4], scalars: [0.2, 0.7, 1.0, 0.4, 0.05, 0.1, 0.3, 0.15])
            let mask = try Tensor(shape: [2, 1, 1, 4], scalars: [1, 1, 0, 1, 1, 1, 1, 1])
            var c = LSEHead.Configuration()
            c.sharpness = r
            let s = try LSEHead(c).score(activation: a, tissue: mask).scalars
            let expected = [Self.lse([0.2, 0.7, 0.4], r: Double(r)), Self.lse([0.05, 0.1, 0.3, 0.15], r: Double(r))]
            for i in 0..<2 {
                #expect(Swift.abs(Double(s[i]) - expected[i]) < 1e-5, "r \(r), image \(i): \(s[i]) vs \(expected[i])")
            }
        }

        @Test func lossIsMeanCrossEntropy() throws {
            let a = try Tensor(shape: [2, 1, 1, 3], scalars: [0.2, 0.7, 0.4, 0.05, 0.1, 0.3])
            let mask = Tensor(repeating: 1, shape: [2, 1, 1, 3])
            let labels = try Tensor(shape: [2], scalars: [1, 0])
            let s = [Self.lse([0.2, 0.7, 0.4], r: 5), Self.lse([0.05, 0.1, 0.3], r: 5)]
            let expected = (Reference.crossEntropy(s[0], 1) + Reference.crossEntropy(s[1], 0)) / 2
            let loss = try LSEHead().loss(activation: a, tissue: mask, labels: labels)
            // 1e-5: the backend's float32 log is off by up to ~2e-6 (oneDNN's eltwise, not libm).
            #expect(loss.shape == [1])
            #expect(Swift.abs(Double(loss.scalars[0]) - expected) < 1e-5, "\(loss.scalars[0]) vs \(expected)")
        }

        /// Smooth everywhere the scores stay inside (1e-6, 1 − 1e-6), as they do for activations in
        /// [.1, .9]. Curvature grows with r² = 25, so the step is 1e-3 (truncation ~1e-5); float32
        /// rounding of an O(1) loss over 2·step is ~1e-4 of the O(0.1) gradients: tolerance 5e-3.
        @Test func lossGradientMatchesFiniteDifferences() throws {
            let (a, mask) = try Reference.activations([(0.1...0.9, 0.1...0.9), (0.1...0.5, 0.5...0.9),
                                                       (0.3...0.9, 0.1...0.9)], pixels: 8, seed: 7)
            let labels = try Tensor(shape: [3], scalars: [1, 0, 1])
            let head = try LSEHead()
            let failures = try gradientCheck([a], step: 1e-3) { t in
                try head.loss(activation: t[0], tissue: mask, labels: labels)
            }
            #expect(failures.isEmpty, "\(failures)")
        }
    }
}

extension AlternativeHeadsTests {
    @Suite struct TopK {
        /// Image 0: tissue .2, .8, .4, .6 (off tissue .99, .1); half of 4 is 2: (.8 + .6)/2 = .7.
        /// Image 1: five tissue pixels; half of 5 is 2.5 → 3: (.3 + .2 + .15)/3.
        @Test func scoreAndLossAtKnownPoints() throws {
            let a = try Tensor(shape: [2, 1, 2, 3], scalars: [0.2, 0.8, 0.99, 0.4, 0.6, 0.1,
                                                              0.1, 0.3, 0.05, 0.2, 0.15, 0.9])
            let mask = try Tensor(shape: [2, 1, 2, 3], scalars: [1, 1, 0, 1, 1, 0,
                                                                 1, 1, 1, 1, 1, 0])
            var c = TopKHead.Configuration()
            c.fraction = 0.5
            let head = try TopKHead(c)
            let expected = [0.7, (0.3 + 0.2 + 0.15) / 3]
            let s = try head.score(activation: a, tissue: mask).scalars
            for i in 0..<2 { #expect(Swift.abs(Double(s[i]) - expected[i]) < 1e-6) }
            let loss = try head.loss(activation: a, tissue: mask, labels: Tensor(shape: [2], scalars: [1, 0]))
            let bce = (Reference.crossEntropy(expected[0], 1) + Reference.crossEntropy(expected[1], 0)) / 2
            #expect(Swift.abs(Double(loss.scalars[0]) - bce) < 1e-5)  // the backend's log: see LSE
        }

        /// Distinct activations .02 apart in [.1, .9) (ties or near-ties would let a step of 1e-3
        /// swap the chosen pixels, where the loss has a kink); the loss is smooth otherwise, with
        /// O(1) curvature, so step 1e-3 and the default tolerance 5e-3.
        @Test(arguments: [0.1, 0.5] as [Float])
        func lossGradientMatchesFiniteDifferences(fraction: Float) throws {
            var g = SeededGenerator(seed: 8)
            let values = (0..<40).map { 0.1 + 0.02 * Float($0) }.shuffled(using: &g)
            let a = try Tensor(shape: [2, 1, 4, 5], scalars: values)
            let mask = try Tensor(shape: [2, 1, 4, 5], scalars: (0..<40).map { $0 % 4 == 3 ? 0 : 1 })
            let labels = try Tensor(shape: [2], scalars: [1, 0])
            var c = TopKHead.Configuration()
            c.fraction = fraction
            let head = try TopKHead(c)
            let failures = try gradientCheck([a], step: 1e-3) { t in
                try head.loss(activation: t[0], tissue: mask, labels: labels)
            }
            #expect(failures.isEmpty, "\(failures)")
        }
    }
}
