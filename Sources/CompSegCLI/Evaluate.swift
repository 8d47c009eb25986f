import ArgumentParser
import BuiltinPlugins
import CompSegCore
import CompSegFigures
import CompSegIO
import CompSegNN
import CompSegTraining
import Foundation

/// `compseg evaluate`: applies a trained run to a manifest's samples and measures it: image level
/// (ROC of the tumor fraction, AUC with DeLong 95% interval, Youden's point) and, where the manifest
/// has `truth`, pixel level (Dice, IoU, pixel sensitivity and specificity over cancer samples).
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a trained run on a manifest: AUC, Dice, per-sample results, maps and masks.")

    @Option(help: "Run folder written by `train`.") var model: String
    @Option(help: "Manifest CSV (path,label,split[,mask,truth,patient]).") var data: String
    @Option(help: "Output folder.") var out: String
    @Option(help: "Split to evaluate: train, val, test or all.") var split = EvaluatedSplit.test
    @Option(parsing: .unconditional, help: "Activation threshold, or 'auto' to pick it on the validation split (best mean Dice where truth exists, else Youden). Default: the run's, chosen so after training; else the paper's 0.35.")
    var threshold: String?
    @Flag(help: "Write over an earlier evaluation, segment or overlay in --out (the files it wrote are replaced or removed); a file compseg did not write there is refused, never replaced.") var force = false
    @Flag(help: "Go on past a file that cannot be read (missing, damaged, on another spectral axis): it is named in a warning and left out of the numbers, and the report says how many were. Without it, such a file ends the run before anything is written.")
    var skipUnreadable = false
    @OptionGroup var polygons: GeoJSONOptions
    @OptionGroup var batching: InferenceBatchOptions
    @OptionGroup var streaming: StreamingOptions
    @OptionGroup var scale: PixelSizeOption
    @OptionGroup var threading: ThreadOptions
    @OptionGroup var compute: DeviceOptions

    func validate() throws {
        guard !out.isEmpty, !model.isEmpty else { throw ValidationError("--\(model.isEmpty ? "model" : "out") must name a folder, got an empty path") }
        try requireOutsideRun(out: out, model: model)
        try requireThreshold(threshold, command: "evaluate", takesAuto: true)
    }

    func run() throws {
        try hintingSkipUnreadable(skipping: skipUnreadable, inputs: { (try? Manifest(contentsOf: fileURL(data), labelled: false).rows.map(\.path.path)) ?? [] }) { try work() }
    }

    private func work() throws {
        // Ctrl-C or SIGTERM stops the work between samples (and bands of a streamed image): what it was writing goes.
        _ = InterruptFlag.install()
        threading.apply()
        try compute.apply()
        let folder = fileURL(out)
        let registry = try CompSegTool.registry()
        let trained = try TrainedModel(run: RunDirectory(fileURL(model)), registry: registry)
        var modality = try trained.description.preparedModality(registry: registry, file: trained.run.modelFile.path)
        modality.pixelSizeGiven = try scale.parsed()
        let manifest = try Manifest(contentsOf: fileURL(data), leavingOutRowsMissingFiles: skipUnreadable)
        let leftOut = skipUnreadable ? LeftOut() : nil
        leftOut?.addMissing(manifest.rowsMissingFiles.filter { split == .all || $0.split?.rawValue == split.rawValue }, manifest: manifest)
        // The truth files of the rows scored (and of val's, for --threshold auto), before any segmenting.
        try SegmentationFiles.checkTruthFiles(manifest.rows.filter { row in
            split == .all || row.split?.rawValue == split.rawValue || (threshold == "auto" && row.split == .val)
        }, manifest: manifest.url.path)
        let rows = Split(rawValue: split.rawValue).map { manifest.rows(in: $0) } ?? manifest.rows
        if rows.isEmpty { try leftOut?.report() }
        guard !rows.isEmpty else {
            let present = Split.allCases.filter { s in manifest.rows.contains { $0.split == s } }.map(\.rawValue)
            throw CLIError("\(manifest.url.path): no rows with split \(split.rawValue)"
                           + (present.isEmpty ? "" : " (its rows are split \(present.joined(separator: ", ")): --split with one of them, or all, scores them)"))
        }
        // The run's own manifest (where it was trained, or its rows moved elsewhere): its train and val rows are the run's.
        let given = ManifestRows(manifest, readingContentsWith: modality.reader)
        let runsOwn = trained.description.versions["manifest"].map { fileURL($0).path } == manifest.url.path
            || trained.description.rows.map { $0.digest == given.digest && given.sameContents(as: $0) } ?? false
        // The scored samples the run learned from or chose by (model.json's rows), wherever this manifest files them.
        // A fine-tuned run's network saw the rows of the runs its weights began from too.
        // A row both a training and a validation row of one of them counts as learned from.
        let recognized = trained.description.trainedRows.compactMap { $0.trainedOn(among: rows, reader: modality.reader) }
        var seen: [(row: Manifest.Row, split: String)] = []
        for found in recognized.joined() {
            if let k = seen.firstIndex(where: { $0.row.line == found.row.line }) {
                if found.split == "train" { seen[k].split = "train" }
            } else { seen.append(found) }
        }
        Self.warnAboutSeenSamples(seen, scored: rows, split: split, runsOwn: runsOwn, recorded: !recognized.isEmpty,
                                  fineTuned: trained.description.initialWeights != nil)
        // No file read is written over or removed (a truth named <id>_mask.png in --out), and --out
        // can be made, before anything is segmented.
        let inputs = try RunInputs((manifest, rows), files: [], modality: modality, streamAbove: streaming.streamAbove, leftOut: leftOut,
                                   digesting: trained.description.trainedRows.contains { $0.perRow?.contains { $0.pixels != nil } ?? false })
        let ids = inputs.order
        let record = folder.appendingPathComponent("per_sample.csv")
        let whole = Self.outputs.map(folder.appendingPathComponent) + [record]
        let outputs = SegmentationFiles.paths(for: ids, in: folder, geoJSON: polygons.geojson, figures: true) + whole
        // What an earlier evaluation there wrote, as its per_sample.csv names it, for a folder that has no list of its outputs.
        let recorded = SegmentationFiles.isRecord(record)
            ? SegmentationFiles.paths(for: SegmentationFiles.recordedIDs(record), in: folder, geoJSON: true, figures: true) + whole : []
        try SegmentationFiles.requireNoInput(among: outputs + (OutputList.read(in: folder) ?? recorded),
                                             inputs: SegmentationFiles.inputs(manifest.rows, manifest: manifest.url.path), command: "evaluate")
        // --force replaces an earlier run's files, never a file of the user's.
        try writingOutputs(into: folder, outputs: outputs, earlier: recorded, force: force) { earlier in
            try evaluate(inputs, leftOut: leftOut, earlier: earlier, trained: trained, modality: modality, manifest: manifest, folder: folder,
                         runsOwn: runsOwn, seen: recognized.isEmpty && runsOwn ? rows.filter { $0.split == .train }.map { ($0, "train") } : seen)
        }
    }

    /// Warns of the scored `seen` samples (`ManifestRows.trainedOn`): those the network learned
    /// from, and those that chose its kept epoch and threshold where the manifest does not file
    /// them as validation rows of the run's own manifest (its title says so then). A run whose
    /// rows cannot be recognized (not `recorded`) tells them by its own manifest's train split alone.
    static func warnAboutSeenSamples(_ seen: [(row: Manifest.Row, split: String)], scored rows: [Manifest.Row], split: EvaluatedSplit,
                                     runsOwn: Bool, recorded: Bool, fineTuned: Bool = false) {
        let elsewhere = remedy(split)
        let records = fineTuned ? "training rows of the run or of the runs its weights began from" : "the run's training rows"
        func names(_ rows: [Manifest.Row]) -> String {
            rows.prefix(5).map { $0.path.lastPathComponent }.joined(separator: ", ") + (rows.count > 5 ? ", …" : "")
        }
        let learned = recorded ? seen.filter { $0.split == "train" }.map(\.row) : runsOwn ? rows.filter { $0.split == .train } : []
        if !learned.isEmpty {
            let filedAsTrain = runsOwn && learned.allSatisfy { $0.split == .train }
            warn("--split \(split.rawValue) scores \(counted(learned.count, "training sample")) the network learned from"
                 + (filedAsTrain ? "" : " (model.json records them as \(records): \(names(learned)))")
                 + ": their AUC and Dice say nothing of how it segments new samples; " + elsewhere)
        }
        let chose = seen.filter { $0.split == "val" && !(runsOwn && $0.row.split == .val) }.map(\.row)
        if !chose.isEmpty {
            warn("--split \(split.rawValue) scores \(counted(chose.count, "validation sample")) of the run (model.json records them as "
                 + (fineTuned ? "validation rows of the run or of the runs its weights began from" : "its validation rows")
                 + ": \(names(chose))): they chose its kept epoch and threshold\(fineTuned ? " or those it began from" : ""), so their scores are optimistic; "
                 + elsewhere)
        }
    }

    /// What to do where --split scores samples the run saw: where it is test already, other test rows, not --split test.
    static func remedy(_ split: EvaluatedSplit) -> String {
        split.rawValue == "test" ? "leave them out of the test split, or score a manifest of samples it never saw"
            : "--split test of its own manifest scores samples it never saw"
    }

    /// The samples of `inputs` read so far whose pixels (`PixelDigest`) are those of one of the
    /// `trained` train and val rows, among the rows `seen` (found by name, size and contents, or
    /// warned of otherwise) leaves: a training file saved again in other bytes, or copied under
    /// another name. Each with the split the run gave it (train where it was both) and the run's
    /// name of its file. Images segmented region by region are not digested.
    static func seenByPixels(_ inputs: RunInputs, trained: [ManifestRows], except seen: [(row: Manifest.Row, split: String)])
        -> [(row: Manifest.Row, split: String, name: String)] {
        var recorded: [String: (split: String, name: String)] = [:]
        for row in trained.flatMap({ $0.perRow ?? [] }) {
            guard let pixels = row.pixels, recorded[pixels]?.split != "train" else { continue }
            recorded[pixels] = (row.split, row.name)
        }
        let lines = Set(seen.map(\.row.line))
        return inputs.rows.indices.compactMap { i in
            guard !lines.contains(inputs.rows[i].line), let digest = inputs.store.pixelDigest(i), let run = recorded[digest] else { return nil }
            return (inputs.rows[i], run.split, run.name)
        }
    }

    /// Warns of the scored samples that hold a train or val row's pixels in another file (`seenByPixels`).
    func warnAboutSamplesSeenByPixels(_ found: [(row: Manifest.Row, split: String, name: String)]) {
        for (kind, rows, cost) in [("train", "training", "their AUC and Dice say nothing of how it segments new samples"),
                                   ("val", "validation", "they chose its kept epoch and threshold, so their scores are optimistic")] {
            let these = found.filter { $0.split == kind }
            guard !these.isEmpty else { continue }
            let named = these.prefix(5).map { found in
                let file = found.row.path.lastPathComponent
                return file.precomposedStringWithCanonicalMapping == found.name ? file : "\(file): the run's \(found.name)"
            }.joined(separator: ", ") + (these.count > 5 ? ", …" : "")
            warn("--split \(split.rawValue) scores \(counted(these.count, "sample")) holding the pixels of the run's \(rows) rows "
                 + "(\(named); saved again or copied): \(cost); " + Self.remedy(split))
        }
    }

    /// The scored rows whose patient the run learned from (train rows) or chose its kept epoch and
    /// threshold on (val rows, for a scored row not itself a val row), other than the row itself:
    /// each with that patient's split and the run's files of it. The run's rows are those
    /// model.json records with their patients; a run that recorded none takes the train and val
    /// rows of `manifest` where it is the run's own (`runsOwn`). Rows `learned` (found as the
    /// run's training samples themselves) are warned of as such, not here.
    static func ofTrainedPatients(_ scored: [Manifest.Row], trained: [ManifestRows], in manifest: Manifest, runsOwn: Bool,
                                  except learned: [Manifest.Row]) -> [(row: Manifest.Row, patient: String, split: String, files: [String])] {
        var recorded = trained.flatMap { $0.perRow ?? [] }.compactMap { r in r.patient.map { (patient: $0, split: r.split, name: r.name) } }
        if recorded.isEmpty, runsOwn {
            recorded = manifest.rows.filter { $0.split == .train || $0.split == .val }.compactMap { row in
                row.patient.map { ($0, row.split!.rawValue, row.path.lastPathComponent.precomposedStringWithCanonicalMapping) }
            }
        }
        let byPatient = Dictionary(grouping: recorded, by: \.patient)
        let skip = Set(learned.map(\.line))
        return scored.compactMap { row in
            guard !skip.contains(row.line), let patient = row.patient, let theirs = byPatient[patient] else { return nil }
            let name = row.path.lastPathComponent.precomposedStringWithCanonicalMapping
            let others = theirs.filter { $0.name != name }
            let split = others.contains { $0.split == "train" } ? "train" : row.split != .val && others.contains { $0.split == "val" } ? "val" : nil
            guard let split else { return nil }
            return (row, patient, split, others.filter { $0.split == split }.map(\.name))
        }
    }

    /// Warns of the scored samples whose patients the run learned from or validated on (`ofTrainedPatients`).
    func warnAboutSamplesOfTrainedPatients(_ found: [(row: Manifest.Row, patient: String, split: String, files: [String])]) {
        guard !found.isEmpty else { return }
        let named = found.prefix(3).map { f in
            "\(f.row.path.lastPathComponent): patient '\(f.patient)', whose " + f.files.prefix(3).joined(separator: ", ")
                + (f.files.count > 3 ? ", …" : "") + " it " + (f.split == "train" ? "trained on" : "validated on")
        }.joined(separator: "; ") + (found.count > 3 ? "; …" : "")
        let learned = found.contains { $0.split == "train" }
        warn("--split \(split.rawValue) scores \(counted(found.count, "sample")) of patients the run "
             + (learned ? "learned from" : "chose its kept epoch and threshold on") + " (\(named)): a patient's samples share tissue, "
             + "staining and preparation, so their scores are optimistic; keep each patient's rows in one split, or score a manifest "
             + "of other patients")
    }

    /// The files an evaluation writes beside its per-sample ones and `per_sample.csv`.
    static let outputs = ["summary.json", "report.html", "roc.png", "roc.svg", "fractions.png", "fractions.svg", "thresholds.png",
                          "thresholds.svg", patientTable]
    /// The table of patients, written where samples name patients (never by a demo: its phantom names none).
    static let patientTable = "per_patient.csv"

    /// Warns that `which` threshold was chosen on validation samples this --split scores too.
    private func warnChosenOnScoredSamples(_ which: String) {
        warn("\(which) was chosen on validation samples that --split \(split.rawValue) scores too: their Dice and "
             + "sensitivity are optimistic; --split test scores samples the choice never saw")
    }

    /// - Parameters:
    ///   - runsOwn: whether `manifest`'s train and val rows are the run's.
    ///   - seen: the scored samples that are the run's train and val rows (`ManifestRows.trainedOn`).
    private func evaluate(_ inputs: RunInputs, leftOut: LeftOut?, earlier: [URL], trained: TrainedModel, modality: PreparedModality,
                          manifest: Manifest, folder: URL, runsOwn: Bool, seen: [(row: Manifest.Row, split: String)]) throws {
        /// The samples loaded whole, segmented, with their truth (those that cannot be read handed to `leftOut`, where given).
        func load(_ inputs: RunInputs, leftOut: LeftOut?, kind: String = "sample") throws -> (samples: [Sample], maps: [[Float]], truth: [String: [Bool]]) {
            guard !inputs.store.ids.isEmpty else { return ([], [], [:]) }
            let progress = SegmentingProgress()
            defer { progress.finish() }
            let (samples, maps, times) = try trained.segmentedTimed(inputs.store, batchSize: batching.batch, clock: modality.clock,
                                                                    leavingOut: leftOut?.handler, progress: progress.update)
            progress.finish()
            print("Segmented \(counted(samples.count, kind))" + (inputs.streamed.isEmpty ? "" : " loaded whole") + ": " + times.summary())
            warnAboutReaders(samples)
            // Without tissue, a sample has no tumor fraction: refused, whether or not unreadable files are left out.
            let blank = samples.filter { $0.tissue.count == 0 }.map { "line \(inputs.rowsByID[$0.id]!.line): \(PreparedModality.emptyTissue($0.id, why: $0.metadata[Sample.noTissueKey]))" }
            guard blank.isEmpty else { throw ManifestError(file: manifest.url.path, problems: blank) }
            return (samples, maps, try SegmentationFiles.readTruth(samples.map { inputs.rowsByID[$0.id]! }, samples, manifest: manifest.url.path))
        }

        let chosen: Float, origin: String
        if threshold == "auto" {
            let validation = manifest.rows(in: .val)
            guard !validation.isEmpty else { throw CLIError("\(manifest.url.path): --threshold auto needs rows with split val") }
            // Checked from the manifest before anything is segmented (the rows' labels and truths are the samples').
            let classes = Set(validation.compactMap(\.label))
            let refusal = CLIError("\(manifest.url.path): --threshold auto needs validation rows of both classes, or cancer rows with "
                                   + "truth masks; its \(validation.count) have only \(classes.first?.rawValue ?? "no") labels and no truth: "
                                   + "give --threshold")
            guard classes.count == 2 || validation.contains(where: { $0.label == .cancer && $0.truth != nil }) else { throw refusal }
            // Their maps are counted, not kept: a slide segmented region by region is scored as one loaded whole.
            // With --skip-unreadable, what cannot be read is named and the choice made on the others.
            let unreadable = leftOut == nil ? nil : LeftOut()
            if let unreadable { unreadable.addMissing(manifest.rowsMissingFiles.filter { $0.split == .val }, manifest: manifest) }
            let v = try RunInputs((manifest, validation), files: [], modality: modality, streamAbove: streaming.streamAbove,
                                  leftOut: unreadable)
            let loaded = try load(v, leftOut: unreadable, kind: "validation sample")
            let counts = zip(loaded.samples, loaded.maps).map { ActivationCounts($0, map: $1, truth: loaded.truth[$0.id]) }
                + (try v.streamed.compactMap { large in
                    try large.count(trained, modality: modality, leftOut: unreadable).map { try Self.requireTissue($0, of: large) }
                })
            if counts.isEmpty, let unreadable, unreadable.count > 0 {
                throw CLIError("--threshold auto: none of the \(counted(unreadable.inputs, "validation row")) could be read (named above); "
                               + "give --threshold, or mend them")
            }
            guard let choice = SegmentationEvaluation.bestThreshold(counts: counts) else { throw refusal }
            chosen = choice.threshold
            let skipped = unreadable.map { $0.count == 0 ? "" : " (\($0.count) of \($0.inputs) left out as unreadable)" } ?? ""
            print("Threshold \(thresholdText(chosen)), chosen on \(counted(counts.count, "validation sample"))\(skipped) by " + choice.reason)
            choice.caveat.map(warn)
            if split == .val || split == .all { warnChosenOnScoredSamples("the threshold") }
            origin = "chosen on the \(counted(counts.count, "validation sample"))\(skipped) (--threshold auto): \(choice.reason)"
            _ = trained.takeInputChecks()  // the validation samples': what follows speaks of the split scored
        } else {
            (chosen, origin) = trained.maskThreshold(given: thresholdNumber(threshold))
            if threshold == nil, trained.description.threshold != nil, split == .val || split == .all, runsOwn {
                warnChosenOnScoredSamples("the run's threshold")
            }
        }
        let (samples, maps, truth) = try load(inputs, leftOut: leftOut)
        let seenByPixels = Self.seenByPixels(inputs, trained: trained.description.trainedRows, except: seen)
        warnAboutSamplesSeenByPixels(seenByPixels)
        let seenRows = seen.map { ($0.row, $0.split) } + seenByPixels.map { ($0.row, $0.split) }
        let ofSeenPatients = Self.ofTrainedPatients(inputs.rows, trained: trained.description.trainedRows, in: manifest, runsOwn: runsOwn,
                                                    except: seenRows.filter { $0.1 == "train" }.map(\.0))
        let seenLines = Set(seenRows.map(\.0.line))
        warnAboutSamplesOfTrainedPatients(ofSeenPatients)
        Train.warnAboutPatientIDs(manifest)
        warnAboutCheckerboard(samples, maps, topology: trained.description.topology, threshold: chosen)
        if let history = try? trained.run.readHistory(), let kept = RunDirectory.bestEpoch(history),
           let note = history.first(where: { $0.epoch == kept })?.collapse {
            warn("the run's kept epoch \(kept) collapsed (history.csv: \(note)): its maps do not depend on the image, so these "
                 + "numbers measure no segmentation")
        }

        // Every file or none, the tables moved in last: a kill or a failure leaves an earlier evaluation there whole;
        // its files, none of which stays beside these, go once these are in place.
        var evaluation: SegmentationEvaluation?, counts: [ActivationCounts] = []
        try OutputList.replace(in: folder, earlier: earlier, last: ["per_sample.csv", "summary.json"]) { staging in
            for (s, map) in zip(samples, maps) { try SegmentationFiles.write(s, map: map, threshold: chosen, to: staging, geoJSON: polygons.geojson,
                                                                        minimumArea: polygons.geojsonMinArea) }
            counts = zip(samples, maps).map { ActivationCounts($0, map: $1, truth: truth[$0.id], thresholds: [chosen]) }
            var cards: [(String, [(title: String, image: RGBImage)])] = []
            var dotted: [(id: String, maskSpread: Double)] = []
            for large in inputs.streamed {
                guard let (done, _) = try large.segment(trained, modality: modality, threshold: chosen, to: staging, geoJSON: polygons,
                                                        figures: (EvaluationReport.maskColour, EvaluationReport.maskAlpha), scoring: [],
                                                        leftOut: leftOut) else { continue }
                counts.append(try Self.requireTissue(done.counts, of: large))
                cards.append((large.id, done.card ?? []))
                dotted.append((done.counts.id, done.maskParitySpread))
            }
            // The samples loaded whole were looked at before; the streamed ones now, before the report lists the warnings.
            if !dotted.isEmpty { warnAboutCheckerboard([], [], topology: trained.description.topology, threshold: chosen, streamed: dotted) }
            try leftOut?.report()
            counts.sort(asGiven: inputs.order, by: \.id)
            let e = SegmentationEvaluation(counts: counts, threshold: chosen, patients: inputs.rowsByID.compactMapValues(\.patient))
            evaluation = e
            // What the numbers cannot show: masks that mark nothing, or most cancer-free tissue.
            // --threshold auto would choose again what it chose, or what training recorded on this manifest's validation split.
            let autoChoseIt = threshold == "auto" || (threshold == nil && trained.description.threshold != nil && runsOwn)
            let orAuto = autoChoseIt ? "" : ", or --threshold auto"
            if e.marksNothing {
                let cost = e.marksNothingCost
                warn("no pixel exceeds the threshold \(thresholdText(chosen)): every tumor fraction is 0, so \(cost.isEmpty ? "" : cost + ", and ")"
                     + "no cancer sample is found, whatever the maps rank; give a lower --threshold\(orAuto)")
            } else if let marked = e.summary.cancerFreeFractionMean, SegmentationEvaluation.marksMost(marked) {
                warn(String(format: "the masks at the threshold %@ mark %.0f%% of the cancer-free samples' tissue: at it the maps do not "
                            + "single out tumor; give a higher --threshold%@", thresholdText(chosen), 100 * marked, orAuto))
            } else if e.summary.nCancerFree == 0, e.summary.nCancer > 0, let marked = e.tissueMarked, marked >= 0.9 {
                // Without cancer-free samples nothing here measures false marks, and masks of nearly all tissue look fine.
                warn(String(format: "the masks at the threshold %@ mark %.0f%% of the tissue of these cancer samples, and no cancer-free "
                            + "sample is scored to tell whether they single out tumor: Dice and pixel sensitivity reward masks that mark "
                            + "more; score cancer-free samples too", thresholdText(chosen), 100 * marked))
            }
            let results = Dictionary(uniqueKeysWithValues: e.results.map { ($0.id, $0) })
            // The cards in the inputs' order (the report orders them by tumor fraction, ties as given).
            var gallery = try zip(samples.map(\.id), EvaluationReport.writeFigures(e, samples: samples, maps: maps, truth: truth, to: staging))
                .map { (id: $0, card: $1) }
            gallery += try cards.map { id, pictures in (id, try EvaluationReport.card(results[id]!, pictures: pictures, evaluation: e)) }
            gallery.sort(asGiven: inputs.order, by: \.id)
            let skipped = leftOut.map { $0.count == 0 ? "" : "; \($0.count) of its \(counted($0.inputs, "input")) left out as unreadable, named in the run's warnings" } ?? ""
            Self.noteDoubtfulTruths(counts, truths: inputs.rowsByID.compactMapValues(\.truth))  // a warning: before the report lists them
            let unfamiliar = trained.unfamiliarInputs  // before the warning takes the checks
            warnAboutUnfamiliarInputs(trained)
            let curves = reportCurves(trained.run)  // before the warnings are taken: one it cannot read is among them
            let warnings = Warnings.written
            try EvaluationReport.write(e, counts: counts, gallery: gallery.map(\.card), title: "\(trained.run.url.path) on \(manifest.url.path): \(split.scored(byItsRun: runsOwn, seen: seen.count + seenByPixels.count, ofTheirPatients: ofSeenPatients.filter { !seenLines.contains($0.row.line) }.count))\(skipped)",
                                       to: staging, curves: curves, thresholdOrigin: origin, warnings: warnings,
                                       footer: reportFooter(weights: trained.weights, fineTunedFrom: trained.description.initialWeights))
            try EvaluationFiles.write(e, files: inputs.files, splits: inputs.rowsByID.mapValues { $0.split?.rawValue ?? "" },
                                      source: (trained.run.url.path, manifest.url.path, split.rawValue, origin),
                                      run: (leftOut?.count ?? 0, warnings), unfamiliar: unfamiliar,
                                      network: (CompSegVersion.string, trained.weights.epoch, trained.weights.checksum, trained.description.initialWeights?.run),
                                      to: staging)
        }
        Self.noteTruthOutsideTissue(counts)
        let sm = evaluation!.summary
        var line = "Evaluated \(counted(counts.count, "sample")) (\(sm.nCancer) cancer, \(sm.nCancerFree) cancer-free)"
        if let auc = sm.auc {
            line += String(format: ": AUC %.3f", auc) + (sm.aucCI.map { String(format: " [%.3f, %.3f]", $0[0], $0[1]) } ?? "")
        }
        if let auc = sm.patientAUC, let cancer = sm.nPatientsCancer, let free = sm.nPatientsCancerFree {
            line += String(format: "; patient AUC %.3f", auc) + (sm.patientAUCCI.map { String(format: " [%.3f, %.3f]", $0[0], $0[1]) } ?? "")
                + " over \(cancer + free) patients (\(cancer) cancer, \(free) cancer-free, each by its highest tumor fraction)"
        } else if let cancer = sm.nPatientsCancer {
            line += " (no patient AUC: \(SegmentationEvaluation.noPatientAUC(cancer: cancer)))"
        }
        if sm.auc != nil, sm.aucCI == nil, let label = evaluation!.classFromOnePatient {
            line += " (no interval: every \(label == .cancer ? "cancer" : "cancer-free") sample comes from one patient)"
        }
        if let d = sm.diceMean { line += String(format: ", Dice %.3f", d) + (sm.diceSD.map { String(format: " ± %.3f", $0) } ?? "") }
        else if sm.nCancer > 0, !counts.contains(where: { $0.hasTruth && $0.label == .cancer }) {
            line += " (no Dice: no cancer row gives a truth, the tumor drawn by hand, in the truth column)"
        }
        print(line + ". Report: \(folder.appendingPathComponent("report.html").path)")
    }

    /// `counts` of an image segmented region by region, which must hold tissue, as an image loaded
    /// whole must for `evaluate` (a tumor fraction averages over tissue).
    private static func requireTissue(_ counts: ActivationCounts, of input: StreamedInput) throws -> ActivationCounts {
        guard counts.tissuePixels == 0 else { return counts }
        throw ManifestError(file: input.manifest ?? "", problems: ["line \(input.line ?? 0): \(PreparedModality.emptyTissue(counts.id))"])
    }
}

