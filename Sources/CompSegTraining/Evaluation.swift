import CompSegCore
import CompSegFigures
import CompSegIO
import CompSegNN

/// How a trained network did on samples: per sample the tumor fraction (tissue pixels whose
/// activation exceeds the threshold) and, where ground truth exists, pixel agreement; image level
/// the ROC of the tumor fraction against the labels, as the paper.
public struct SegmentationEvaluation: Sendable {
    public struct SampleResult: Codable, Sendable, Equatable {
        public var id: String
        public var label: SampleLabel?
        public var tissuePixels: Int
        public var tumorPixels: Int
        public var tumorFraction: Double
        /// nil without ground truth.
        public var pixel: PixelAgreement?
        /// The physical size of the sample's pixels, where its file records one.
        public var pixelSize: PixelSize? = nil
        /// The patient the sample was taken from, where the manifest names one.
        public var patient: String? = nil

        /// The tissue's and the marked tumor's areas in mm², where the pixel size is known.
        public var tissueArea: Double? { pixelSize?.squareMillimetres(tissuePixels) }
        public var tumorArea: Double? { pixelSize?.squareMillimetres(tumorPixels) }

        /// Dice and IoU as reported per sample: nil for a cancer-free sample, whose empty truth
        /// makes them 1 or 0 (a single stray pixel); its tumor fraction says how much it marks.
        public var dice: Double? { label == .cancerFree ? nil : pixel?.dice }
        public var iou: Double? { label == .cancerFree ? nil : pixel?.iou }
        /// The share of true tumor pixels marked, as reported per sample: nil for a cancer-free
        /// sample, which by its label holds no tumor (a truth marking some contradicts it).
        public var pixelSensitivity: Double? { label == .cancerFree ? nil : pixel?.sensitivity }
    }

    /// What `summary.json` holds.
    public struct Summary: Codable, Sendable, Equatable {
        public var threshold: Float
        public var auc: Double?
        /// DeLong 95% interval [low, high]; where patients are named and one gives several samples,
        /// clustered by patient (`aucCIMethod`).
        public var aucCI: [Double]?
        /// How `aucCI` was computed: "DeLong", or `clusteredMethod`; nil where there is no interval.
        public var aucCIMethod: String? = nil
        public static let clusteredMethod = "Obuchowski, clustered by patient"
        /// Whether `aucCI` counts each patient once.
        public var aucCIClustered: Bool { aucCIMethod == Self.clusteredMethod }
        /// Where the manifest names patients: how many the labelled samples name (a sample without
        /// one stands alone in the interval, and is not counted here); nil otherwise.
        public var nPatients: Int? = nil
        /// Where a patient gives several labelled samples and every sample names one: the AUC over
        /// patients, each scored by the highest tumor fraction of its samples and labelled cancer
        /// where any of them is, with its DeLong interval, and the patients of each class (the AUC
        /// nil where a class has none); nil otherwise.
        public var patientAUC: Double? = nil, patientAUCCI: [Double]? = nil
        public var nPatientsCancer: Int? = nil, nPatientsCancerFree: Int? = nil
        /// Youden's point on the tumor fraction: the fraction at or above which a sample is called
        /// cancer; nil with one class, or where no cut does better than chance (J = 0: every
        /// fraction 0, say).
        public var youdenFraction: Double?
        public var sensitivity: Double?, specificity: Double?
        /// Over cancer samples with ground truth.
        public var diceMean: Double?, diceSD: Double?, iouMean: Double?, iouSD: Double?
        public var pixelSensitivityMean: Double?, pixelSensitivitySD: Double?
        public var pixelSpecificityMean: Double?, pixelSpecificitySD: Double?
        public var nCancer: Int, nCancerFree: Int
        /// Samples whose predicted and true masks are both empty (Dice 1 by the stated rule).
        public var nBothEmpty: Int
        /// True tumor pixels of the samples with truth, and those outside the tissue mask, which
        /// the masks cannot mark (counted as missed); nil without truth.
        public var truthPixels: Int? = nil, truthPixelsOutsideTissue: Int? = nil
        /// The tumor fraction of the cancer-free samples (the share of their tissue the masks mark,
        /// every pixel of it a false positive), mean and sd; nil without cancer-free samples.
        public var cancerFreeFractionMean: Double? = nil, cancerFreeFractionSD: Double? = nil
        /// Where the numbers come from, as the command that wrote them says: the run folder, the
        /// manifest, the split evaluated and how the threshold was chosen; nil when not told.
        public var model: String?, data: String?, split: String?, thresholdOrigin: String?
        /// The inputs of the split left out as unreadable (`--skip-unreadable`), and the warnings
        /// the command wrote, in order; nil when not told.
        public var nLeftOut: Int? = nil, warnings: [String]? = nil
        /// Which network scored: the compseg that ran it, and the epoch and data checksum of the
        /// weights (`weights.safetensors`' `epoch` and `compseg_data_checksum`); nil when not told.
        public var compsegVersion: String? = nil, weightsEpoch: Int? = nil, weightsChecksum: String? = nil
        /// The run whose weights the scoring run's began from (`train --init-from`); nil for one trained from scratch.
        public var fineTunedFrom: String? = nil

