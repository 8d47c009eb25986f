import CompSegCore
import CompSegIO
import CompSegNN
import CompSegTestSupport
import Foundation
@testable import HEModality
import Testing

/// Macenko and Reinhard against torchstain 1.4.1's numpy backend (`tools/make_stain_fixtures.py`
/// → `Tests/Fixtures/stain`), and what torchstain crashes on.
@Suite struct StainTests {
    struct Expected: Decodable {
        struct Input: Decodable {
            struct Macenko: Decodable { var HE: [[Double]]; var maxC: [Double]; var tissue_pixels: Int }
            struct Reinhard: Decodable { var means, stds: [Float] }
            var macenko: Macenko
            var reinhard: Reinhard
        }
        struct Fit: Decodable { var HERef: [[Double]]; var maxCRef: [Double] }
        struct Targets: Decodable { var target_means, target_stds: [Float] }
        var inputs: [String: Input]
        var macenko_fit_ref: Fit
        var reinhard_fit_ref: Targets
        static let shared: Expected? = try? JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: fixturesDirectory.appendingPathComponent("stain/expected.json")))
    }

    static func image(_ path: String) throws -> (pixels: [Float], height: Int, width: Int) {
        let png = try PNGImage(contentsOf: fixturesDirectory.appendingPathComponent("stain/\(path)"))
        return (png.pixels.map(Float.init), png.height, png.width)
    }

    static func worst(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { Swift.abs($0 - $1) }.max() ?? .infinity }

    /// Outputs are whole 8-bit levels: measured 0 levels apart from torchstain here; 1 level
    /// allows another libm's log, exp or atan2 an ulp's difference at a truncation boundary.
    @Test(arguments: ["a", "b", "c", "ref"]) func macenkoMatchesTorchstain(_ name: String) throws {
        let expected = try #require(Expected.shared)
        let input = try Self.image("inputs/\(name).png")
        let macenko = try MacenkoNormalizer()
        let estimate = try macenko.estimate(input.pixels, height: input.height, width: input.width)
        let he = expected.inputs[name]!.macenko
        #expect(estimate.tissuePixels == he.tissue_pixels)
        #expect(zip(estimate.stains.matrix, he.HE.flatMap { $0 }).allSatisfy { Swift.abs($0 - $1) < 1e-10 }, "\(estimate.stains)")
        let normalized = try macenko.normalize(input.pixels, height: input.height, width: input.width)
        #expect(Self.worst(normalized, try Self.image("macenko_default/\(name).png").pixels) <= 1)
        // Fitted to the reference image: its stains, then each image normalised to them.
        let reference = try Self.image("inputs/ref.png")
        let fitted = try macenko.fitted(to: reference.pixels, height: reference.height, width: reference.width)
        let fit = expected.macenko_fit_ref
        #expect(zip(fitted.reference.matrix, fit.HERef.flatMap { $0 }).allSatisfy { Swift.abs($0 - $1) < 1e-10 })
        #expect(zip(fitted.reference.maxConcentrations, fit.maxCRef).allSatisfy { Swift.abs($0 - $1) < 1e-10 })
        #expect(Self.worst(try fitted.normalize(input.pixels, height: input.height, width: input.width),
                           try Self.image("macenko_fitted/\(name).png").pixels) <= 1)
    }

    /// numpy's float32 cube root and power (SIMD on this CPU) round differently from the C
    /// library on a share of inputs, so a few values sit one level apart; statistics within 1e-5.
    @Test(arguments: ["a", "b", "c"]) func reinhardMatchesTorchstain(_ name: String) throws {
        let expected = try #require(Expected.shared)
        let input = try Self.image("inputs/\(name).png"), reference = try Self.image("inputs/ref.png")
        let stats = try ReinhardNormalizer.statistics(input.pixels, height: input.height, width: input.width)
        let want = expected.inputs[name]!.reinhard
        #expect(zip(stats.means + stats.stds, want.means + want.stds).allSatisfy { Swift.abs($0 - $1) <= 1e-5 * max(1, Swift.abs($1)) })
        let reinhard = try ReinhardNormalizer.fitted(to: reference.pixels, height: reference.height, width: reference.width)
        #expect(zip(reinhard.targetMeans + reinhard.targetStds,
                    expected.reinhard_fit_ref.target_means + expected.reinhard_fit_ref.target_stds).allSatisfy { Swift.abs($0 - $1) <= 1e-4 })
        #expect(Self.worst(try reinhard.normalize(input.pixels, height: input.height, width: input.width),
                           try Self.image("reinhard/\(name).png").pixels) <= 1)
    }

    /// Normalising an image to itself: Reinhard within a level (truncation), Macenko within the
    /// noise it drops off the stain plane (measured mean ≤ 3.3 levels, max 27 on these noisy tiles).
    @Test func normalisingToItselfChangesLittle() throws {
        for name in ["a", "b", "c"] {
            let x = try Self.image("inputs/\(name).png")
            let reinhard = try ReinhardNormalizer.fitted(to: x.pixels, height: x.height, width: x.width)
            #expect(Self.worst(try reinhard.normalize(x.pixels, height: x.height, width: x.width), x.pixels) <= 1, "\(name)")
            let macenko = try MacenkoNormalizer().fitted(to: x.pixels, height: x.height, width: x.width)
            let out = try macenko.normalize(x.pixels, height: x.height, width: x.width)
            let mean = zip(out, x.pixels).map { Swift.abs($0 - $1) }.reduce(0, +) / Float(out.count)
            #expect(mean <= 4 && Self.worst(out, x.pixels) <= 30, "\(name): mean \(mean)")
        }
    }

    /// All white, one colour, one pixel: torchstain raises LinAlgError or returns a flat colour;
    /// here a clear error, or the image unchanged with `fallback: identity`. Never NaN.
    @Test func imagesWithoutStainsGiveAClearErrorOrFallBack() throws {
        let cases: [(String, [Float], Int, Int)] = [
            ("white", [Float](repeating: 255, count: 16 * 16 * 3), 16, 16),
            ("pink", (0..<256).flatMap { _ in [200, 120, 170] as [Float] }, 16, 16),
            ("one pixel", [150, 80, 160], 1, 1),
        ]
        for (name, pixels, h, w) in cases {
            #expect(throws: StainError.self, "\(name)") { try MacenkoNormalizer().normalize(pixels, height: h, width: w) }
            let fallback = try MacenkoNormalizer(fallback: .identity).normalize(pixels, height: h, width: w, stains: false)
            #expect(fallback.fellBack && fallback.normalized == pixels, "\(name)")
            let reinhard = try ReinhardNormalizer.fitted(to: pixels, height: h, width: w)
            #expect(try reinhard.normalize(pixels, height: h, width: w).allSatisfy(\.isFinite))
        }
        #expect(throws: StainError.self) { try MacenkoNormalizer(fallback: .identity).normalize([300, 0, 0], height: 1, width: 1) }
        #expect(throws: StainError.self) { try MacenkoNormalizer(alpha: 60) }
    }

    /// The steps measure stains on tissue: a sample whose background `outside: zero` blacked out
    /// normalises its tissue as the same sample with white glass there (black read as dense stain:
    /// Macenko fitted its stains on it, Reinhard its statistics).
    @Test(arguments: ["macenko", "reinhard"]) func backgroundIsWhiteSlideWhateverOutsideMadeOfIt(_ step: String) throws {
        let a = try Self.image("inputs/a.png")
        let plane = a.height * a.width
        let tissue = (0..<plane).map { ($0 / a.width) % 4 != 0 }  // every fourth row is background
        func sample(background: Float) throws -> Sample {
            var planar = [Float](repeating: 0, count: 3 * plane)
            for p in 0..<plane { for c in 0..<3 { planar[c * plane + p] = tissue[p] ? a.pixels[p * 3 + c] / 255 : background } }
            return try Sample(id: "a", image: Tensor(shape: [3, a.height, a.width], scalars: planar), channels: .bands(HESteps.rgb),
                              tissue: try Mask(height: a.height, width: a.width, pixels: tissue),
                              preview: try RGBImage(height: a.height, width: a.width, bytes: Array(repeating: 0, count: 3 * plane)))
        }
        var registry = Registry()
        try HESteps.register(in: &registry)
        let chain = try PreprocessingChain([PluginDescription(identifier: step)], outside: .keep, registry: registry, source: "test")
        let (black, white) = (try sample(background: 0), try sample(background: 1))
        let fitted = try chain.fitted(to: SampleSequence([black]))
        #expect(try chain.fitted(to: SampleSequence([white])).descriptions == fitted.descriptions)
        let (x, y) = (try fitted.apply(black).image.scalars, try fitted.apply(white).image.scalars)
        #expect((0..<plane).filter { tissue[$0] }.allSatisfy { p in (0..<3).allSatisfy { x[$0 * plane + p] == y[$0 * plane + p] } })
    }

    /// `referenceImage` fits the steps' targets to a file when the chain is built; a file that
    /// cannot be read is named with the step's source and the key.
    /// A value a step refuses is named by its key and the value given, not reported as an unknown key.
    @Test func aRefusedValueIsNamedByItsKey() throws {
        var registry = Registry()
        try HESteps.register(in: &registry)
        let cases: [(String, [String: JSONValue], String)] = [("macenko", ["io": 0], "key 'io' must be positive and finite, got 0.0"),
            ("macenko", ["alpha": 50], "key 'alpha' must lie in [0, 50), got 50.0"),
            ("reinhard", ["targetMeans": [50, 0], "targetStds": [10, 5, 5]], "key 'targetMeans' must be 3 finite values (L, a, b)")]
        for (step, configuration, message) in cases {
            #expect {
                try PreprocessingChain([PluginDescription(identifier: step, configuration: .object(configuration))], outside: .keep,
                                       registry: registry, source: "lab.yaml")
            } throws: { "\($0)".contains("lab.yaml: preprocessing step 1 '\(step)': ") && "\($0)".contains(message) && !"\($0)".contains("unknown key") }
        }
    }

    @Test(arguments: ["macenko", "reinhard"]) func referenceImageIsFittedOrNamed(_ step: String) throws {
        var registry = Registry()
        try HESteps.register(in: &registry)
        let reference = fixturesDirectory.appendingPathComponent("stain/inputs/ref.png").path
        func chain(_ path: String) throws -> PreprocessingChain {
            try PreprocessingChain([PluginDescription(identifier: step, configuration: ["referenceImage": .string(path)])],
                                   outside: .keep, registry: registry, source: "lab.yaml")
        }
        let plain = try PreprocessingChain([PluginDescription(identifier: step)], outside: .keep, registry: registry, source: "lab.yaml")
        func fitted(_ chain: PreprocessingChain) throws -> JSONValue {  // as a value: key order in the text may differ
            try JSONDecoder().decode(JSONValue.self, from: chain.steps[0].transform.configuration())
        }
        #expect(try fitted(chain(reference)) != fitted(plain))  // the targets are the reference's, not the defaults
        // A relative path starts from the manifest's folder, wherever the tool runs.
        let relative = try PreprocessingChain([PluginDescription(identifier: step, configuration: ["referenceImage": "inputs/ref.png"])],
                                              outside: .keep, registry: registry, source: "lab.yaml",
                                              folder: fixturesDirectory.appendingPathComponent("stain"))
        #expect(try fitted(relative) == fitted(chain(reference)))
        do { _ = try chain("/no/such/ref.png"); Issue.record("a missing reference was taken") } catch {
            #expect("\(error)".contains("lab.yaml") && "\(error)".contains("referenceImage: /no/such/ref.png: does not exist"), "\(error)")
        }
        // A misspelt key is named with the one meant, among every key the step takes.
        do {
            _ = try PreprocessingChain([PluginDescription(identifier: step, configuration: ["referenceImag": "ref.png"])],
                                       outside: .keep, registry: registry, source: "lab.yaml")
            Issue.record("a misspelt key was taken")
        } catch {
            #expect("\(error)".contains("unknown key 'referenceImag'; did you mean 'referenceImage'? known keys: ")
                        && "\(error)".contains(step == "reinhard" ? "method, referenceImage, targetMeans, targetStds" : "alpha, beta"), "\(error)")
        }
    }

    @Test func percentilesAndEigenvectorsAsNumpy() {
        #expect(Swift.abs(numpyPercentile(sorted: [1, 2, 3, 4], 1) - 1.03) < 1e-12)
        #expect(Swift.abs(numpyPercentile(sorted: [1, 2, 3, 4], 99) - 3.97) < 1e-12)
        #expect(numpyPercentile(sorted: [0, 10], 75) == 7.5 && numpyPercentile(sorted: [5], 50) == 5)
        let m: [[Double]] = [[4, 1, 0.5], [1, 3, 0.2], [0.5, 0.2, 1]]
        let (values, vectors) = symmetricEigen3(m)
        for (λ, v) in zip(values, vectors) {
            let residual = (0..<3).map { i in (0..<3).reduce(0) { $0 + m[i][$1] * v[$1] } - λ * v[i] }
            #expect(residual.allSatisfy { Swift.abs($0) < 1e-12 })
        }
    }
}
