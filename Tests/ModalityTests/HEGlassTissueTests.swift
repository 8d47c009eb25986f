import BuiltinModalities
import CompSegCore
import CompSegIO
import CompSegTraining
import Foundation
import HEModality
import Phantoms
import Testing

/// `tissue: {method: glass}` (the built-in `he` manifest's): pale eosin stroma beside a large share
/// of dark tumor is tissue, as it is beside little tumor, so the tissue (the denominator of every
/// tumor fraction) does not depend on how much tumor a sample holds.
@Suite struct HEGlassTissueTests {
    /// A 100×100 slide: glass shading evenly from `glass.lowerBound` at the left to its upper bound
    /// at the right (below 0.9, where the near-white rule takes none of it, unless given brighter),
    /// around a disc of tissue whose left `stroma` share is pale pink stroma and the rest dark
    /// purple tumor. Returns the image and the disc.
    static func slide(stroma: Double, glass: ClosedRange<Float> = 0.84...0.89) -> (image: RasterImage, tissue: [Bool]) {
        let n = 100
        var values = [Float](repeating: 0, count: n * n * 3), tissue = [Bool](repeating: false, count: n * n)
        for y in 0..<n { for x in 0..<n {
            let p = y * n + x, (dy, dx) = (Double(y - 50) / 42, Double(x - 50) / 42)
            let jitter = Float((y * 7 + x * 13) % 5) * 0.01
            let shade = glass.lowerBound + (glass.upperBound - glass.lowerBound) * Float(x) / Float(n - 1)
            var c: (Float, Float, Float) = (shade, shade, shade)
            if dy * dy + dx * dx < 1 {
                tissue[p] = true
                c = Double(x) < 8 + 84 * stroma ? (0.80 + jitter, 0.52 + jitter, 0.66 + jitter) : (0.30 + jitter, 0.14 + jitter, 0.40 + jitter)
            }
            (values[p * 3], values[p * 3 + 1], values[p * 3 + 2]) = c
        } }
        return (RasterImage(width: n, height: n, channels: 3, values: values, bitDepth: 8), tissue)
    }

    static func agreement(_ mask: Mask, _ tissue: [Bool]) -> (kept: Double, glass: Int) {
        let inside = tissue.indices.filter { tissue[$0] }
        return (Double(inside.filter { mask.pixels[$0] }.count) / Double(inside.count),
                tissue.indices.filter { !tissue[$0] && mask.pixels[$0] }.count)
    }

    @Test func paleStromaBesideMuchTumorIsTissue() throws {
        let (image, tissue) = Self.slide(stroma: 0.3)
        var rule = HETissueRule()
        rule.method = .otsu
        // One threshold falls between stroma and tumor: the stroma goes with the glass.
        #expect(Self.agreement(try rule.mask(image), tissue).kept < 0.8)
        rule.method = .glass
        let glass = Self.agreement(try rule.mask(image), tissue)
        #expect(glass.kept > 0.99 && glass.glass == 0, "\(glass)")
    }

    /// Where one threshold already parts glass from tissue, `glass` gives the same mask: glass that
    /// shades from side to side, with texture, is not split in two.
    @Test func oneThresholdSufficesWhereTheLighterClassIsGlassAlone() throws {
        for stroma in [0.0, 1.0] {
            let (image, tissue) = Self.slide(stroma: stroma)
            let glassShades = (0..<(100 * 100)).filter { !tissue[$0] }.map { 1 - image.values[$0 * 3] }
            // Its texture makes it look two apart (separability 0.87), but the two parts lie a few hundredths apart.
            #expect(otsuSplit(glassShades).meanGap < HETissueRule.lighterClassMeanGap)
            var rule = HETissueRule()
            rule.method = .glass
            let glass = try rule.mask(image)
            rule.method = .otsu
            #expect(try rule.mask(image) == glass, "stroma \(stroma)")
            let found = Self.agreement(glass, tissue)
            #expect(found.kept > 0.99 && found.glass == 0, "stroma \(stroma): \(found)")
        }
    }

    /// On the H&E phantom, cancer spots' tissue is the whole stained spot, as cancer-free spots' is:
    /// `otsu` lost a third of it to the glass where tumor is large.
    @Test func phantomTissueIsTheSameShareInBothClasses() throws {
        var settings = HEPhantom.Settings()
        (settings.spots, settings.size) = (12, 64)
        let phantom = HEPhantom(settings)
        var kept: [SampleLabel: [Double]] = [:]
        for i in 0..<settings.spots {
            let spot = phantom.spot(i)
            let image = RasterImage(width: 64, height: 64, channels: 3, values: spot.rgb.map { Float($0) / 255 }, bitDepth: 8)
            var rule = HETissueRule()
            rule.method = .glass
            let found = Self.agreement(try rule.mask(image), spot.tissue)
            kept[spot.label, default: []].append(found.kept)
            #expect(found.kept > 0.9 && found.glass < 64 * 64 / 50, "\(spot.id) (\(spot.label)): \(found)")
        }
        #expect(kept[.cancer]?.count == 6 && kept[.cancerFree]?.count == 6)
        // The two classes' tissue kept alike, where otsu kept a third less in cancer spots.
        let mean = { (label: SampleLabel) in (kept[label] ?? []).reduce(0, +) / Double(max(1, kept[label]?.count ?? 0)) }
        #expect(abs(mean(.cancer) - mean(.cancerFree)) < 0.05, "\(kept)")
    }

    /// The built-in manifest sets `glass`; a manifest without the key (a run trained before it) keeps `otsu`.
    @Test func builtinManifestSetsGlassAndOlderRunsKeepOtsu() throws {
        let url = try #require(BuiltinModalities.manifests["he"])
        #expect(try String(contentsOf: url, encoding: .utf8).contains("method: glass"))
        var registry = Registry()
        try HESource.register(in: &registry)
        try HESteps.register(in: &registry)
        let reader = try #require(try PreparedModality(ModalityManifest(contentsOf: url), registry: registry).reader as? HESource)
        #expect(reader.configuration.tissue.method == .glass)
        let older = try PluginConfiguration(json: Data(#"{"tissue": {"closing": 2}}"#.utf8)).decode(HESource.Configuration.self)
        #expect(older.tissue.method == .otsu)
    }
}
