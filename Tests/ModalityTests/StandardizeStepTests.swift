import CompSegCore
import CompSegNN
import Foundation
import SpectralPreprocessing
import Testing

/// `standardize`: per-channel mean and standard deviation fitted on all training tissue pixels,
/// whatever the samples' sizes and axis direction; saved and re-applied exactly.
@Suite struct StandardizeStepTests {
    /// `channels` marker planes of h×w with a different scale and offset each; a border of background.
    static func sample(_ id: String, h: Int, w: Int, channels: Int = 3, seed: UInt64) throws -> Sample {
        var g = SeededGenerator(seed: seed)
        let values = (0..<(channels * h * w)).map { i in Float(10 * (i / (h * w)) + 1) * Float(1 + g.nextNormal()) + 100 * Float(i / (h * w)) }
        let tissue = (0..<(h * w)).map { ($0 / w) % (h - 1) != 0 }  // first and last rows background
        return try Sample(id: id, image: Tensor(shape: [channels, h, w], scalars: values),
                          channels: .bands((1...channels).map { "marker\($0)" }), tissue: Mask(height: h, width: w, pixels: tissue),
                          preview: RGBImage(height: h, width: w, fill: (0, 0, 0)), label: .cancer)
    }

    /// Each channel's mean and population standard deviation over the tissue of all `samples`, in double.
    static func moments(_ samples: [Sample]) -> [(mean: Double, sd: Double)] {
        (0..<samples[0].image.shape[0]).map { c in
            let values = samples.flatMap { s in
                let plane = s.height * s.width, all = s.image.scalars
                return (0..<plane).filter { s.tissue.pixels[$0] }.map { Double(all[c * plane + $0]) }
            }
            let mean = values.reduce(0, +) / Double(values.count)
            return (mean, (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot())
        }
    }

    @Test func fitsOnAllTrainingTissueAndGivesUnitScale() throws {
        let samples = [try Self.sample("a", h: 9, w: 7, seed: 1), try Self.sample("b", h: 5, w: 12, seed: 2)]
        let step = try #require(try StandardizeStep().fitted(to: SampleSequence(samples)) as? StandardizeStep)
        let expected = Self.moments(samples)
        for (c, m) in expected.enumerated() {
            // Float32 storage of values up to ~250: a relative 1e-5 of the scale.
            #expect(Swift.abs(Double(step.mean![c]) - m.mean) <= 1e-5 * Swift.abs(m.mean) + 1e-5, "channel \(c)")
            #expect(Swift.abs(Double(step.sd![c]) - m.sd) <= 1e-5 * m.sd, "channel \(c)")
        }
        let out = try samples.map(step.apply)
        for m in Self.moments(out) {
            #expect(Swift.abs(m.mean) < 1e-5 && Swift.abs(m.sd - 1) < 1e-5, "\(m)")
        }
        #expect(out[0].channels == samples[0].channels && out[0].image.shape == samples[0].image.shape)

        // Saved as model.json saves it, read back through the registry: the same values out.
        var registry = Registry()
        try SpectralSteps.register(in: &registry)
        let again = try registry.transform("zscore", PluginConfiguration(json: try step.configuration()))
        #expect(try again.apply(samples[1]).image.scalars == out[1].image.scalars)
        #expect(again.isPixelwise)
    }

    @Test func aConstantChannelIsOnlyCentredAndOtherChannelsAreRefused() throws {
        var flat = try Self.sample("flat", h: 6, w: 6, seed: 3)
        var values = flat.image.scalars
        for i in 0..<36 { values[i] = 4 }  // channel 1 constant
        flat.image = try Tensor(shape: [3, 6, 6], scalars: values)
        let step = try #require(try StandardizeStep().fitted(to: SampleSequence([flat])) as? StandardizeStep)
        #expect(step.mean![0] == 4 && step.sd![0] == 1)
        #expect(try step.apply(flat).image.scalars[0] == 0)

        let two = try Self.sample("two", h: 6, w: 6, channels: 2, seed: 4)
        #expect { try step.apply(two) } throws: { "\($0)".contains("two") && "\($0)".contains("'standardize' was fitted on") }
        #expect { try StandardizeStep().fitted(to: SampleSequence([flat, two])) } throws: {
            "\($0)".contains("two") && "\($0)".contains("differ from the first training sample's")
        }
    }

    /// A spectral sample stored the other way round is fitted and applied band for band.
    @Test func aReversedAxisIsTakenBandForBand() throws {
        let axis: [Double] = [1000, 1100, 1200]
        var up = try Self.sample("up", h: 6, w: 6, seed: 5)
        up.channels = .spectral(values: axis, unit: "cm⁻¹")
        let plane = 36, scalars = up.image.scalars
        var down = up
        down.id = "down"
        down.image = try Tensor(shape: [3, 6, 6], scalars: (0..<3).reversed().flatMap { Array(scalars[($0 * plane)..<(($0 + 1) * plane)]) })
        down.channels = .spectral(values: axis.reversed(), unit: "cm⁻¹")
        let both = try #require(try StandardizeStep().fitted(to: SampleSequence([up, down])) as? StandardizeStep)
        let one = try #require(try StandardizeStep().fitted(to: SampleSequence([up])) as? StandardizeStep)
        for c in 0..<3 {
            #expect(Swift.abs(both.mean![c] - one.mean![c]) <= 1e-4 * Swift.abs(one.mean![c]))
            #expect(Swift.abs(both.sd![c] - one.sd![c]) <= 1e-4 * one.sd![c])
        }
        #expect(try both.apply(down).image.scalars == both.apply(up).image.scalars)
    }

    /// Values given (a lab's reference) are applied as they are, not fitted over; half of them are refused.
    @Test func givenValuesAreKeptAndHalfOfThemRefused() throws {
        var registry = Registry()
        try SpectralSteps.register(in: &registry)
        #expect { try registry.transform("standardize", PluginConfiguration(json: Data(#"{"mean": [1]}"#.utf8))) } throws: {
            "\($0)".contains("'mean' and 'sd' go together")
        }
        #expect { try registry.transform("standardize", PluginConfiguration(json: Data(#"{"mean": [1, 2], "sd": [1]}"#.utf8))) } throws: {
            "\($0)".contains("2 means and 1 deviations; expected one of each per channel")
        }
        let given = try registry.transform("standardize", PluginConfiguration(json: Data(#"{"mean": [10, 20, 30], "sd": [2, 4, 8]}"#.utf8)))
        let sample = try Self.sample("s", h: 4, w: 4, seed: 6)
        let fitted = try given.fitted(to: SampleSequence([sample]))
        let out = try fitted.apply(sample).image.scalars, input = sample.image.scalars
        #expect(out[0] == (input[0] - 10) / 2 && out[16] == (input[16] - 20) / 4 && out[47] == (input[47] - 30) / 8)
        #expect { try fitted.apply(Self.sample("two", h: 4, w: 4, channels: 2, seed: 7)) } throws: { "\($0)".contains("'mean' and 'sd' give 3") }
        #expect { try registry.transform("standardize", PluginConfiguration(json: Data(#"{"men": [1]}"#.utf8))) } throws: {
            "\($0)".contains("unknown key 'men'; did you mean 'mean'?")
        }
    }
}
