import CompSegCore
import CompSegNN
import CompSegTraining
import Foundation
import InfraredModality
import SpectralFiles
import SpectralPreprocessing
import Testing

/// The chain's `outside` policy, and the whole-cube forms of the steps that run on every sample
/// (crop, the normalizations, PCA) against their per-spectrum definitions.
@Suite struct OutsideTissueTests {
    /// A sample of `bands` random spectra on an 8×8 grid whose left three columns are background.
    static func sample(bands: Int = 12, seed: UInt64 = 3) throws -> Sample {
        var g = SeededGenerator(seed: seed)
        let (h, w) = (8, 8)
        let axis = (0..<bands).map { 1800 - 40 * Double($0) }
        let cube = (0..<(bands * h * w)).map { _ in 1 + g.nextNormal() }
        let tissue = (0..<(h * w)).map { $0 % w >= 3 }
        return try Sample(id: "s", image: Tensor(shape: [bands, h, w], scalars: cube),
                          channels: .spectral(values: axis, unit: "cm⁻¹"), tissue: try Mask(height: h, width: w, pixels: tissue),
                          preview: try RGBImage(height: h, width: w, bytes: Array(repeating: 0, count: 3 * h * w)), label: .cancer)
    }

    static func registry() throws -> Registry {
        var r = Registry()
        try SpectralSteps.register(in: &r)
        return r
    }

    static func chain(_ outside: OutsideTissue) throws -> PreprocessingChain {
        try PreprocessingChain([PluginDescription(identifier: "normalize", configuration: ["method": "snv"]),
                                PluginDescription(identifier: "pca", configuration: ["components": 3])],
                               outside: outside, registry: registry(), source: "test")
    }

