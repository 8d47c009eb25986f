import CompSegCore
import CompSegNN
@testable import CompSegTraining
import Testing

/// `InputRange`: the 0.1% and 99.9% quantiles of the training tissue's inputs, per channel, and
/// the share of a sample's tissue outside them.
@Suite struct InputRangeTests {
    /// A C×n×n sample whose channel c holds `value(c, pixel)`, its tissue where `tissue(pixel)`.
    func sample(_ id: String, channels: Int = 2, n: Int = 10, tissue: (Int) -> Bool = { _ in true },
                value: (Int, Int) -> Float) throws -> Sample {
        let plane = n * n
        let scalars = (0..<(channels * plane)).map { value($0 / plane, $0 % plane) }
        return try Sample(id: id, image: Tensor(shape: [channels, n, n], scalars: scalars),
                          channels: .bands((0..<channels).map { "c\($0)" }), tissue: Mask(height: n, width: n, pixels: (0..<plane).map(tissue)),
                          preview: RGBImage(height: n, width: n, bytes: [UInt8](repeating: 0, count: 3 * plane)))
    }

    @Test func quantilesOfTheTissuePixels() throws {
        // Channel 0 holds 0…99 on tissue (the first 100 pixels of 20×20) and 1e6 outside it; channel 1 twice that.
        let s = try sample("a", n: 20, tissue: { $0 < 100 }) { c, p in p < 100 ? Float((c + 1) * p) : 1e6 }
        var sampler = InputRangeSampler(channels: 2, samples: 1)
        sampler.add(s)
        let range = try #require(sampler.range())
        #expect(range.pixels == 100)
        // Linear interpolation between order statistics, as numpy's default: position q·(n−1).
        #expect(abs(range.low[0] - 0.099) < 1e-5 && abs(range.high[0] - 98.901) < 1e-3, "\(range)")
        #expect(abs(range.low[1] - 0.198) < 1e-5 && abs(range.high[1] - 197.802) < 1e-3, "\(range)")
    }

    @Test func pixelBudgetIsSpreadOverTheSamples() throws {
        // 3 samples of 100×100 tissue pixels: each gives at most a third of the budget, at an even stride.
        var sampler = InputRangeSampler(channels: 1, samples: 3)
        for k in 0..<3 { sampler.add(try sample("s\(k)", channels: 1, n: 100) { _, p in Float(k * 10_000 + p) }) }
        let range = try #require(sampler.range())
        #expect(range.pixels == 3 * (InputRange.pixelBudget / 3) && range.pixels <= InputRange.pixelBudget)
        #expect(range.low[0] < 50 && range.high[0] > 29_950, "\(range)")  // every sample's span is reached
        // A pixel with a value that is not finite is left out; one of other channels is skipped whole.
        var other = InputRangeSampler(channels: 2, samples: 2)
        other.add(try sample("nan", tissue: { $0 < 2 }) { _, p in p == 0 ? .nan : 1 })
        other.add(try sample("three", channels: 3) { _, _ in 5 })
        #expect(other.range()?.pixels == 1)
    }

    @Test func sharesOutsideTheWidenedRange() throws {
        let range = InputRange(low: [0, 10], high: [1, 20], pixels: 1000)
        // Channel 0 is widened by 0.1 either side; channel 1 by 1.
        var inside = InputRangeCounts(id: "in", range: range)
        inside.add(try sample("in") { c, p in c == 0 ? -0.09 + 1.18 * Float(p) / 99 : 9.5 + Float(p % 11) })
        #expect(inside.worst?.share == 0 && !inside.departs)
        // 60 of 100 pixels above channel 1's bound (21); non-tissue pixels far out do not count.
        var above = InputRangeCounts(id: "up", range: range)
        above.add(try sample("up", n: 11, tissue: { $0 < 100 }) { c, p in c == 0 ? 0.5 : (p >= 100 ? -1e9 : p < 60 ? 30 : 15) })
        let worst = try #require(above.worst)
        #expect(worst.channel == 1 && worst.above && abs(worst.share - 0.6) < 1e-12 && above.departs && above.tissue == 100)
        // Counted region by region, the shares add up as for the whole.
        var parts = InputRangeCounts(id: "parts", range: range)
        let values: [Float] = [0.5, 0.5, -5, 0.5, /* channel 1 */ 15, 15, 15, 15]
        values.withUnsafeBufferPointer { parts.add($0, tissue: [true, true, true, false]) }
        values.withUnsafeBufferPointer { parts.add($0, tissue: [false, false, true, true]) }
        #expect(parts.tissue == 5 && parts.worst?.channel == 0 && parts.worst?.above == false && abs(parts.worst!.share - 0.4) < 1e-12)
        #expect(!parts.departs)
        #expect(InputRangeCounts(id: "none", range: range).worst == nil)
    }

