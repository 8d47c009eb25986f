import Testing
import CompSegCore
import CompSegFigures
import CompSegNN
import CompSegTraining

@Suite struct MetricsTests {
    @Test func aucIntervalByDeLong() throws {
        // Perfect separation: AUC 1, zero placement variance, so no interval (not a 0-wide [1, 1]).
        let perfect = try #require(rocAUCWithInterval(scores: [0.9, 0.8, 0.2, 0.1], positives: [true, true, false, false]))
        #expect(perfect.auc == 1 && perfect.interval == nil)
        // All scores equal: AUC ½, no interval either.
        let tied = try #require(rocAUCWithInterval(scores: [0.5, 0.5, 0.5, 0.5], positives: [true, true, false, false]))
        #expect(tied.auc == 0.5 && tied.interval == nil)
        // Positives {0.4, 0.9}, negatives {0.2, 0.4}: placements V10 = (0.75, 1), V01 = (1, 0.75);
        // var = (0.03125/2) + (0.03125/2) = 0.03125, sd = 0.17678; AUC 0.875 ± 0.34648 → [0.528, 1].
        let r = try #require(rocAUCWithInterval(scores: [0.2, 0.4, 0.4, 0.9], positives: [false, true, false, true]))
        #expect(r.auc == 0.875)
        #expect(Swift.abs(r.interval!.low - (0.875 - 1.96 * 0.03125.squareRoot())) < 1e-12 && r.interval?.high == 1)
        #expect(rocAUCWithInterval(scores: [1, 2], positives: [false, false]) == nil)
        // One sample of a class: an AUC, but no interval (and one Dice has no standard deviation).
        let single = try #require(rocAUCWithInterval(scores: [0.9, 0.2, 0.1], positives: [true, false, false]))
        #expect(single.auc == 1 && single.interval == nil)
        #expect(meanAndSD([0.7])?.mean == 0.7 && meanAndSD([0.7])?.sd == nil && meanAndSD([1, 3])?.sd == 2.squareRoot())
    }

    /// Fractions of large images that 32 bits would round alike stay apart: 1333333/4000000
    /// (cancer) lies below 1333334/4000003 (cancer-free), so the AUC is 0, not a tie's ½.
    @Test func aucRanksInDouble() throws {
        let r = try #require(rocAUCWithInterval(scores: [1333333.0 / 4000000, 1333334.0 / 4000003], positives: [true, false]))
        #expect(r.auc == 0)
        #expect(Float(1333333.0 / 4000000) == Float(1333334.0 / 4000003))  // why Float scores tied them
    }

    /// DeLong's paired test of two networks on the same samples, against the formula computed
    /// with numpy (placements, n − 1 covariances): AUCs 0.8 and 0.76, variance of the
    /// difference 0.0272, p = erfc(0.04 / √0.0272 / √2) = 0.80837.
    @Test func pairedAUCTestByDeLong() throws {
        let a: [Double] = [0.9, 0.8, 0.35, 0.6, 0.3, 0.2, 0.55, 0.1, 0.65, 0.05]
        let b: [Double] = [0.7, 0.25, 0.4, 0.5, 0.45, 0.2, 0.3, 0.15, 0.6, 0.35]
        let positives = (0..<10).map { $0 < 5 }
        let t = try #require(pairedAUCTest(a, b, positives: positives))
        #expect(Swift.abs(t.difference - 0.04) < 1e-12 && Swift.abs(t.p - 0.8083651559145102) < 1e-12, "\(t)")  // rounding only
        #expect(try #require(pairedAUCTest(b, a, positives: positives)).difference < 0)
        // The same scores twice: the difference has no variance, so no test.
        #expect(pairedAUCTest(a, a, positives: positives) == nil)
        // One sample of a class: none either.
        #expect(pairedAUCTest([0.9, 0.2, 0.1], [0.1, 0.2, 0.3], positives: [true, false, false]) == nil)
    }