extension Evaluate {
    /// Names the samples whose truth marks every pixel tumor: most often a mask drawn on white or
    /// another opaque background, which reads as tumor everywhere; and the cancer samples whose
    /// truth marks none (an empty polygon list, an all-black PNG), saying where a GeoJSON truth's
    /// polygons lie (`truths`: each sample's truth file): all outside the image, they mark nothing.
    static func noteDoubtfulTruths(_ counts: [ActivationCounts], truths: [String: URL] = [:]) {
        let withTruth = counts.filter(\.hasTruth)
        let reversedLabels = Train.labelsLookReversed(withTruth.map { ($0.label, $0.truthPixels > 0) })
        let contradicting = counts.filter { $0.hasTruth && $0.label == .cancerFree && $0.truthPixels > 0 }
        if !contradicting.isEmpty, !reversedLabels {
            warn("the truth of \(counted(contradicting.count, "cancer-free sample")) marks tumor ("
                 + contradicting.prefix(5).map { "\($0.id): \($0.truthPixels) of \($0.pixels) pixels" }.joined(separator: ", ")
                 + (contradicting.count > 5 ? ", …" : "") + "), which a sample labelled cancer-free holds none of: its label or its truth "
                 + "is wrong; the label counts (no pixel sensitivity, no true tumor counted), so mend whichever is wrong in the manifest")
        }
        if reversedLabels { warn(Train.reversedLabels("every truth")) }
        // Truths that mark their sample's tissue whole, of both classes: tissue masks given as truth (a tumor-dense
        // cancer crop may be all tumor; a cancer-free sample's truth marks none).
        if withTruth.contains(where: { $0.label == .cancerFree }), withTruth.contains(where: { $0.label == .cancer }),
           withTruth.allSatisfy({ $0.tissuePixels > 0 && Double($0.truthPixels - $0.truthOutsideTissue) >= 0.9 * Double($0.tissuePixels) }) {
            warn("the truth of every sample, cancer-free ones too, marks (nearly) all of its tissue: tissue masks in the truth column? "
                 + "The truth marks the tumor alone; a tissue mask belongs in the mask column")
        }
        let full = counts.filter { $0.hasTruth && $0.label != .cancerFree && $0.pixels > 1 && $0.truthPixels == $0.pixels }.map(\.id)
        let none = counts.filter { $0.hasTruth && $0.label == .cancer && $0.truthPixels == 0 }.map(\.id)
        if !none.isEmpty, !reversedLabels {
            warn("the truth of \(counted(none.count, "cancer sample")) marks no pixel tumor (" + none.prefix(5).joined(separator: ", ")
                 + (none.count > 5 ? ", …" : "") + "): \(none.count == 1 ? "its" : "their") Dice is 0 wherever the network marks tumor "
                 + "(1 only where it marks none); a truth is tumor wherever a PNG is neither black nor transparent, or inside a GeoJSON polygon")
        }
        // Polygons that mark nothing lie outside the image (or are too thin for any pixel's centre).
        let placed = none.compactMap { id in truths[id].flatMap { GeoJSONMask.isGeoJSON($0) ? GeoJSONMask.placement(of: $0) : nil }.map { "\(id): \($0)" } }
        if !placed.isEmpty {
            warn("the GeoJSON truth of \(counted(placed.count, "cancer sample")) holds polygons that mark no pixel of the image ("
                 + placed.prefix(5).joined(separator: "; ") + (placed.count > 5 ? "; …" : "") + "): positions are the full-resolution "
                 + "image's pixels, so polygons drawn on another image, or in a coarser level's pixels, lie outside it")
        }
        guard !full.isEmpty else { return }
        let drawn = full.filter { truths[$0].map(GeoJSONMask.isGeoJSON) ?? false }
        let png = "a truth PNG is tumor wherever it is neither black nor transparent, so its background must be black (0) or transparent"
        let geoJSON = "a GeoJSON truth is tumor inside its polygons, so one drawn around the whole image marks all of it"
        warn("the truth of \(counted(full.count, "sample")) marks every pixel tumor (" + full.prefix(5).joined(separator: ", ")
             + (full.count > 5 ? ", …" : "") + "): " + (drawn.isEmpty ? png : drawn.count == full.count ? geoJSON : "\(png); \(geoJSON)"))
    }