    /// Training samples whose axes differ (here in one band's order) are refused by `pca`,
    /// naming the sample, the band and both values.
    @Test func pcaNamesTheBandWhereAxesDiffer() throws {
        let first = try Self.sample(seed: 1)
        var second = try Self.sample(seed: 2)
        second.id = "t"
        var axis = (0..<12).map { 1800 - 40 * Double($0) }
        axis.swapAt(3, 4)
        second.channels = .spectral(values: axis, unit: "cm⁻¹")
        #expect {
            _ = try Self.chain(.zero).fitted(to: SampleSequence([first, second]))
        } throws: { error in
            "\(error)".contains("t") && "\(error)".contains("differs from the first training sample's, s's (band 3 is at 1640.0 here, 1680.0 in s)")
        }
    }

    /// `sample` stored with its spectral axis the other way: bands and wavenumbers reversed.
    static func reversed(_ sample: Sample) throws -> Sample {
        guard case .spectral(let values, let unit) = sample.channels else { throw SampleError(sample.id, "not spectral") }
        let (b, plane) = (values.count, sample.height * sample.width), cube = sample.image.scalars
        var s = sample
        s.image = try Tensor(shape: sample.image.shape, scalars: (0..<(b * plane)).map { cube[(b - 1 - $0 / plane) * plane + $0 % plane] })
        s.channels = .spectral(values: values.reversed(), unit: unit)
        return s
    }

    /// PCA records the axis it was fitted on: a file storing it the other way (training or not)
    /// gives the same result, one on another axis is refused naming both; runs from before the
    /// axis was recorded apply as they did.
    @Test func pcaTakesAxesEitherWayAndRefusesOthers() throws {
        let samples = try [Self.sample(seed: 1), Self.sample(seed: 2)]
        let fitted = try Self.chain(.keep).fitted(to: SampleSequence(samples))
        let direct = try fitted.apply(samples[0]).image.scalars
        #expect(try fitted.apply(Self.reversed(samples[0])).image.scalars == direct)
        let mixed = try Self.chain(.keep).fitted(to: SampleSequence([samples[0], Self.reversed(samples[1])]))
        #expect(try mixed.apply(samples[0]).image.scalars == direct)
        var shifted = samples[0]
        shifted.channels = .spectral(values: (0..<12).map { 1500 - 40 * Double($0) }, unit: "cm⁻¹")
        #expect { _ = try fitted.apply(shifted) } throws: { error in
            "\(error)".contains("sample s: its channels (12 bands, 1500–1060 cm⁻¹) are not those 'pca' was fitted on "
                                 + "(12 bands, 1800–1360 cm⁻¹); a model trained with a 'resample' step before 'pca'")
        }
        // Within a tenth of a band spacing (an axis stored as float32) is the same axis.
        var rounded = samples[0]
        rounded.channels = .spectral(values: (0..<12).map { 1800 - 40 * Double($0) + 0.5 }, unit: "cm⁻¹")
        #expect(try fitted.apply(rounded).image.scalars == direct)
        // model.json of a run from before: no axis, applied by band index as then.
        var steps = fitted.descriptions
        guard var keys = steps[1].configuration.objectValue else { Issue.record("pca's configuration"); return }
        #expect(keys["axis"] != nil)
        keys["axis"] = nil
        steps[1].configuration = .object(keys)
        let older = try PreprocessingChain(steps, outside: .keep, registry: Self.registry(), source: "test")
        #expect(try older.apply(shifted).image.scalars == direct)
    }

    @Test func zeroClearsEveryChannelOutsideTheTissueAfterEveryStep() throws {
        let samples = try [Self.sample(seed: 1), Self.sample(seed: 2)]
        let fitted = try Self.chain(.zero).fitted(to: SampleSequence(samples))
        let out = try fitted.apply(samples[0])
        let plane = 64
        for c in 0..<3 {
            for p in 0..<plane {
                let v = out.image.scalars[c * plane + p]
                if out.tissue.pixels[p] { #expect(v != 0) } else { #expect(v == 0, "channel \(c), pixel \(p)") }
            }
        }
        // The caller's sample is not written: the chain zeroes its own copies in place, never a shared image.
        #expect(samples[0].image.scalars == (try Self.sample(seed: 1)).image.scalars)
        var shared = samples[1], detached = samples[1]
        detached.image = samples[1].image.detached()  // another tensor on the same values
        shared.zeroOutsideTissue()
        detached.zeroOutsideTissue()
        #expect(samples[1].image.scalars == (try Self.sample(seed: 2)).image.scalars)
        #expect(shared.image.scalars == samples[1].zeroingOutsideTissue().image.scalars && detached.image.scalars == shared.image.scalars)
        var own = try Self.sample(seed: 2)
        let values = own.image
        own.zeroOutsideTissue()  // shared with `values`: copied
        #expect(own.image !== values)
        var alone = try Self.sample(seed: 2)
        let before = ObjectIdentifier(alone.image)
        alone.zeroOutsideTissue()  // its own: in place
        #expect(ObjectIdentifier(alone.image) == before && alone.image.scalars == shared.image.scalars)
        // A sample handed over (its image held nowhere else, as one just read) is zeroed in place.
        let handed = try Self.sample(seed: 2), handedImage = ObjectIdentifier(handed.image)
        let zeroed = try PreprocessingChain([], outside: .zero, registry: Self.registry(), source: "test").apply(consume handed)
        #expect(ObjectIdentifier(zeroed.image) == handedImage && zeroed.image.scalars == shared.image.scalars)
        // `keep` leaves background spectra as the steps make them: whitened noise, far from 0.
        let kept = try Self.chain(.keep).fitted(to: SampleSequence(samples)).apply(samples[0])
        #expect((0..<plane).contains { !kept.tissue.pixels[$0] && Swift.abs(kept.image.scalars[$0]) > 0.1 })
        // On tissue both policies agree: the steps are per pixel, and PCA fits on tissue alone.
        for p in 0..<plane where out.tissue.pixels[p] {
            #expect(Swift.abs(out.image.scalars[p] - kept.image.scalars[p]) < 1e-4)
        }
    }

    @Test func manifestKeyAndModelJSON() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func manifest(_ text: String) throws -> ModalityManifest {
            let url = folder.appendingPathComponent("m.yaml")
            try Data(text.utf8).write(to: url)
            return try ModalityManifest(contentsOf: url)
        }
        #expect(try manifest("reader: infrared").outside == .zero)
        #expect(try manifest("reader: infrared\noutside: keep").outside == .keep)
        do {
            _ = try manifest("reader: infrared\noutside: black")
            Issue.record("an unknown policy was accepted")
        } catch {
            #expect("\(error)".contains("m.yaml") && "\(error)".contains("'outside' must be one of zero, keep"), "\(error)")
        }
        // model.json records the policy; a run written before it existed re-applies `keep`.
        let old = #"{"modality":{"identifier":"infrared","configuration":"{}"},"topology":{"identifier":"unet","configuration":"{}"},"head":{"identifier":"compsegnet","configuration":"{}"},"inputChannels":3,"training":{},"versions":{}}"#
        let model = try RunConfiguration(modelJSON: Data(old.utf8), file: "model.json")
        #expect(model.modality?.outside == .keep && model.format == RunConfiguration.currentFormat)
        var registry = try Self.registry()
        try InfraredSource.register(in: &registry)
        #expect(try model.preparedModality(registry: registry, file: "model.json").chain.outside == .keep)
    }

    /// model.json holds plugin configurations as JSON objects, and still reads the JSON text of older runs.
    @Test func pluginConfigurationsAreNestedObjects() throws {
        let d = PluginDescription(identifier: "unet", configuration: ["depth": 3, "width": 16])
        let text = String(decoding: try JSONEncoder().encode(d), as: UTF8.self)
        #expect(text.contains(#""configuration":{"#), "\(text)")
        #expect(try JSONDecoder().decode(PluginDescription.self, from: Data(text.utf8)) == d)
        let legacy = #"{"identifier":"unet","configuration":"{\"width\":8}"}"#
        #expect(try JSONDecoder().decode(PluginDescription.self, from: Data(legacy.utf8)).configuration == ["width": 8])
    }

    @Test func wholeCubeFormsEqualThePerSpectrumForms() throws {
        let sample = try Self.sample(bands: 30)
        // Edge cases: a zero spectrum and a constant one.
        let plane = 64
        sample.image.withMutablePlainBuffer { v in
            for k in 0..<30 { v[k * plane + 0] = 0; v[k * plane + 1] = 2.5 }
        }
        let axis: [Double]
        guard case .spectral(let values, _) = sample.channels else { Issue.record("no spectral axis"); return }
        axis = values
        let cube = sample.image.scalars
        func perSpectrum(_ t: some SpectralTransform) throws -> [Float] {
            let bands = try t.axis(axis).count
            var out = [Float](repeating: 0, count: bands * plane)
            for p in 0..<plane {
                let result = try t.apply((0..<30).map { cube[$0 * plane + p] }, wavenumbers: axis)
                for k in 0..<bands { out[k * plane + p] = result[k] }
            }
            return out
        }
        func whole(_ t: some SpectralTransform) throws -> [Float]? {
            var out = [Float](repeating: .nan, count: try t.axis(axis).count * plane)
            let written = try cube.withUnsafeBufferPointer { c in
                try out.withUnsafeMutableBufferPointer { try t.apply(cube: c, pixels: plane, wavenumbers: axis, into: $0) }
            }
            return written ? out : nil
        }
        let methods: [SpectralNormalization] = try [.init(method: .vector), .init(method: .snv), .init(method: .minmax),
                                                    .init(method: .area), .init(method: .band, wavenumber: 1500)]
        for m in methods {
            // Both compute each pixel's sums in Double in band order, so they agree bit for bit.
            #expect(try whole(m) == perSpectrum(m), "\(m.method)")
        }
        let crop = SpectralCrop(lower: 1200, upper: 1600)
        #expect(try whole(crop) == perSpectrum(crop))
        #expect(try whole(try SavitzkyGolay(window: 5, order: 2)) == nil)  // runs per spectrum
    }

    @Test func bandMajorPCAEqualsPixelMajorPCA() throws {
        let sample = try Self.sample(bands: 20)
        let plane = 64
        let cube = sample.image.scalars
        var pixelMajor = [Float](repeating: 0, count: plane * 20)
        for k in 0..<20 { for p in 0..<plane { pixelMajor[p * 20 + k] = cube[k * plane + p] } }
        let pca = try PCA(fitting: pixelMajor, bands: 20, components: 4)
        let expected = try pca.transform(pixelMajor)  // P×k
        let scales: [Float] = [1, 2, 3, 4]
        let got = try cube.withUnsafeBufferPointer { try pca.transform(bandMajor: $0, pixels: plane, scales: scales) }  // k×P
        for c in 0..<4 {
            for p in 0..<plane {
                // Same products, summed in another order by sgemm: float rounding of values near 1.
                #expect(Swift.abs(got[c * plane + p] - scales[c] * expected[p * 4 + c]) < 1e-5 * scales[c] * 10)
            }
        }
    }

    @Test func samplesArePreparedInOrderOnEveryCore() throws {
        struct Odd: Error {}
        let sequence = SampleSequence(count: 7) { i in
            if i == 3 { throw Odd() }
            return try Self.sample(seed: UInt64(i))
        }
        var seen: [Int] = [], values: [Float?] = []
        try sequence.forEach(parallel: 3, { $0.image.scalars[0] }) { i, outcome in
            seen.append(i)
            values.append(try? outcome.get())
        }
        #expect(seen == Array(0..<7))
        let expected = try (0..<7).map { $0 == 3 ? nil : try Self.sample(seed: UInt64($0)).image.scalars[0] }
        #expect(values == expected)
        let one = try sequence.map(parallel: 1) { $0.id }, two = try sequence.map(parallel: 2) { $0.id }
        #expect(one.map { try? $0.get() } == two.map { try? $0.get() })
    }
}