    /// The training samples' tissue means bound a sample's: one whose mean lies beyond them by
    /// more than their spread (at least a tenth of the pixels' range) is named, though its pixels
    /// stay within the pixels' range.
    @Test func samplesMeansBoundTheMean() throws {
        var sampler = InputRangeSampler(channels: 1, samples: 10)
        // Ten samples, the first of 0…9 and the others of 10…19 on their 100 tissue pixels: means 4.5 and 14.5, pixels 0…19.
        for k in 0..<10 { sampler.add(try sample("s\(k)", channels: 1) { _, p in Float(min(k, 1) * 10 + p % 10) }) }
        let range = try #require(sampler.range())
        #expect(range.meanLow == [4.5] && range.meanHigh == [14.5] && range.samples == 10, "\(range)")
        var nine = range
        nine.samples = 9
        #expect(nine.meanBounds == nil)  // too few samples to tell the means' spread
        let bounds = try #require(range.meanBounds)
        #expect(abs(bounds.low[0] + 5.5) < 1e-5 && abs(bounds.high[0] - 24.5) < 1e-5, "\(bounds)")  // ± the spread, 10
        // Half the pixels at 0 and half at 19.1 (inside the widened pixel range): a mean of 9.55, inside.
        var inside = InputRangeCounts(id: "in", range: range)
        inside.add(try sample("in", channels: 1) { _, p in p < 50 ? 0 : 19.1 })
        #expect(!inside.departs && (inside.farthestMean?.beyond ?? 1) < 0)
        // Training samples alike in their means: a sample whose pixels all lie within the pixels' range, its mean beyond.
        let alike = InputRange(low: [0], high: [20], pixels: 200, meanLow: [9], meanHigh: [10], samples: 10)  // pad: max(1, 2) = 2
        var darker = InputRangeCounts(id: "darker", range: alike)
        darker.add(try sample("darker", channels: 1) { _, p in p % 2 == 0 ? 5 : 20 })  // mean 12.5, beyond 7…12
        let far = try #require(darker.farthestMean)
        #expect(far.channel == 0 && abs(far.mean - 12.5) < 1e-6 && abs(far.beyond - 0.2) < 1e-6 && darker.departs && (darker.worst?.share ?? 1) == 0)
        #expect(InputRangeCounts(id: "old", range: InputRange(low: [0], high: [1], pixels: 9)).farthestMean == nil)
    }