    /// Says which samples' true tumor lies partly outside their tissue mask (1% of it or more),
    /// where their masks cannot mark it: the pixel measures count it as missed. The share is of
    /// all true tumor pixels, as the report's tile gives it.
    static func noteTruthOutsideTissue(_ counts: [ActivationCounts]) {
        let withTruth = counts.filter { $0.hasTruth && $0.label != .cancerFree }  // (true tumor there contradicts the label)
        let named = withTruth.filter { $0.truthOutsideTissue > 0 && Double($0.truthOutsideTissue) >= 0.01 * Double($0.truthPixels) }
            .sorted { Double($0.truthOutsideTissue) / Double($0.truthPixels) > Double($1.truthOutsideTissue) / Double($1.truthPixels) }
        guard !named.isEmpty else { return }
        let outside = withTruth.map(\.truthOutsideTissue).reduce(0, +), total = withTruth.map(\.truthPixels).reduce(0, +)
        print("Note: true tumor lies outside the tissue mask, where the masks cannot mark it, so Dice and the other pixel "
              + String(format: "measures count it as missed: %d of the %d true tumor pixels (%.1f%%); most in ", outside, total,
                       100 * Double(outside) / Double(total))
              + named.prefix(5).map { String(format: "%@ %.1f%%", $0.id, 100 * Double($0.truthOutsideTissue) / Double($0.truthPixels)) }
                .joined(separator: ", ") + (named.count > 5 ? ", … (\(named.count) samples at 1% or more)" : "")
              + ". Check the tissue mask (inspect; the reader's tissue options, or a mask column in the manifest)"
              + Self.invertedTruthHint(named))
    }

