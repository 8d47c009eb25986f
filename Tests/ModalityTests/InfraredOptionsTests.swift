import CompSegCore
import CompSegTestSupport
import Foundation
import InfraredModality
@testable import SpectralFiles
import Testing

/// The infrared reader's options beyond the layout: reading by hyperslabs, the NaN policy, the
/// clean-up of a computed tissue mask, and the preview.
@Suite struct InfraredOptionsTests {
    typealias Layouts = InfraredLayoutTests

    /// Slabs of one row, band or pixel at a time give the same cube as one read, in every layout.
    @Test func smallHyperslabsReadTheSameCube() throws {
        let names = ["hwb.h5": SpectralLayout.hwb, "bhw.h5": .bhw, "matlab.mat": .matlab]
        for (name, layout) in names {
            func configure(_ c: inout InfraredSource.Configuration) {
                c.layout = layout
                if layout == .matlab { c.spectra = "cube"; c.wavenumbers = "wn"; c.mask = "mask" }
            }
            let whole = try Layouts.load(name, configure)
            let sliced = try Layouts.load(name) { configure(&$0); $0.slabValues = 1 }
            #expect(sliced.image.scalars == whole.image.scalars, "\(name)")
            #expect(zip(whole.image.scalars, Layouts.expected).allSatisfy { abs($0 - $1) < 1e-5 }, "\(name)")
        }
        let pyir = try Layouts.load("pyir.h5") { $0 = .pyir; $0.slabValues = 7 }
        #expect(pyir.image.scalars.count == Layouts.expected.count)
        #expect(zip(pyir.image.scalars, Layouts.expected).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    /// A file cut short (as by an interrupted copy) is an error naming it, not a crash.
    @Test func truncatedFileIsNamed() throws {
        let whole = try Data(contentsOf: Layouts.url("hwb.h5"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for fraction in [0.1, 0.5, 0.9] {
            let cut = folder.appendingPathComponent("cut\(Int(fraction * 10)).h5")
            try whole.prefix(Int(Double(whole.count) * fraction)).write(to: cut)
            do {
                _ = try InfraredSource().load(cut, label: nil)
                Issue.record("no error for a file cut at \(fraction)")
            } catch {
                #expect("\(error)".contains(cut.path), "\(error)")
            }
        }
    }

    /// nonFinite: zero keeps the file readable, zeroes the value and drops its pixel from the tissue.
    @Test func nonFiniteZeroExcludesThePixel() throws {
        let sample = try Layouts.load("nan.h5") { $0.nonFinite = .zero; $0.mask = nil }
        let (plane, pixel) = (Layouts.h * Layouts.w, 2 * Layouts.w + 3)
        #expect(sample.image.scalars[4 * plane + pixel] == 0)
        #expect(!sample.tissue.pixels[pixel])
        #expect(sample.image.scalars.allSatisfy { $0.isFinite })
    }

    @Test func optionsDecodeWithDefaultsAndRejectUnknownKeys() throws {
        let c = try PluginConfiguration(json: Data(#"{"nonFinite": "zero", "tissue": {"removeSpecksSmallerThan": 5}, "preview": {"kind": "bands", "wavenumbers": [1655, 1545, 1240]}}"#.utf8))
            .decode(InfraredSource.Configuration.self)
        #expect(c.nonFinite == .zero && c.tissue.removeSpecksSmallerThan == 5 && c.tissue.fillHolesSmallerThan == 0)
        #expect(throws: ConfigurationError.self) {
            try PluginConfiguration(json: Data(#"{"nonfinite": "zero"}"#.utf8)).decode(InfraredSource.Configuration.self)
        }
        #expect(throws: ConfigurationError.self) {
            try PluginConfiguration(json: Data(#"{"nonFinite": "drop"}"#.utf8)).decode(InfraredSource.Configuration.self)
        }
        // A key a section does not take lists the section's keys, its optional threshold among them.
        #expect(throws: ConfigurationError.self) {
            try PluginConfiguration(json: Data(#"{"tissue": {"method": "above", "treshold": 0.2}}"#.utf8), source: "lab.yaml: options")
                .decode(InfraredSource.Configuration.self)
        }
        do {
            _ = try PluginConfiguration(json: Data(#"{"tissue": {"removeSpecks": 8}}"#.utf8), source: "lab.yaml: options")
                .decode(InfraredSource.Configuration.self)
        } catch {
            #expect("\(error)" == "lab.yaml: options: unknown key 'tissue.removeSpecks'; known keys: tissue.fillHolesSmallerThan, "
                    + "tissue.method, tissue.removeSpecksSmallerThan, tissue.threshold", "\(error)")
        }
        do { _ = try PluginConfiguration(json: Data(#"{"tisue": {}}"#.utf8)).decode(InfraredSource.Configuration.self) } catch {
            #expect("\(error)".contains("known keys: excitationWavelength, format, height, layout, mask, maximumValues, nonFinite, preview, "
                                       + "spectra, tissue, wavenumbers, width"), "\(error)")
        }
        var registry = Registry()
        try InfraredSource.register(in: &registry)
        let negative = PluginConfiguration(json: Data(#"{"tissue": {"fillHolesSmallerThan": -1}}"#.utf8), source: "lab.yaml: options")
        #expect(throws: ConfigurationError.self) { try registry.modality("infrared", negative) }
        do { _ = try registry.modality("infrared", negative) } catch {
            #expect("\(error)".hasPrefix("lab.yaml: options: key 'tissue': sizes must not be negative"), "\(error)")
        }
        // The laser's wavelength is Raman's: infrared refuses it rather than ignoring it.
        let laser = PluginConfiguration(json: Data(#"{"excitationWavelength": 785}"#.utf8), source: "lab.yaml: options")
        #expect {
            _ = try registry.modality("infrared", laser)
        } throws: { error in
            "\(error)".hasPrefix("lab.yaml: options: key 'excitationWavelength' turns wavelengths into a Raman shift, but "
                                + "infrared reads its axis as cm⁻¹")
        }
        // Nor does it offer the key among those it takes (`plugins infrared` lists those).
        let typo = PluginConfiguration(json: Data(#"{"exitation": 785}"#.utf8), source: "lab.yaml: options")
        #expect {
            _ = try registry.modality("infrared", typo)
        } throws: { error in
            let known = (error as? ConfigurationError)?.knownKeys ?? []
            return known.contains("layout") && !known.contains("excitationWavelength") && !"\(error)".contains("excitationWavelength")
        }
    }

    /// A computed mask with a one-pixel speck and a one-pixel hole, cleaned by the rule.
    @Test func tissueRuleCleansTheComputedMask() throws {
        var pixels = [Bool](repeating: false, count: 100)
        for y in 2..<8 { for x in 2..<8 { pixels[y * 10 + x] = true } }
        pixels[4 * 10 + 4] = false  // a hole
        pixels[0] = true            // a speck
        var rule = TissueRule()
        #expect(rule.clean(try Mask(height: 10, width: 10, pixels: pixels)).pixels == pixels)  // none by default
        rule.fillHolesSmallerThan = 2; rule.removeSpecksSmallerThan = 2
        let cleaned = rule.clean(try Mask(height: 10, width: 10, pixels: pixels))
        #expect(!cleaned.pixels[0] && cleaned.pixels[44] && cleaned.count == 36)
    }

    /// The methods: Otsu's threshold splits even a map of tissue only (a fluorescence gradient
    /// across it); `all` keeps every pixel; `above` cuts where the lab says. Values are checked.
    @Test func tissueMethodsAndTheirChecks() throws {
        let means = (0..<100).map { Float($0 % 10) }  // a gradient, as across a map taken inside tissue
        var rule = TissueRule()
        #expect(try rule.mask(means: means, height: 10, width: 10).count == 50)
        rule.method = .all
        #expect(try rule.mask(means: means, height: 10, width: 10).count == 100)
        rule.method = .above; rule.threshold = 6.5
        #expect(try rule.mask(means: means, height: 10, width: 10).count == 30)
        let c = try PluginConfiguration(json: Data(#"{"tissue": {"method": "All"}}"#.utf8)).decode(InfraredSource.Configuration.self)
        #expect(c.tissue.method == .all)  // choices in any case
        var registry = Registry()
        try InfraredSource.register(in: &registry)
        for (json, message) in [(#"{"method": "above"}"#, "key 'tissue': method above needs a threshold"),
                                (#"{"threshold": 3}"#, "key 'tissue': threshold is for method above, not otsu"),
                                (#"{"method": "mean"}"#, "'mean' is not one of otsu, all, above")] {
            let given = PluginConfiguration(json: Data(#"{"tissue": \#(json)}"#.utf8), source: "lab.yaml: options")
            #expect { _ = try registry.modality("infrared", given) } throws: { "\($0)".contains(message) }
        }
    }

    /// The scan for NaN and infinities finds the first one wherever it lies: in the first or last
    /// value, at a block's edge (4096 values), or not at all.
    @Test func firstNonFiniteValueIsFoundAnywhere() {
        let n = 10_000
        #expect(SpectralFileReader.firstNonFinite([Float](repeating: 1, count: n)) == nil)
        #expect(SpectralFileReader.firstNonFinite([]) == nil)
        for (position, value) in [(0, Float.nan), (4095, .infinity), (4096, -.infinity), (n - 1, .nan), (5000, .signalingNaN)] {
            var values = [Float](repeating: -3.5, count: n)
            values[position] = value
            values[n - 1] = values[n - 1].isFinite ? .nan : values[n - 1]  // a later one must not be reported first
            #expect(SpectralFileReader.firstNonFinite(values) == position, "\(value) at \(position)")
        }
        #expect(SpectralFileReader.firstNonFinite([.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude]) == nil)
        // After the last whole run of 8 values.
        #expect(SpectralFileReader.firstNonFinite([Float](repeating: -1, count: 12) + [-.nan]) == 12)
        // A damaged axis's NaN is said as NaN, whatever its sign and payload.
        #expect([-Double(nan: 0x3ff, signaling: false), .nan, -.infinity, 1650].map(SpectralFileReader.spelled) == ["NaN", "NaN", "-inf", "1650.0"])
    }
}