    /// Samples of one patient counted as one source: Obuchowski's clustered variance, against
    /// tools/clustered_auc_reference.py (numpy, from the paper's formulas), on ten samples of five
    /// patients; with each sample its own cluster, DeLong's unclustered values.
    @Test func clusteredIntervalAndTestByObuchowski() throws {
        let a: [Double] = [0.9, 0.8, 0.35, 0.6, 0.3, 0.2, 0.55, 0.1, 0.65, 0.05]
        let b: [Double] = [0.7, 0.25, 0.4, 0.5, 0.45, 0.2, 0.3, 0.15, 0.6, 0.35]
        let positives = [true, true, false, true, false, true, false, false, true, false]
        let patients = [0, 0, 2, 2, 4, 4, 6, 6, 8, 8]  // any ids: each sample's group
        let r = try #require(rocAUCWithInterval(scores: a, positives: positives, clusters: patients))
        // Reference: AUC 0.88, variance 0.022752, interval [0.584358184283752, 1]; rounding only.
        #expect(Swift.abs(r.auc - 0.88) < 1e-12 && Swift.abs(r.interval!.low - 0.584358184283752) < 1e-12 && r.interval!.high == 1, "\(r)")
        // Reference: difference 0.2, variance 0.013066666666666664, p = 0.08018122467934445.
        let t = try #require(pairedAUCTest(a, b, positives: positives, clusters: patients))
        #expect(Swift.abs(t.difference - 0.2) < 1e-12 && Swift.abs(t.p - 0.08018122467934445) < 1e-12, "\(t)")
        // One sample per cluster is DeLong's: the same interval and test as without clusters.
        let alone = try #require(rocAUCWithInterval(scores: a, positives: positives, clusters: Array(0..<10)))
        let plain = try #require(rocAUCWithInterval(scores: a, positives: positives))
        #expect(Swift.abs(alone.interval!.low - plain.interval!.low) < 1e-12)
        #expect(Swift.abs(try #require(pairedAUCTest(a, b, positives: positives, clusters: Array(0..<10))).p
                          - (try #require(pairedAUCTest(a, b, positives: positives))).p) < 1e-12)
        // Every cancer sample from one patient: no interval (its variance is undefined), as with one sample.
        let one = try #require(rocAUCWithInterval(scores: a, positives: positives, clusters: positives.map { $0 ? 0 : 1 }))
        #expect(one.interval == nil)
    }

    @Test func youdenPicksTheBestCut() throws {
        // Cut 0.4: sensitivity 1 (0.4, 0.9), specificity ½ (0.2 below, 0.4 not) → J ½;
        // cut 0.9: sensitivity ½, specificity 1 → J ½; the first best (0.4) is kept.
        let y = try #require(youdenPoint(scores: [0.2, 0.4, 0.4, 0.9], positives: [false, true, false, true]))
        #expect(y.cut == 0.4 && y.sensitivity == 1 && y.specificity == 0.5)
    }

    @Test func pixelAgreementAndTheEmptyRule() {
        let region = [true, true, true, true, false]
        let a = PixelAgreement(predicted: [true, true, false, false, true], truth: [true, false, true, false, true], region: region)
        // Inside the region: TP 1, FP 1, FN 1, TN 1 (the last pixel is outside and ignored).
        #expect(a.dice == 0.5 && a.iou == 1.0 / 3 && a.sensitivity == 0.5 && a.specificity == 0.5 && !a.bothEmpty)
        let empty = PixelAgreement(predicted: [false, false], truth: [false, false], region: [true, true])
        #expect(empty.dice == 1 && empty.iou == 1 && empty.bothEmpty && empty.sensitivity == nil)
        let missed = PixelAgreement(predicted: [false, false], truth: [true, false], region: [true, true])
        #expect(missed.dice == 0 && missed.sensitivity == 0)
    }

    /// The Youden cut as the report says it ("fraction ≥ TEXT") calls the samples as the cut does:
    /// rounded down, with the decimals it takes to stay above the fraction just below it.
    @Test func youdenCutTextCallsTheSamplesAsTheCutDoes() throws {
        let n = 10_000
        func sample(_ id: String, _ label: SampleLabel, marked: Int) throws -> (Sample, [Float]) {
            (try Sample(id: id, image: Tensor(zeros: [1, 1, n]), channels: .bands(["x"]), tissue: Mask(height: 1, width: n, filled: true),
                        preview: try RGBImage(height: 1, width: n, bytes: Array(repeating: 0, count: 3 * n)), label: label),
             (0..<n).map { $0 < marked ? 0.9 : 0.1 })
        }
        let made = try [sample("c1", .cancer, marked: 1105), sample("f1", .cancerFree, marked: 1102), sample("c2", .cancer, marked: 5000),
                        sample("f2", .cancerFree, marked: 0)]
        let e = SegmentationEvaluation(samples: made.map(\.0), maps: made.map(\.1), truth: [:], threshold: 0.5)
        let cut = try #require(e.summary.youdenFraction)
        #expect(cut > 0.1102 && cut <= 0.1105 && e.summary.sensitivity == 1 && e.summary.specificity == 1)
        let text = try #require(EvaluationReport.youdenCutText(e))
        #expect(text == "0.1105", "\(text)")
        let shown = try #require(Double(text))
        for r in e.results { #expect((r.tumorFraction >= shown) == (r.tumorFraction >= cut), "\(r.id)") }
        #expect(EvaluationReport.rocCurve(name: "x", e).marker?.label == "Youden: fraction ≥ 0.1105")
    }

    @Test func evaluationSummarizesCancerSamplesOnly() throws {
        func sample(_ id: String, _ label: SampleLabel) throws -> Sample {
            try Sample(id: id, image: Tensor(zeros: [1, 1, 4]), channels: .bands(["x"]),
                       tissue: try Mask(height: 1, width: 4, pixels: [true, true, true, false]),
                       preview: try RGBImage(height: 1, width: 4, bytes: Array(repeating: 0, count: 12)), label: label)
        }
        let samples = [try sample("a", .cancer), try sample("b", .cancer), try sample("c", .cancerFree)]
        let maps: [[Float]] = [[0.9, 0.9, 0.1, 0.9], [0.9, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.9]]
        let truth: [String: [Bool]] = ["a": [true, true, false, false], "b": [false, true, false, false],
                                       "c": [false, false, false, false]]
        let e = SegmentationEvaluation(samples: samples, maps: maps, truth: truth, threshold: 0.35)
        #expect(e.results.map(\.tumorPixels) == [2, 1, 0])  // the 4th pixel is not tissue
        #expect(e.summary.diceMean == 0.5 && e.summary.nBothEmpty == 1)  // a: Dice 1, b: Dice 0; c is cancer-free
        #expect(e.summary.auc == 1 && e.summary.nCancer == 2 && e.summary.nCancerFree == 1)
        // A cancer-free sample has no Dice of its own (1 or 0 by a stray pixel): its tumor fraction, summarized, says what it marks.
        #expect(e.results[2].pixel?.dice == 1 && e.results[2].dice == nil && e.results[2].iou == nil && e.results[0].dice == 1)
        #expect(e.summary.cancerFreeFractionMean == 0 && e.summary.cancerFreeFractionSD == nil)
        let low = SegmentationEvaluation(samples: samples, maps: maps, truth: truth, threshold: 0.05)
        #expect(low.summary.cancerFreeFractionMean == 1)  // c's tissue (0.1 everywhere) all marked
        // Marking nothing costs AUC and Dice where cancer samples are scored; clean cancer-free masks alone cost nothing.
        let unmarked = SegmentationEvaluation(samples: samples, maps: maps, truth: truth, threshold: 0.95)
        #expect(unmarked.marksNothing && unmarked.marksNothingCost == "the AUC is 0.5, the Dice 0 where a truth marks tumor")
        let darkCancer = SegmentationEvaluation(samples: Array(samples.prefix(2)), maps: Array(maps.prefix(2)), truth: [:], threshold: 0.95)
        #expect(darkCancer.marksNothing && darkCancer.marksNothingCost == "")
        #expect(!SegmentationEvaluation(samples: [samples[2]], maps: [maps[2]], truth: truth, threshold: 0.95).marksNothing)
        #expect(SegmentationEvaluation.ThresholdChoice(threshold: 0.4, criterion: .dice, tied: 0.4...0.4, cancerFreeFraction: 0.2).reason
                    == "the best mean Dice; at it the masks mark 20% of the cancer-free samples' tissue (false positives)")
        // Mean Dice: .65 at .05 (a .8, b .5), .5 from .10 to .85, 0 above.
        let choice = SegmentationEvaluation.bestThreshold(samples: samples, maps: maps, truth: truth)
        #expect(choice == .init(threshold: 0.05, criterion: .dice, tied: 0.05...0.05, cancerFreeFraction: 1), "\(String(describing: choice))")
        // The lowest tried, and no activation below it to try; c's tissue (0.1 everywhere) is all marked there.
        #expect(choice?.reason == "the best mean Dice; at it the masks mark 100% of the cancer-free samples' tissue: the maps do not single out tumor")
        #expect(SegmentationEvaluation.ThresholdChoice(threshold: 0.95, criterion: .youden, tied: 0.9...0.95).reason
                    == "the best Youden's J of the tumor fraction, tied from 0.90 to 0.95 (the one nearest their middle taken); the highest tried (0.95): "
                    + "the best may lie above, where the maps are near 1")
        // a alone: Dice 1 from .10 to .85, tied: the middle one taken.
        let tied = SegmentationEvaluation.bestThreshold(samples: [samples[0]], maps: [maps[0]], truth: truth)
        #expect(tied?.tied == 0.10...0.85 && tied?.threshold == 0.45, "\(String(describing: tied))")
        #expect(tied?.reason == "the best mean Dice, tied from 0.10 to 0.85 (the one nearest their middle taken); on cancer samples alone "
                    + "(no cancer-free one weighed false marks)")
        #expect(tied?.caveat?.hasPrefix("no cancer-free validation sample weighed the tissue the masks mark falsely at the threshold 0.45") == true)
        #expect(choice?.caveat == nil)
        // Without truth, Youden's J of the tumor fraction; with one class only, nothing to choose by.
        #expect(SegmentationEvaluation.bestThreshold(samples: samples, maps: maps, truth: [:])?.criterion == .youden)
        #expect(SegmentationEvaluation.bestThreshold(samples: Array(samples.prefix(2)), maps: Array(maps.prefix(2)), truth: [:]) == nil)
        #expect(SegmentationEvaluation.bestThreshold(samples: [samples[2]], maps: [maps[2]], truth: truth) == nil)
        // Faint maps (every activation below .05): thresholds from their own values; maps alike at every threshold: said so.
        let faintMaps = maps.map { $0.map { $0 > 0.5 ? Float(0.02) : 0.001 } }
        let faint = try #require(SegmentationEvaluation.bestThreshold(samples: samples, maps: faintMaps, truth: truth))
        #expect(faint.threshold == 0.001 && !faint.uninformative, "\(faint)")
        #expect(faint.reason.hasPrefix("the best mean Dice") && faint.reason.hasSuffix("below the usual sweep (0.05 to 0.95), among "
                                                                                     + "thresholds taken from the maps' own faint values"))
        #expect(SegmentationEvaluation(samples: samples, maps: faintMaps, truth: truth, threshold: faint.threshold).summary.diceMean == 0.5)
        // Its chart: the faint candidates on a logarithmic axis (ticks at the decades), the rule at log10(0.001).
        let faintChart = EvaluationReport.thresholdChart(samples: samples, maps: faintMaps, truth: truth, chosen: faint.threshold)
        #expect(faintChart.xTicks.map(\.label) == ["0.001", "0.01", "0.1", "1"] && abs((faintChart.rules.first?.value ?? 0) + 3) < 1e-6)
        #expect(faintChart.xLabel == "activation threshold (logarithmic)")
        // A threshold of 0 (a hand-edited model.json) is drawn on the linear axis, not trapped on log10(0).
        #expect(EvaluationReport.thresholdChart(samples: samples, maps: faintMaps, truth: truth, chosen: 0).xLabel == "activation threshold")
        #expect(faintChart.series.first?.points.count == 90 + 40 + 19 && faintChart.series.first?.points.first?.y == 0.5,
                "\(faintChart.series.first?.points.prefix(3) ?? [])")
        // Activations below 1/1000 are the maps' dark background, their order noise: never a threshold.
        let dark = try #require(SegmentationEvaluation.bestThreshold(samples: samples, maps: maps.map { $0.map { $0 > 0.5 ? Float(3e-8) : 1e-8 } },
                                                                     truth: truth))
        #expect(dark.uninformative && dark.threshold >= SegmentationEvaluation.faintestThreshold, "\(dark)")
        let flat = try #require(SegmentationEvaluation.bestThreshold(samples: samples, maps: maps.map { $0.map { _ in 0 } }, truth: truth))
        #expect(flat.uninformative && flat.reason.hasPrefix("the best mean Dice: none, as no threshold tried (0.05 to 0.95) scores above nothing"),
                "\(flat.reason)")
        // Perfect maps (0/1, as the truth): every threshold ties at Dice 1, which is no uninformative choice.
        let perfect = maps.indices.map { i in (truth[samples[i].id] ?? []).map { $0 ? Float(1) : 0 } }
        let crisp = try #require(SegmentationEvaluation.bestThreshold(samples: samples, maps: perfect, truth: truth))
        #expect(!crisp.uninformative && crisp.tied == 0.05...0.95 && crisp.threshold == 0.5, "\(crisp)")
        // Maps lit on every tissue pixel of every sample: the best Dice is that of masks lit everywhere, and said so.
        let lit = try #require(SegmentationEvaluation.bestThreshold(samples: samples, maps: maps.map { $0.map { _ in 0.9 } }, truth: truth))
        // Their tumor fractions are all alike: Youden's J is 0 at every threshold, drawn so, and no cut is made.
        let litChart = EvaluationReport.thresholdChart(samples: samples, maps: maps.map { $0.map { _ in 0.9 } }, truth: truth, chosen: 0.5)
        #expect(litChart.series.first { $0.name?.hasPrefix("Youden") == true }?.points.map(\.y) == Array(repeating: 0, count: 19))
        #expect(SegmentationEvaluation(samples: samples, maps: maps.map { $0.map { _ in 0.9 } }, truth: truth, threshold: 0.5)
                    .summary.youdenFraction == nil)
        #expect(lit.marksEverything && lit.reason.hasSuffix("at it the masks mark 100% of the cancer-free samples' tissue: the maps do not "
                                                             + "single out tumor"), "\(lit.reason)")
        // Two decimals, or two digits below 0.05, as --threshold auto chooses; any other value in full, as applied.
        #expect(thresholdText(0.35) == "0.35" && thresholdText(0.021) == "0.021" && thresholdText(0.001) == "0.001")
        #expect(thresholdText(0.0213) == "0.0213" && thresholdText(0.9999) == "0.9999" && thresholdText(0.01306) == "0.01306")
        // True tumor outside the tissue mask counts as missed (the mask cannot mark it): a's Dice is 2·2/(2·2 + 1).
        let beyond = SegmentationEvaluation(samples: [samples[0]], maps: [maps[0]], truth: ["a": [true, true, false, true]], threshold: 0.35)
        #expect(beyond.results[0].pixel?.dice == 0.8 && beyond.results[0].pixel?.sensitivity == 2.0 / 3, "\(beyond.results)")
    }

    /// A faint checkerboard (0.0072 and 0.0094) that the threshold straddles makes a dotted mask; a
    /// threshold above it, or a smooth map, makes none.
    @Test func maskParitySpreadFindsDottedMasks() {
        let (h, w) = (24, 24)
        let grid = (0..<(h * w)).map { p -> Float in (p / w + p % w) % 2 == 0 ? 0.0072 : 0.0094 }
        let tissue = [Bool](repeating: true, count: h * w)
        #expect(parityPatternSpread(grid, height: h, width: w) < 0.003)
        #expect(maskParitySpread(grid, tissue: tissue, threshold: 0.0081, height: h, width: w) > 0.5)
        #expect(maskParitySpread(grid, tissue: tissue, threshold: 0.35, height: h, width: w) == 0)
        let blob = (0..<(h * w)).map { p -> Float in abs(p / w - 12) < 6 && abs(p % w - 12) < 6 ? 0.9 : 0.1 }
        #expect(maskParitySpread(blob, tissue: tissue, threshold: 0.5, height: h, width: w) < 0.15)
        // A dotted core of a sixth of the frame counts as one that fills it: the means are over its tissue.
        let core = (0..<(h * w)).map { p in abs(p / w - 12) < 5 && abs(p % w - 12) < 5 }
        #expect(maskParitySpread(grid, tissue: core, threshold: 0.0081, height: h, width: w) > 0.5)
    }

    /// The period-2 measure: none in a constant map or a linear ramp (its 3×3 mean is itself
    /// inside), strong where every other row is dark, as a striped U-Net map is.
    @Test func parityPatternSpreadFindsAPeriodTwoGrid() {
        let (h, w) = (16, 12)
        #expect(parityPatternSpread([Float](repeating: 0.4, count: h * w), height: h, width: w) == 0)
        let ramp = (0..<(h * w)).map { Float($0 % w) / Float(w) * 0.5 + Float($0 / w) / Float(h) * 0.3 }
        #expect(parityPatternSpread(ramp, height: h, width: w) < 0.01)
        let stripes = (0..<(h * w)).map { ($0 / w) % 2 == 0 ? Float(0.6) : 0 }
        let spread = parityPatternSpread(stripes, height: h, width: w)
        #expect(spread > 0.7 && spread < 0.8, "\(spread)")  // ±(0.6 − 0.2): 0.8 inside, less at the first and last rows
        #expect(parityPatternSpread([1, 0], height: 1, width: 2) == 0)
        // Gathered a band of rows at a time (an image streamed region by region): the bands' edge rows, whose 3×3 means
        // repeat them, make the difference (here 2 rows in 16, 21 or 32; tiles are 256 rows or more).
        let tall = 128
        let longStripes = (0..<(tall * w)).map { ($0 / w) % 2 == 0 ? Float(0.6) : 0 }
        let whole = parityPatternSpread(longStripes, height: tall, width: w)
        for band in [16, 21, 32] {
            var sums = ParitySums()
            for y0 in stride(from: 0, to: tall, by: band) {
                let rows = min(band, tall - y0)
                sums.add(Array(longStripes[(y0 * w)..<((y0 + rows) * w)]), rows: rows, width: w, firstRow: y0, over: nil)
            }
            #expect(abs(sums.spread - whole) < 0.15 * whole, "bands of \(band): \(sums.spread) against \(whole)")
        }
    }
}