    /// Where truths mark nearly all of the background around their tissue (90% or more, at least
    /// 16 pixels of it), as a mask drawn black where tumor and white elsewhere would: said so.
    static func invertedTruthHint(_ counts: [ActivationCounts]) -> String {
        let inverted = counts.filter { c in
            let background = c.pixels - c.tissuePixels
            return background >= 16 && Double(c.truthOutsideTissue) >= 0.9 * Double(background)
        }
        guard !inverted.isEmpty else { return "" }
        return ". The truth of " + inverted.prefix(5).map(\.id).joined(separator: ", ") + (inverted.count > 5 ? ", …" : "")
            + " marks nearly all the background around the tissue, as a truth drawn the other way round would (black where tumor): "
            + "a truth marks tumor where it is neither black nor transparent"
    }
}

/// What `evaluate --split` takes: one split of the manifest, or all of its rows.
enum EvaluatedSplit: String, ExpressibleByArgument, CaseIterable {
    case train, val, test, all

    /// In any case, as manifests' splits are read (`TEST`, `Test`).
    init?(argument: String) { self.init(rawValue: argument.lowercased()) }

    /// What the scored samples are to the run, for a report's title: held out or not (`seen`: how
    /// many are the run's train and val rows, `patients` how many others are of their patients).
    func scored(byItsRun own: Bool, seen: Int = 0, ofTheirPatients patients: Int = 0) -> String {
        switch self {
        case .test where seen + patients > 0:
            "the test split (" + (seen > 0 ? "\(seen) of its samples \(seen == 1 ? "is a" : "are") training or validation sample\(seen == 1 ? "" : "s") of the run" : "")
                + (seen > 0 && patients > 0 ? " and \(patients) more \(patients == 1 ? "is" : "are")" : "")
                + (seen == 0 ? "\(patients) of its samples \(patients == 1 ? "is" : "are")" : "")
                + (patients > 0 ? " of patients the run trained or validated on" : "") + ": not held out)"
        case .test: own ? "the test split (held out from training)" : "the test split"
        case .val: own ? "the validation split (it chose the kept epoch and the run's threshold: not held out)" : "the validation split"
        case .train: own ? "the training split (the network learned from it)" : "the training split"
        case .all: own ? "every split (training samples included)" : "every split"
        }
    }
}
