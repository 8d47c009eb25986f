import CompSegCore
import CompSegNN
import Foundation

/// `standardize`: each channel less its mean, divided by its standard deviation, both fitted on
/// the training samples' tissue pixels, so that every channel has mean 0 and variance 1 there
/// (a z-score per channel: markers of a multiplexed image on one scale, or bands after a step
/// that leaves them on others). A channel constant on training tissue is only centred. Works on
/// any channels, named bands or a spectral axis; the fitted values and channels are saved. Given
/// `mean` and `sd` (a lab's reference values, one per channel), it applies those and fits nothing.
public struct StandardizeStep: SampleTransform, Codable, Equatable, ListsConfigurationKeys {
    public static let configurationKeys = ["mean", "sd", "channels"]
    /// Fitted: each channel's mean and standard deviation on training tissue; nil until fitted.
    public var mean: [Float]?
    public var sd: [Float]?
    /// The channels the fit was made on: a spectral axis stored the other way is reversed back,
    /// other channels refused; nil for values given (then only their count is checked).
    public var channels: ChannelAxis?
    public var isPixelwise: Bool { true }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mean = try c.decodeIfPresent([Float].self, forKey: .mean)
        sd = try c.decodeIfPresent([Float].self, forKey: .sd)
        channels = try c.decodeIfPresent(ChannelAxis.self, forKey: .channels)
        guard (mean == nil) == (sd == nil), mean != nil || channels == nil else {
            throw SpectralError("standardize: 'mean' and 'sd' go together, one value per channel (or neither: fitted on training tissue)")
        }
        if let mean, let sd {  // a model.json edited or cut short must not be read past its arrays
            guard mean.count == sd.count, channels.map({ $0.count == mean.count }) ?? true else {
                throw SpectralError("standardize: \(mean.count) means and \(sd.count) deviations"
                                    + (channels.map { " for \($0.count) channels" } ?? "") + "; expected one of each per channel")
            }
            guard (mean + sd).allSatisfy(\.isFinite), sd.allSatisfy({ $0 > 0 }) else {
                throw SpectralError("standardize: 'mean' and 'sd' must be finite and every 'sd' above 0")
            }
        }
    }

    public func fitted(to training: SampleSequence) throws -> any SampleTransform {
        if mean != nil { return self }  // given values, or fitted before
        guard training.count > 0 else { throw SpectralError("standardize: no training samples to fit on") }
        // Per sample and channel: tissue pixel count, mean and sum of squared deviations (two passes,
        // in double), combined across samples by Chan's formula; samples kept in order.
        let parts = try training.map { sample -> (id: String, channels: ChannelAxis, n: Double, mean: [Double], m2: [Double]) in
            let plane = sample.height * sample.width, inside = sample.tissue.pixels
            let n = Double(sample.tissue.count)
            var mean = [Double](repeating: 0, count: sample.channels.count), m2 = mean
            sample.image.withPlainBuffer { cube in
                for c in mean.indices {
                    let values = cube.baseAddress! + c * plane
                    var sum = 0.0
                    for p in 0..<plane where inside[p] { sum += Double(values[p]) }
                    mean[c] = n > 0 ? sum / n : 0
                    var squares = 0.0
                    for p in 0..<plane where inside[p] { let d = Double(values[p]) - mean[c]; squares += d * d }
                    m2[c] = squares
                }
            }
            return (sample.id, sample.channels, n, mean, m2)
        }
        var first: ChannelAxis?, n = 0.0, mean: [Double] = [], m2: [Double] = []
        func combine(_ part: (id: String, channels: ChannelAxis, n: Double, mean: [Double], m2: [Double])) {
            let total = n + part.n
            guard total > 0 else { return }
            for c in mean.indices {
                let delta = part.mean[c] - mean[c]
                m2[c] += part.m2[c] + delta * delta * n * part.n / total
                mean[c] += delta * part.n / total
            }
            n = total
        }
        for outcome in parts {
            var part = try outcome.get()
            guard let reference = first else {
                (first, mean, m2) = (part.channels, Array(repeating: 0, count: part.mean.count), Array(repeating: 0, count: part.mean.count))
                combine(part)
                continue
            }
            switch (part.channels, reference) {
            case (.spectral(let mine, _), .spectral(let theirs, _)) where ChannelAxis.matches(mine, theirs): break
            case (.spectral(let mine, _), .spectral(let theirs, _)) where ChannelAxis.matches(mine.reversed(), theirs):
                part.mean.reverse(); part.m2.reverse()  // stored the other way
            case (.bands(let mine), .bands(let theirs)) where mine.count == theirs.count: break  // by position, as the network takes them
            default:
                throw SampleError(part.id, "step 'standardize': its channels (\(part.channels.summary)) differ from the first "
                                  + "training sample's (\(reference.summary))")
            }
            combine(part)
        }
        guard n > 0, let first else { throw SpectralError("standardize: the training samples have no tissue pixels to fit on") }
        var step = self
        step.mean = mean.map { Float($0) }
        step.sd = m2.map { let sd = ($0 / n).squareRoot(); return sd > 1e-12 ? Float(sd) : 1 }
        step.channels = first
        return step
    }

    public func apply(_ sample: Sample) throws -> Sample {
        guard let mean, let sd else { throw SampleError(sample.id, "step 'standardize' has not been fitted") }
        let sample = try channels.map { try sample.aligned(to: $0, by: "'standardize' was fitted on",
                                                          remedy: "every sample needs the channels of the training samples") } ?? sample
        guard sample.channels.count == mean.count else {
            throw SampleError(sample.id, "step 'standardize': the sample has \(sample.channels.count) channels; 'mean' and 'sd' give \(mean.count)")
        }
        let plane = sample.height * sample.width
        let out = Tensor(uninitialized: sample.image.shape)  // every value written below
        sample.image.withPlainBuffer { source in
            out.withMutablePlainBuffer { target in
                for c in mean.indices {
                    let (from, to, m, s) = (source.baseAddress! + c * plane, target.baseAddress! + c * plane, mean[c], 1 / sd[c])
                    for p in 0..<plane { to[p] = (from[p] - m) * s }
                }
            }
        }
        var s = sample
        s.image = out
        return s
    }
}