    /// Values of 0 or more (optical densities) record each sample's balance across the channels:
    /// a sample whose make-up differs (one stain weaker) is named, one merely fainter is not.
    @Test func balanceBoundsTheMakeUp() throws {
        // Ten samples, each pixel (1, 2)·strength, strengths 0.5…2 and a little more of channel 0 in some.
        var sampler = InputRangeSampler(channels: 2, samples: 10)
        for k in 0..<10 {
            sampler.add(try sample("s\(k)") { c, p in Float(0.5 + Double(p % 16) / 10) * (c == 0 ? 1 + Float(k) / 200 : 2) })
        }
        let range = try #require(sampler.range())
        let low = try #require(range.balanceLow), high = try #require(range.balanceHigh)
        // (1, 2)/√5 = (0.4472, 0.8944); 4.5% more of channel 0 moves it to (0.4631, 0.8863).
        #expect(abs(low[0] - 0.4472) < 1e-4 && abs(high[0] - 0.4631) < 1e-4 && abs(low[1] - 0.8863) < 1e-4 && abs(high[1] - 0.8944) < 1e-4,
                "\(range)")
        let bounds = try #require(range.balanceBounds)
        #expect(abs(bounds.low[0] - (2 * low[0] - high[0])) < 1e-6 && abs(bounds.high[1] - (high[1] + InputRange.balanceFloor)) < 1e-6)  // ± the spread (0.016), or the floor (channel 1's spread 0.008)
        // Fainter (×0.3), within the pixel range's widening: the same make-up, not named by its balance.
        var fainter = InputRangeCounts(id: "fainter", range: range)
        fainter.add(try sample("fainter") { c, p in 0.3 * Float(0.5 + Double(p % 16) / 10) * (c == 0 ? 1 : 2) })
        #expect((fainter.farthestBalance?.beyond ?? 1) < 0)
        // Channel 1 weaker against channel 0: (1, 1)/√2, far outside, though most values lie within the pixels' range.
        var weaker = InputRangeCounts(id: "weaker", range: range)
        weaker.add(try sample("weaker") { c, p in Float(0.5 + Double(p % 16) / 10) * (c == 0 ? 1.5 : 1.5) })
        let far = try #require(weaker.farthestBalance)
        #expect(far.channel == 1 && abs(far.balance - 0.7071) < 1e-4 && far.beyond > 1 && weaker.departs && (weaker.worst?.share ?? 1) < 0.5, "\(far)")

        // Not recorded where values go below 0 (PCA scores) or for one channel.
        var signed = InputRangeSampler(channels: 2, samples: 10)
        for k in 0..<10 { signed.add(try sample("s\(k)") { c, p in Float(p % 7) - 3 + Float(c + k) }) }
        #expect(signed.range()?.balanceLow == nil)
        var one = InputRangeSampler(channels: 1, samples: 10)
        for k in 0..<10 { one.add(try sample("s\(k)", channels: 1) { _, p in Float(p + k) }) }
        #expect(one.range()?.balanceLow == nil)
        #expect(InputRange(low: [0, 0], high: [1, 1], pixels: 9, balanceLow: [0.1], balanceHigh: [0.2, 0.3]).problem(channels: 2)?
                    .contains("holds 1 balanceLow and 2 balanceHigh values") == true)
    }

    /// Both sides count together; a channel constant in training still allows a hundredth of the
    /// median channel's width; a range that does not fit the run's channels is named.
    @Test func bothSidesAndConstantChannels() throws {
        let range = InputRange(low: [0, 5], high: [1, 5], pixels: 1000)  // channel 1: constant 5 in training
        let (low, high) = range.bounds
        #expect(zip(low + high, [-0.1, 4.99, 1.1, 5.01] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 }, "\(range.bounds)")
        var mixed = InputRangeCounts(id: "mixed", range: range)
        // Channel 0: 30 pixels below, 30 above, 40 inside; channel 1 within its rounding.
        mixed.add(try sample("mixed") { c, p in c == 1 ? 5.005 : p < 30 ? -1 : p < 60 ? 2 : 0.5 })
        let worst = try #require(mixed.worst)
        #expect(worst.channel == 0 && abs(worst.share - 0.6) < 1e-12 && mixed.departs)
        var shifted = InputRangeCounts(id: "shifted", range: range)
        shifted.add(try sample("shifted") { c, _ in c == 1 ? 5.2 : 0.5 })
        #expect(shifted.worst?.channel == 1 && shifted.worst?.above == true && shifted.departs)

        #expect(range.problem(channels: 2) == nil)
        #expect(InputRange(low: [0], high: [1], pixels: 9, meanLow: [0.5], meanHigh: nil).problem(channels: 1)?.contains("meanHigh") == true)
        #expect(range.problem(channels: 3)?.contains("expected one of each for the 3 input channels") == true)
        #expect(InputRange(low: [0, 2], high: [1, 1], pixels: 9).problem(channels: 2)?.hasPrefix("channel 2: low 2.0, high 1.0") == true)
    }
}
