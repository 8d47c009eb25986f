import CompSegCore
import CompSegNN
@testable import CompSegTraining
import Testing

/// Activation counts give exactly what the maps give: the results at any threshold, and the
/// faint thresholds `bestThreshold` takes from the maps' own values (rounded order statistics).
@Suite struct ActivationCountsTests {
    /// A 1×n sample: tissue everywhere but every fifth pixel.
    static func sample(_ id: String, _ n: Int, _ label: SampleLabel) throws -> Sample {
        try Sample(id: id, image: Tensor(zeros: [1, 1, n]), channels: .bands(["x"]),
                   tissue: try Mask(height: 1, width: n, pixels: (0..<n).map { $0 % 5 != 4 }),
                   preview: try RGBImage(height: 1, width: n, bytes: [UInt8](repeating: 0, count: 3 * n)), label: label)
    }

    /// Activations on and about every edge (the rounding bounds and their neighbours, 0.05 and
    /// the float below it), NaN, 0, and random faint and bright ones.
    static func maps(_ count: Int, _ n: Int) -> [[Float]] {
        let edges = ActivationCounts.edges(adding: [])
        let awkward = edges.flatMap { [$0, $0.nextUp, $0.nextDown] } + [.nan, 0, 0.0004, 1, Float(0.05).nextDown, 0.05]
        var g = SeededGenerator(seed: 7)
        return (0..<count).map { s in
            (0..<n).map { i in
                switch (i + s) % 4 {
                case 0: awkward[(i * 7 + s * 13) % awkward.count]
                case 1: g.nextUniform() * 0.05
                case 2: g.nextUniform() * 0.006
                default: g.nextUniform()
                }
            }
        }
    }

    @Test func countsScoreAsTheMapsDo() throws {
        let n = 4000
        let samples = try [Self.sample("a", n, .cancer), Self.sample("b", n, .cancer), Self.sample("c", n, .cancerFree)]
        let maps = Self.maps(3, n)
        let truth: [String: [Bool]] = ["a": (0..<n).map { $0 % 3 == 0 }, "b": (0..<n).map { $0 % 7 < 3 }]
        // The faint thresholds: the twentieths of the tissue activations below 0.05, rounded as `rounded` does (NaN is none).
        let faint = zip(samples, maps).flatMap { s, map in map.indices.filter { s.tissue.pixels[$0] && map[$0] < 0.05 }.map { map[$0] } }.sorted()
        let expected = Set((1..<20).map { SegmentationEvaluation.rounded(faint[(faint.count - 1) * $0 / 20]) }
            .filter { $0 >= SegmentationEvaluation.faintestThreshold }).sorted()
        let counts = zip(samples, maps).map { ActivationCounts($0, map: $1, truth: truth[$0.id]) }
        #expect(SegmentationEvaluation.faintCandidates(counts) == expected)
        // Every bin lies within one rounding step: each bound rounds down, the float above it up.
        for (bound, low) in zip(ActivationCounts.roundingBounds, [Float(0.00099)] + ActivationCounts.candidates) {
            #expect(SegmentationEvaluation.rounded(bound) == low && SegmentationEvaluation.rounded(bound.nextUp) != low, "\(bound)")
        }
        // The results at thresholds on and off the grid, and not finite, as counted pixel by pixel.
        for t in expected + [0.05, 0.35, 0.0123, Float(0.05).nextDown, .nan, .infinity, -.infinity] {
            let e = SegmentationEvaluation(samples: samples, maps: maps, truth: truth, threshold: t)
            for ((s, map), r) in zip(zip(samples, maps), e.results) {
                let tissue = s.tissue.pixels, predicted = map.indices.map { map[$0] > t && tissue[$0] }
                #expect(r.tissuePixels == s.tissue.count && r.tumorPixels == predicted.filter { $0 }.count, "\(s.id) at \(t)")
                let agreement = truth[s.id].map { t in PixelAgreement(predicted: predicted, truth: t, region: zip(tissue, t).map { $0 || $1 }) }
                #expect(r.pixel == agreement, "\(s.id) at \(t)")
            }
        }
    }
}