        enum CodingKeys: String, CodingKey {
            case threshold, auc, aucCI = "auc_ci", aucCIMethod = "auc_ci_method", nPatients = "n_patients", patientAUC = "patient_auc"
            case patientAUCCI = "patient_auc_ci", nPatientsCancer = "n_patients_cancer", nPatientsCancerFree = "n_patients_cancer_free"
            case youdenFraction = "youden_fraction", sensitivity, specificity
            case diceMean = "dice_mean", diceSD = "dice_sd", iouMean = "iou_mean", iouSD = "iou_sd"
            case pixelSensitivityMean = "pixel_sensitivity_mean", pixelSensitivitySD = "pixel_sensitivity_sd"
            case pixelSpecificityMean = "pixel_specificity_mean", pixelSpecificitySD = "pixel_specificity_sd"
            case nCancer = "n_cancer", nCancerFree = "n_cancer_free", nBothEmpty = "n_both_empty"
            case truthPixels = "truth_pixels", truthPixelsOutsideTissue = "truth_pixels_outside_tissue"
            case cancerFreeFractionMean = "cancer_free_fraction_mean", cancerFreeFractionSD = "cancer_free_fraction_sd"
            case model, data, split, thresholdOrigin = "threshold_origin", nLeftOut = "n_left_out", warnings
            case compsegVersion = "compseg_version", weightsEpoch = "weights_epoch", weightsChecksum = "weights_checksum"
            case fineTunedFrom = "fine_tuned_from"
        }

        /// Every key, a measure that cannot be computed (no AUC with one class, no Dice without truth) as null.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(threshold, forKey: .threshold); try c.encode(auc, forKey: .auc); try c.encode(aucCI, forKey: .aucCI)
            try c.encode(aucCIMethod, forKey: .aucCIMethod); try c.encode(nPatients, forKey: .nPatients)
            try c.encode(patientAUC, forKey: .patientAUC); try c.encode(patientAUCCI, forKey: .patientAUCCI)
            try c.encode(nPatientsCancer, forKey: .nPatientsCancer); try c.encode(nPatientsCancerFree, forKey: .nPatientsCancerFree)
            try c.encode(youdenFraction, forKey: .youdenFraction)
            try c.encode(sensitivity, forKey: .sensitivity); try c.encode(specificity, forKey: .specificity)
            try c.encode(diceMean, forKey: .diceMean); try c.encode(diceSD, forKey: .diceSD)
            try c.encode(iouMean, forKey: .iouMean); try c.encode(iouSD, forKey: .iouSD)
            try c.encode(pixelSensitivityMean, forKey: .pixelSensitivityMean); try c.encode(pixelSensitivitySD, forKey: .pixelSensitivitySD)
            try c.encode(pixelSpecificityMean, forKey: .pixelSpecificityMean); try c.encode(pixelSpecificitySD, forKey: .pixelSpecificitySD)
            try c.encode(nCancer, forKey: .nCancer); try c.encode(nCancerFree, forKey: .nCancerFree); try c.encode(nBothEmpty, forKey: .nBothEmpty)
            try c.encode(truthPixels, forKey: .truthPixels); try c.encode(truthPixelsOutsideTissue, forKey: .truthPixelsOutsideTissue)
            try c.encode(cancerFreeFractionMean, forKey: .cancerFreeFractionMean); try c.encode(cancerFreeFractionSD, forKey: .cancerFreeFractionSD)
            try c.encode(model, forKey: .model); try c.encode(data, forKey: .data); try c.encode(split, forKey: .split)
            try c.encode(thresholdOrigin, forKey: .thresholdOrigin); try c.encode(nLeftOut, forKey: .nLeftOut)
            try c.encode(warnings, forKey: .warnings)
            try c.encode(compsegVersion, forKey: .compsegVersion); try c.encode(weightsEpoch, forKey: .weightsEpoch)
            try c.encode(weightsChecksum, forKey: .weightsChecksum); try c.encode(fineTunedFrom, forKey: .fineTunedFrom)
        }
    }

    public let threshold: Float
    public let results: [SampleResult]
    public private(set) var summary: Summary

    /// - Parameters:
    ///   - maps: each sample's activation map, H×W row-major.
    ///   - truth: tumor masks by sample id, where known.
    ///   - patients: the patient of each sample, by sample id, where the manifest names one.
    public init(samples: [Sample], maps: [[Float]], truth: [String: [Bool]], threshold: Float, patients: [String: String] = [:]) {
        self.init(counts: zip(samples, maps).map { ActivationCounts($0, map: $1, truth: truth[$0.id], thresholds: [threshold]) },
                  threshold: threshold, patients: patients)
    }

    /// From each sample's activation counts, which must count `threshold` among their edges.
    public init(counts: [ActivationCounts], threshold: Float, patients: [String: String] = [:]) {
        self.threshold = threshold
        results = counts.map { var r = $0.result(at: threshold); r.patient = patients[r.id]; return r }
        let labelled = results.filter { $0.label != nil }
        let fractions = labelled.map(\.tumorFraction), positives = labelled.map { $0.label == .cancer }
        let (groups, clusters) = Self.patientGroups(labelled)
        let clustered = clusters != nil
        // On the fractions as written (in Double: two that 32 bits would round alike stay apart), as per_sample.csv's re-apply them.
        let roc = rocAUCWithInterval(scores: fractions, positives: positives, clusters: clusters)
        let youden = youdenPoint(scores: fractions, positives: positives).flatMap { $0.sensitivity + $0.specificity > 1 ? $0 : nil }
        let cancer = results.filter { $0.label == .cancer }.compactMap(\.pixel)
        let dice = meanAndSD(cancer.map(\.dice)), iou = meanAndSD(cancer.map(\.iou))
        let sensitivity = meanAndSD(cancer.compactMap(\.sensitivity)), specificity = meanAndSD(cancer.compactMap(\.specificity))
        summary = Summary(threshold: threshold, auc: roc?.auc, aucCI: roc?.interval.map { [$0.low, $0.high] },
                          youdenFraction: youden?.cut, sensitivity: youden?.sensitivity, specificity: youden?.specificity,
                          diceMean: dice?.mean, diceSD: dice?.sd ?? nil, iouMean: iou?.mean, iouSD: iou?.sd ?? nil,
                          pixelSensitivityMean: sensitivity?.mean, pixelSensitivitySD: sensitivity?.sd ?? nil,
                          pixelSpecificityMean: specificity?.mean, pixelSpecificitySD: specificity?.sd ?? nil,
                          nCancer: labelled.filter { $0.label == .cancer }.count,
                          nCancerFree: labelled.filter { $0.label == .cancerFree }.count,
                          nBothEmpty: results.compactMap(\.pixel).filter(\.bothEmpty).count)
        if roc?.interval != nil { summary.aucCIMethod = clustered ? Summary.clusteredMethod : "DeLong" }
        let named = Set(labelled.compactMap(\.patient))
        if !named.isEmpty { summary.nPatients = named.count }
        // Over patients only where every sample names one (a sample without is no patient to score).
        if clustered, labelled.allSatisfy({ $0.patient != nil }) {
            let patients = Self.patients(of: labelled)
            let byPatient = rocAUCWithInterval(scores: patients.map(\.tumorFraction), positives: patients.map { $0.label == .cancer })
            summary.patientAUC = byPatient?.auc
            summary.patientAUCCI = byPatient?.interval.map { [$0.low, $0.high] }
            summary.nPatientsCancer = patients.filter { $0.label == .cancer }.count
            summary.nPatientsCancerFree = patients.count - summary.nPatientsCancer!
        }
        let free = meanAndSD(results.filter { $0.label == .cancerFree && $0.tissuePixels > 0 }.map(\.tumorFraction))
        (summary.cancerFreeFractionMean, summary.cancerFreeFractionSD) = (free?.mean, free?.sd ?? nil)
        // True tumor where the label says cancer-free contradicts it: the label counts.
        let truthCounts = counts.filter { $0.hasTruth && $0.label != .cancerFree }
        if !truthCounts.isEmpty {
            summary.truthPixels = truthCounts.map(\.truthPixels).reduce(0, +)
            summary.truthPixelsOutsideTissue = truthCounts.map(\.truthOutsideTissue).reduce(0, +)
        }
    }

    /// A patient as the patient AUC scores it: by the highest tumor fraction of its samples, and
    /// cancer where any of them is (else cancer-free, where any is labelled).
    public struct PatientResult: Sendable {
        public let patient: String
        public let label: SampleLabel?
        /// Its samples' ids, in order, and how many of them are labelled cancer.
        public let samples: [String], cancerSamples: Int
        public let tumorFraction: Double
    }

    /// The patients `results` name, in the order of their first samples (a sample naming none is left out).
    public static func patients(of results: [SampleResult]) -> [PatientResult] {
        var order: [String] = [], of: [String: [SampleResult]] = [:]
        for r in results {
            guard let p = r.patient else { continue }
            if of[p] == nil { order.append(p) }
            of[p, default: []].append(r)
        }
        return order.map { p in
            let these = of[p]!, cancer = these.filter { $0.label == .cancer }.count
            return PatientResult(patient: p, label: cancer > 0 ? .cancer : these.contains { $0.label == .cancerFree } ? .cancerFree : nil,
                                 samples: these.map(\.id), cancerSamples: cancer, tumorFraction: these.map(\.tumorFraction).max()!)
        }
    }

    /// Why there is no patient AUC, with `cancer` patients counted cancer: one class of patients is absent.
    public static func noPatientAUC(cancer: Int) -> String {
        cancer > 0 ? "every patient has a cancer sample, so none is cancer-free: a patient with a tumor core and a normal core counts "
            + "as cancer, and the sample AUC compares the cores" : "no patient has a cancer sample"
    }

    /// The label whose labelled samples, two or more, all come from one patient: no clustered
    /// interval can be had then (its placement variance is undefined); nil otherwise.
    public var classFromOnePatient: SampleLabel? {
        let labelled = results.filter { $0.label != nil }
        guard Self.patientGroups(labelled).clusters != nil else { return nil }
        return [SampleLabel.cancer, .cancerFree].first { label in
            let these = labelled.filter { $0.label == label }
            return these.count > 1 && these.allSatisfy { $0.patient != nil } && Set(these.map(\.patient)).count == 1
        }
    }

    /// Each result's group, its patient ("patient P7") or, where it names none, itself ("sample
    /// spot3"); and each result's cluster, the index of its group's first result, where some
    /// patient gives several (nil otherwise: every sample stands alone). Samples of one patient
    /// are not independent, so intervals and tests count each patient once.
    public static func patientGroups(_ results: [SampleResult]) -> (groups: [String], clusters: [Int]?) {
        let groups = results.map { $0.patient.map { "patient " + $0 } ?? "sample " + $0.id }
        let first = Dictionary(groups.enumerated().map { ($1, $0) }, uniquingKeysWith: min)
        return (groups, first.count < groups.count ? groups.map { first[$0]! } : nil)
    }

    /// Evaluates `model` on `samples` (inference mode).
    public init(model: any SegmentingNetwork, samples: [Sample], truth: [String: [Bool]], threshold: Float) throws {
        model.setTraining(false)
        let maps = try samples.map { s in
            try withoutGradients {
                try model.activation(Tensor(shape: Shape([1] + s.image.shape.dims), scalars: s.image.scalars)).scalars
            }
        }
        self.init(samples: samples, maps: maps, truth: truth, threshold: threshold)
    }

    /// The sample's call at the Youden cut of the tumor fraction (as the ROC scores it: 0 without
    /// tissue): cancer at or above it; nil without a cut (one class, or no cut better than chance).
    public func call(_ result: SampleResult) -> SampleLabel? {
        guard let cut = summary.youdenFraction else { return nil }
        return result.tumorFraction >= cut ? .cancer : .cancerFree
    }

    /// Whether cancer samples are scored and no sample has a pixel above the threshold: every tumor
    /// fraction is 0, the AUC 0.5 and the Dice 0 where a truth marks tumor, whatever the maps rank.
    /// Clean masks of cancer-free samples alone are what a good network gives: not this.
    public var marksNothing: Bool { results.contains { $0.label == .cancer } && results.allSatisfy { $0.tumorPixels == 0 } }

    /// What `marksNothing` costs, for its warning: "the AUC is 0.5, the Dice 0 where a truth marks
    /// tumor", each part where it applies.
    public var marksNothingCost: String {
        let dice = results.contains { $0.label == .cancer && $0.pixel != nil } ? "the Dice 0 where a truth marks tumor" : nil
        return [summary.auc == nil ? nil : "the AUC is 0.5", dice].compactMap { $0 }.joined(separator: ", ")
    }

    /// The share of all samples' tissue the masks mark; nil without tissue.
    public var tissueMarked: Double? {
        let tissue = results.map(\.tissuePixels).reduce(0, +)
        return tissue == 0 ? nil : Double(results.map(\.tumorPixels).reduce(0, +)) / Double(tissue)
    }

    /// Whether masks that mark `cancerFreeFraction` of the cancer-free samples' tissue on average
    /// mark most of it (half or more): their maps single out nothing.
    public static func marksMost(_ cancerFreeFraction: Double?) -> Bool { (cancerFreeFraction ?? 0) >= 0.5 }

    /// A share as a percentage with one decimal, with its sd: "12.0 ± 3.1%", "12.0%".
    public static func percentText(_ mean: Double, sd: Double? = nil) -> String {
        String(format: "%.1f", 100 * mean) + (sd.map { String(format: " ± %.1f", 100 * $0) } ?? "") + "%"
    }

    // Shorthands used by the demo.
    public var auc: Double? { summary.auc }
    public var dice: [Double] { results.filter { $0.label == .cancer }.compactMap { $0.pixel?.dice } }
    public var diceMean: Double { summary.diceMean ?? .nan }
    public var diceSD: Double { summary.diceSD ?? .nan }

    /// The activation threshold chosen on some samples (`bestThreshold`), and by what.
    public struct ThresholdChoice: Sendable, Equatable {
        public enum Criterion: String, Sendable { case dice = "the best mean Dice", youden = "the best Youden's J of the tumor fraction" }
        public let threshold: Float
        public let criterion: Criterion
        /// The candidates that tie with it, lowest and highest (equal to `threshold` when none does).
        public let tied: ClosedRange<Float>
        /// Whether no candidate scored anything (Dice 0, or Youden's J 0 or below): the maps tell nothing
        /// apart at any threshold.
        public let uninformative: Bool
        /// The mean tumor fraction of the cancer-free samples at `threshold` (nil without any): near 1,
        /// the masks mark nearly all tissue, tumor or not.
        public let cancerFreeFraction: Double?
        /// Whether it was chosen by Dice on cancer samples alone: no cancer-free sample weighed the
        /// tissue the masks mark falsely.
        public let onCancerAlone: Bool

        public init(threshold: Float, criterion: Criterion, tied: ClosedRange<Float>, uninformative: Bool = false,
                    cancerFreeFraction: Double? = nil, onCancerAlone: Bool = false) {
            self.threshold = threshold; self.criterion = criterion; self.tied = tied; self.uninformative = uninformative
            self.cancerFreeFraction = cancerFreeFraction; self.onCancerAlone = onCancerAlone
        }

        /// Whether the masks at it mark most of the cancer-free samples' tissue (half or more on
        /// average): the best Dice of maps that single out nothing is that of masks lit everywhere.
        public var marksEverything: Bool { SegmentationEvaluation.marksMost(cancerFreeFraction) }

        /// What a user should know of a choice made on cancer samples alone; nil otherwise.
        public var caveat: String? {
            guard onCancerAlone, !uninformative else { return nil }
            return "no cancer-free validation sample weighed the tissue the masks mark falsely at the threshold "
                + "\(thresholdText(threshold)), so the best Dice may lie where they mark most tissue; put cancer-free samples in the "
                + "val split, or give segment, overlay and evaluate a --threshold"
        }

        /// E.g. "the best mean Dice" or "the best Youden's J of the tumor fraction, tied from 0.05 to 0.60 (the one nearest their middle taken)";
        /// a choice at the top of the sweep says that the best may lie above it, one below it that it was taken from faint maps.
        public var reason: String {
            let swept = EvaluationReport.sweptThresholds
            if uninformative {
                return criterion.rawValue + ": none, as no threshold tried (\(thresholdText(tied.lowerBound)) to "
                    + "\(thresholdText(tied.upperBound))) scores above nothing, so the middle was taken: the maps tell nothing apart at any "
                    + "threshold (look at them; train longer or with another seed)"
            }
            let edge = threshold == swept.last ? String(format: "; the highest tried (%.2f): the best may lie above, where the maps are near 1", threshold)
                : threshold < swept.first! ? "; below the usual sweep (0.05 to 0.95), among thresholds taken from the maps' own faint values"
                : ""
            let marked = cancerFreeFraction ?? 0
            let everything = marksEverything ? String(format: "; at it the masks mark %.0f%% of the cancer-free samples' tissue: the maps "
                                                       + "do not single out tumor", 100 * marked)
                : marked >= 0.1 ? String(format: "; at it the masks mark %.0f%% of the cancer-free samples' tissue (false positives)", 100 * marked)
                : ""
            return criterion.rawValue + (tied.lowerBound == tied.upperBound ? ""
                : ", tied from \(thresholdText(tied.lowerBound)) to \(thresholdText(tied.upperBound)) (the one nearest their middle taken)") + edge + everything
                + (onCancerAlone ? "; on cancer samples alone (no cancer-free one weighed false marks)" : "")
        }
    }

    /// The activation threshold that does best on these samples: the highest mean Dice over cancer
    /// samples with truth where any exists, else the highest Youden J of the tumor fraction (which
    /// needs both classes). Candidates .05, .10, … .95; where .05 alone does best or none scores
    /// anything (faint maps light few pixels or none), also the twentieths of the tissue activations
    /// from `faintestThreshold` to .05, rounded to two significant digits. Of candidates that tie, the one nearest the middle of their range.
    /// - Returns: nil when neither can be measured (no cancer sample with truth, and not both classes).
    public static func bestThreshold(samples: [Sample], maps: [[Float]], truth: [String: [Bool]]) -> ThresholdChoice? {
        bestThreshold(counts: zip(samples, maps).map { ActivationCounts($0, map: $1, truth: truth[$0.id]) })
    }

    /// `bestThreshold` from each sample's activation counts (all over the same edges).
    public static func bestThreshold(counts: [ActivationCounts]) -> ThresholdChoice? {
        let swept = EvaluationReport.sweptThresholds
        let hasTruth = counts.contains { $0.label == .cancer && $0.hasTruth }
        let bothClasses = counts.contains { $0.label == .cancer } && counts.contains { $0.label == .cancerFree }
        guard hasTruth || bothClasses, let edges = counts.first?.edges else { return nil }
        precondition(counts.allSatisfy { $0.edges == edges }, "activation counts over different edges")
        func merit(_ t: Float) -> Double {
            let e = SegmentationEvaluation(counts: counts, threshold: t)
            if hasTruth { return e.summary.diceMean ?? 0 }
            return (e.summary.sensitivity ?? 0) + (e.summary.specificity ?? 0) - 1
        }
        var tried = swept.map { ($0, merit($0)) }
        let top = tried.map(\.1).max()!
        // Fainter thresholds where 0.05 alone does best, or none does anything (faint maps light no pixel above it).
        if top <= 1e-12 || (tried[0].1 >= top - 1e-12 && tried[1].1 < top - 1e-12) {
            tried = faintCandidates(counts).map { ($0, merit($0)) } + tried
        }
        let best = tried.map(\.1).max()!
        let tied = tried.indices.filter { tried[$0].1 >= best - 1e-12 }
        // Of tied candidates, the one nearest the middle of their range (the faint ones lie close together).
        let middle = (tried[tied.first!].0 + tried[tied.last!].0) / 2
        func distance(_ t: Float) -> Float { (abs(t - middle) * 1e5).rounded() }  // equal ones equal despite rounding: the lower taken
        let chosen = tied.map { tried[$0].0 }.min { (distance($0), $0) < (distance($1), $1) }!
        let free = SegmentationEvaluation(counts: counts, threshold: chosen).results
            .filter { $0.label == .cancerFree && $0.tissuePixels > 0 }.map(\.tumorFraction)
        return ThresholdChoice(threshold: chosen, criterion: hasTruth ? .dice : .youden,
                               tied: tried[tied.first!].0...tried[tied.last!].0, uninformative: best <= 1e-12,
                               cancerFreeFraction: free.isEmpty ? nil : free.reduce(0, +) / Double(free.count),
                               onCancerAlone: hasTruth && !counts.contains { $0.label == .cancerFree })
    }

    /// The thresholds below the sweep that `bestThreshold` tries on faint maps, ascending: the
    /// twentieths of the tissue activations below 0.05 (all samples' together, in order), each rounded to two
    /// significant digits, from `faintestThreshold` on. `counts` share their edges.
    static func faintCandidates(_ counts: [ActivationCounts]) -> [Float] {
        guard let edges = counts.first?.edges else { return [] }
        var faint = [Int](repeating: 0, count: ActivationCounts.faintBins(edges))
        for c in counts { for (k, n) in c.faint.enumerated() { faint[k] += n } }
        let n = faint.reduce(0, +)
        guard n > 0 else { return [] }
        var quantiles: Set<Float> = []
        for q in 1..<20 {
            // The bin of the activation at rank (n − 1)·q/20.
            var (k, seen) = (0, faint[0])
            while seen <= (n - 1) * q / 20 { k += 1; seen += faint[k] }
            if let t = ActivationCounts.rounded(bin: k, of: edges), t >= faintestThreshold { quantiles.insert(t) }
        }
        return quantiles.sorted()
    }

    /// The lowest threshold `bestThreshold` tries: fainter activations (a sigmoid's logit below
    /// −6.9) are the maps' dark background, whose order is noise (a walk's run chose 3.7e-9 there,
    /// and marked a fifth of the cancer-free tissue).
    public static let faintestThreshold: Float = 0.001

    /// `t` to 2 significant digits, so that it is given back the same way (`--threshold 0.0021`).
    static func rounded(_ t: Float) -> Float { Float(String(format: "%.2g", t)) ?? t }
}
