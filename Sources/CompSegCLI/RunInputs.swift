import ArgumentParser
import BuiltinPlugins
import CompSegCore
import CompSegFigures
import CompSegIO
import CompSegNN
import CompSegTraining
import Foundation
import Synchronization

/// An input image too large to load whole, segmented region by region.
struct StreamedInput {
    let url: URL
    let label: SampleLabel?
    /// Its manifest row's true tumor mask, if any, that row's line and the manifest's path (nil for a file given).
    let truth: URL?, line: Int?, manifest: String?
    /// The name of its output files (unique among the run's inputs).
    let id: String
    /// Its size, as its header says.
    let extent: ImageExtent

    /// Segments it region by region into `folder` (`TrainedModel.segmentStreaming`), saying so with
    /// its time on standard output; with `figures`, also draws overlay's pictures. Its truth, where
    /// its row has one, is drawn in the panel and scored when `figures` or `scoring` is given.
    /// - Parameter scoring: the thresholds its counts hold beside `threshold` (`evaluate`'s).
    /// - Returns: what it gave, and the seconds it took.
    /// With `leftOut`, an image that fails is handed to it (after its manifest line), its files
    /// removed, and nil returned; a bad truth mask is the manifest's problem and ends the run.
    func segment(_ trained: TrainedModel, modality: PreparedModality, threshold: Float, to folder: URL, geoJSON: GeoJSONOptions? = nil,
                 figures: (colour: RGB, alpha: Double)? = nil, scoring: [Float]? = nil, leftOut: LeftOut? = nil) throws
        -> (StreamedSegmentation, Double)? {
        try leavingOut(to: leftOut, removingFrom: folder) {
            try timed(modality, folder: folder, "reading, preprocessing, network and writing" + (figures == nil ? "" : ", figures too")) { regions in
                try trained.segmentStreaming(regions, id: id, modality: modality, threshold: threshold, to: folder,
                                             geoJSON: geoJSON?.geojson ?? false, minimumArea: geoJSON?.geojsonMinArea ?? 0,
                                             truth: figures == nil && scoring == nil ? nil : try readTruth(regions),
                                             thresholds: scoring ?? [], figures: figures)
            }
        }
    }

    /// `body`'s value; with `leftOut`, an image that fails is handed to it (after its manifest
    /// line), its files in `folder` removed, and nil returned. A bad truth mask (the manifest's), a
    /// write into `folder` (a full disk) and a model that disagrees with the modality end the run.
    private func leavingOut<T>(to leftOut: LeftOut?, removingFrom folder: URL?, _ body: () throws -> T) throws -> T? {
        guard let leftOut else { return try body() }
        do { return try body() }
        catch where Self.endsTheRun(error, writingInto: folder) { throw error }
        catch {
            if let folder {
                for url in SegmentationFiles.paths(for: [id], in: folder, geoJSON: true, figures: true) { removeWrittenFile(url) }
            }
            leftOut.add((manifest.map { "\($0): line \(line ?? 0): " } ?? "") + "\(error)")
            return nil
        }
    }

    /// Whether `error`, met on one image, ends the whole command rather than that image: a bad
    /// truth mask (the manifest's), a write into `folder` (a full disk), a model that disagrees
    /// with the modality (every image's), and Ctrl-C.
    private static func endsTheRun(_ error: any Error, writingInto folder: URL?) -> Bool {
        switch error {
        case is ManifestError, is TrainingError, is Interrupted: true
        case let error as IOError: folder.map { error.file.hasPrefix($0.path + "/") } ?? false
        default: false
        }
    }

    /// Its activation counts, with its truth where its row has one, over edges that hold
    /// `thresholds` (`TrainedModel.countStreaming`; nothing written), saying so with its time;
    /// with `leftOut`, nil when it cannot be read (as `segment`).
    func count(_ trained: TrainedModel, modality: PreparedModality, thresholds: [Float] = [], leftOut: LeftOut? = nil) throws -> ActivationCounts? {
        try leavingOut(to: leftOut, removingFrom: nil) {
            try timed(modality, folder: nil, "reading, preprocessing and network; nothing written") { regions in
                try trained.countStreaming(regions, id: id, modality: modality, truth: try readTruth(regions), thresholds: thresholds)
            }.0
        }
    }

    /// Opens its regions through `modality`'s reader, runs `run` on them and says how long it took
    /// (`what` it did); a reading error names the file, a write's into `folder`, the model's or the
    /// manifest's is passed on.
    private func timed<T>(_ modality: PreparedModality, folder: URL?, _ what: String, run: (any SampleRegions) throws -> T) throws -> (T, Double) {
        // From the opening on: a spectral file's regions read the whole file once first.
        let start = DispatchTime.now().uptimeNanoseconds
        guard let source = modality.reader as? any RegionImageSource else {
            throw CLIError("\(url.path): the reader cannot read it region by region")  // load() streams only what it can
        }
        // Said before the regions open: a spectral file is read whole once first (18 s for 7.5 GB).
        print("Segmenting \(url.path) (\(extent.width)×\(extent.height)) region by region…")
        guard let regions = try source.regions(of: url, label: label) else {
            throw CLIError("\(url.path): the reader cannot read it region by region")
        }
        if let note = regions.tissueNote { print("  \(note)") }
        if let warning = regions.metadata[Sample.warningKey] {
            var one = ReaderWarnings()
            one.add(warning, ids: [id])
            warnAboutReaders(one)
        }
        let value: T
        do { value = try run(regions) }
        catch where Self.endsTheRun(error, writingInto: folder) { throw error }
        catch { throw CLIError("\(url.path) (\(regions.width)×\(regions.height), region by region): \(error)") }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        print(String(format: "  %.1f s (%@, region by region)", seconds, what))
        return (value, seconds)
    }

    /// Its true tumor mask at the size `regions` reads, as bits (a picture drawn on the
    /// full-resolution slide is brought down to it, as for an image loaded whole).
    func readTruth(_ regions: any SampleRegions) throws -> PixelBits? {
        guard let truth else { return nil }
        do {
            return try MaskFile.bits(contentsOf: truth, height: regions.height, width: regions.width,
                                         fullResolution: Sample.fullResolution(in: regions.metadata))
        } catch { throw ManifestError(file: manifest ?? "the command line", problems: ["line \(line ?? 0): truth \(error)"]) }
    }
}

/// The inputs of a command that applies a trained run, as it segments them: those loaded whole
/// (a store read on demand), and those segmented region by region (`StreamedInput`): images of
/// more than `streamAbove` pixels, when the reader reads regions and every step is pixelwise (rows
/// with their own tissue mask are always loaded whole).
struct RunInputs {
    let store: SampleStore
    /// The manifest rows of the store's samples (none for files).
    let rows: [Manifest.Row]
    let streamed: [StreamedInput]
    /// Every sample's file, and manifest row (none for files), by id.
    let files: [String: URL], rowsByID: [String: Manifest.Row]
    /// Every id, in the inputs' order (loaded and streamed ones mixed).
    let order: [String]

    /// - Parameters:
    ///   - manifest: the manifest and the rows of it to use; nil for `files`.
    ///   - leftOut: where given, a file whose header cannot be read is handed to it and left out.
    /// A sample without tissue is read as any other (`evaluate` refuses it once read).
    ///   - digesting: the store takes each sample's `PixelDigest` as read.
    init(_ manifest: (Manifest, [Manifest.Row])?, files given: [URL], modality: PreparedModality, streamAbove: Int?, leftOut: LeftOut?,
         digesting: Bool = false) throws {
        let (manifest, manifestRows) = (manifest?.0, manifest?.1)
        let inputs: [(url: URL, label: SampleLabel?, ownMask: Bool, truth: URL?, line: Int?)]
            = manifestRows?.map { ($0.path, $0.label, $0.mask != nil, $0.truth, $0.line) } ?? given.map { ($0, nil, false, nil, nil) }
        var large: [Int: ImageExtent] = [:], dropped = Set<Int>()
        leftOut?.inputs += inputs.count
        if let streamAbove, modality.chain.isPixelwise, let source = modality.reader as? any RegionImageSource {
            // Every header is read here: each file that cannot be read is named, not only the first.
            var unreadable: [String] = [], masked: [String] = []
            for (i, input) in inputs.enumerated() {
                try Interruption.check()  // Ctrl-C: between headers (thousands of slides on a slow share take a while)
                do {
                    // Above the size, or too large to load whole here, whatever the size says.
                    guard let e = try source.extent(of: input.url),
                          Double(e.height) * Double(e.width) > Double(streamAbove) || (e.wholeLoadBytes ?? 0) > Double(usableMemory().bytes)
                    else { continue }  // in Doubles: a header may declare sizes whose product overflows
                    // A tissue mask of the row's own is read whole, and its image with it.
                    if input.ownMask { masked.append(input.url.lastPathComponent) } else { large[i] = e }
                } catch {
                    let problem = inputs[i].line.map { "line \($0): \(error)" } ?? "\(error)"
                    guard let leftOut else { unreadable.append(problem); continue }
                    leftOut.add(manifest.map { "\($0.url.path): \(problem)" } ?? problem)
                    dropped.insert(i)
                }
            }
            if !masked.isEmpty {
                warn("\(counted(masked.count, "image")) above --stream-above (" + masked.prefix(5).joined(separator: ", ")
                     + (masked.count > 5 ? ", …" : "") + ") \(masked.count == 1 ? "is" : "are") read and segmented whole, not region "
                     + "by region: a row's own tissue mask (the manifest's mask column) is read whole; leave the cell empty to let "
                     + "the reader find the tissue region by region")
            }
            if let manifest, !unreadable.isEmpty { throw ManifestError(file: manifest.url.path, problems: unreadable) }
            if unreadable.count == 1 { throw CLIError(unreadable[0]) }
            if unreadable.count > 1 {
                throw CLIError("\(unreadable.count) files cannot be read:\n" + unreadable.map { "  \($0)" }.joined(separator: "\n"))
            }
        }
        let kept = inputs.indices.filter { large[$0] == nil && !dropped.contains($0) }
        // A blank core is segmented too: its mask is empty, and `warnAboutBlankSamples` names it.
        // Ids: the files' names, made unique (never another input's own name, loaded or streamed).
        let names = inputs.map { Sample.id(of: $0.url) }
        store = manifest.map { m in modality.onceStore(kept.map { manifestRows![$0] }, manifest: m, requiringTissue: false, reserving: names,
                                                             digesting: digesting) }
            ?? modality.onceStore(files: kept.map { inputs[$0].url }, requiringTissue: false, reserving: names)
        var ids = UniqueIDs(taken: store.ids, reserving: names)
        let streamedIndices = large.keys.sorted()
        streamed = streamedIndices.map { i in
            StreamedInput(url: inputs[i].url, label: inputs[i].label, truth: inputs[i].truth, line: inputs[i].line,
                          manifest: manifest?.url.path, id: ids.make(Sample.id(of: inputs[i].url)), extent: large[i]!)
        }
        files = Dictionary(uniqueKeysWithValues: zip(store.ids, kept.map { inputs[$0].url }) + streamed.map { ($0.id, $0.url) })
        rows = manifestRows.map { all in kept.map { all[$0] } } ?? []
        var byID: [String: Manifest.Row] = [:]
        if let manifestRows {
            for (id, row) in zip(store.ids, rows) { byID[id] = row }
            for (input, i) in zip(streamed, streamedIndices) { byID[input.id] = manifestRows[i] }
        }
        rowsByID = byID
        var (loadedIDs, streamedIDs) = (store.ids.makeIterator(), streamed.map(\.id).makeIterator())
        order = inputs.indices.filter { !dropped.contains($0) }.map { large[$0] != nil ? streamedIDs.next()! : loadedIDs.next()! }
    }
}

extension Array {
    /// Puts the elements, each known by its `id`, in the order of `ids` (the inputs as given:
    /// loaded and streamed ones mixed).
    mutating func sort(asGiven ids: [String], by id: KeyPath<Element, String>) {
        let rank = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        sort { rank[$0[keyPath: id], default: 0] < rank[$1[keyPath: id], default: 0] }
    }
}

/// Refuses an --out that is the run folder --model names (its files and the outputs would mix).
func requireOutsideRun(out: String, model: String) throws {
    let (o, m) = (fileURL(out).resolvingSymlinksInPath().path, fileURL(model).resolvingSymlinksInPath().path)
    if o == m { throw ValidationError("--out \(out) is the run folder --model names: give the outputs a folder of their own") }
}

/// Refuses a data manifest given among image files (a forgotten `--data`), before any is read.
func requireNoManifest(among files: [String], hint: String) throws {
    func isManifest(_ path: String) -> Bool {  // regular files only (a fifo would wait for a writer)
        (try? FileSignature.head(of: fileURL(path), bytes: 4096)).map(startsAsDataManifest) ?? false
    }
    if let manifest = files.first(where: isManifest) {
        throw ValidationError("\(manifest) is a manifest (a CSV table with a path column), not an image file: \(hint)")
    }
}

/// What `segment` and `overlay` apply a trained run to, and where their files go.
struct TrainedRunInput: ParsableArguments {
    @Option(help: "Run folder written by `train`.") var model: String
    @Option(help: "Manifest CSV whose samples to use: a path column, and where known label and split (every split is used; overlay draws the truth masks, where given, in its panels; segment does not read them).")
    var data: String?
    @Argument(help: "Sample files (instead of --data).") var files: [String] = []
    @Option(help: "Output folder.") var out: String
    @OptionGroup var streaming: StreamingOptions
    @OptionGroup var scale: PixelSizeOption
    @Flag(help: "Go on past a file that cannot be read (missing, damaged, on another spectral axis): it is named in a warning and left out, and segmentation.csv lists the others. Without it, such a file ends the run before anything is written.")
    var skipUnreadable = false
    @Flag(help: "Write over an earlier segment, overlay or evaluate in --out: the files it wrote (its list of them, .compseg-outputs) are replaced or removed; a file compseg did not write there is refused, never touched.") var force = false

    /// The sample files the command reads, by path (the manifest's, when it can be read).
    var inputPaths: [String] {
        guard let data else { return files.map { fileURL($0).path } }
        return (try? Manifest(contentsOf: fileURL(data), labelled: false, requiringTruthFiles: false).rows.map(\.path.path)) ?? []
    }

    func validate() throws {
        guard (data == nil) != files.isEmpty else { throw ValidationError("give either --data MANIFEST or sample files") }
        try requireNoManifest(among: files, hint: "give it with --data")
        // A folder of samples given as one: where it holds a manifest, that is what to give.
        for file in files where FileManager.default.fileExists(atPath: fileURL(file).appendingPathComponent("manifest.csv").path) {
            throw ValidationError("\(file) is a folder holding manifest.csv: give --data \(shellWord(fileURL(file).appendingPathComponent("manifest.csv").path))")
        }
        // The same file twice would be segmented twice, its second outputs named as another sample's (a manifest refuses a row given twice).
        // By device and inode, so that a hard link to the same file counts as the same file; by its resolved path where it cannot be read.
        let paths = files.map { file in let url = fileURL(file); return fileIdentity(url.path) ?? url.resolvingSymlinksInPath().path }
        if let twice = paths.indices.first(where: { paths[..<$0].contains(paths[$0]) }) {
            throw ValidationError("\(files[twice]) is given twice (as \(files[paths.firstIndex(of: paths[twice])!])); give each file once")
        }
        guard !out.isEmpty, !model.isEmpty else { throw ValidationError("--\(model.isEmpty ? "model" : "out") must name a folder, got an empty path") }
        try requireOutsideRun(out: out, model: model)
    }

    /// The trained network, the samples prepared as it was trained, and the manifest's rows (none for files).
    func load(_ registry: Registry) throws -> (trained: TrainedModel, store: SampleStore, rows: [Manifest.Row]) {
        let loaded = try load(registry, streamAbove: nil)
        return (loaded.trained, loaded.store, loaded.rows)
    }

    /// As `load(_:)`, but images of more than `streamAbove` pixels are left out of the store and
    /// returned as `streamed` (`RunInputs`). A file whose header cannot be read is handed to
    /// `leftOut` where given, and left out. Without `truths` (segment), a truth file that is
    /// missing is no error.
    func load(_ registry: Registry, streamAbove: Int?, leftOut: LeftOut? = nil, truths: Bool = true)
        throws -> (trained: TrainedModel, modality: PreparedModality, store: SampleStore, rows: [Manifest.Row], streamed: [StreamedInput],
                   files: [String: URL], order: [String], patients: [String: String]) {
        let trained = try TrainedModel(run: RunDirectory(fileURL(model)), registry: registry)
        var modality = try trained.description.preparedModality(registry: registry, file: trained.run.modelFile.path)
        modality.pixelSizeGiven = try scale.parsed()
        let manifest = try data.map {
            try Manifest(contentsOf: fileURL($0), labelled: false, leavingOutRowsMissingFiles: leftOut != nil, requiringTruthFiles: truths)
        }
        if let manifest, let leftOut { leftOut.addMissing(manifest.rowsMissingFiles, manifest: manifest) }
        let inputs: RunInputs
        do {
            inputs = try RunInputs(manifest.map { ($0, $0.rows) }, files: files.map { fileURL($0) }, modality: modality,
                                   streamAbove: streamAbove, leftOut: leftOut)
        } catch where "\(error)".contains("where a command takes it") {
            // Files of another modality than the run's (the reader's hint names theirs): the run's own said too.
            throw CLIError("\(error)\nThe run \(model) reads its samples as it was trained to, with its modality "
                           + "\(trained.description.modality.map { "'\($0.name)'" } ?? "(model.json)"): files of another modality take a run trained on them")
        }
        return (trained, modality, inputs.store, inputs.rows, inputs.streamed, inputs.files, inputs.order,
                inputs.rowsByID.compactMapValues(\.patient))
    }

    /// Names on standard error the samples without tissue among `results` (a blank core: its
    /// mask is empty and its tumor fraction undefined); the others are written as usual. With
    /// `csv`, it says that segmentation.csv leaves their fractions blank.
    func warnAboutBlankSamples(_ results: [SegmentationEvaluation.SampleResult], csv: Bool = false) {
        let blank = results.filter { $0.tissuePixels == 0 }.map(\.id)
        guard !blank.isEmpty else { return }
        let one = blank.count == 1
        let which = one ? "sample \(blank[0])"
            : "\(blank.count) samples (" + blank.prefix(10).joined(separator: ", ") + (blank.count > 10 ? ", …)" : ")")
        let consequence = (one ? "its mask is empty" : "their masks are empty")
            + (!csv ? "" : one ? ", and its tumor fraction in segmentation.csv is blank" : ", and their tumor fractions in segmentation.csv are blank")
        warn("no tissue in \(which): \(consequence)")
    }

    /// `--out`'s `segmentation.csv`, and the files an earlier segment or overlay there wrote as it
    /// names them (the record, and its samples' maps, masks, polygons and figures): what `--force`
    /// replaces in a folder written before compseg kept a list of its outputs (`OutputList`).
    func earlierSegmentation() -> (record: URL, files: [URL]) {
        let folder = fileURL(out), record = folder.appendingPathComponent("segmentation.csv")
        guard SegmentationFiles.isRecord(record) else { return (record, []) }
        return (record, SegmentationFiles.paths(for: SegmentationFiles.recordedIDs(record), in: folder, geoJSON: true, figures: true) + [record])
    }

    /// `writingOutputs` into `--out`, after refusing to write or remove (`earlier`) any file the
    /// command reads (without `truths`, as for `load`, a truth file that is missing is no error).
    func writing(_ outputs: [URL], removing earlier: [URL], command: String, truths: Bool = true,
                 _ body: (_ earlier: [URL]) throws -> Void) throws {
        let inputs = try data.map {
            SegmentationFiles.inputs(try Manifest(contentsOf: fileURL($0), labelled: false, leavingOutRowsMissingFiles: skipUnreadable,
                                                  requiringTruthFiles: truths).rows,
                                     manifest: $0)
        }
            ?? files.map { (fileURL($0), "a sample file given") }
        let folder = fileURL(out)
        try SegmentationFiles.requireNoInput(among: outputs + (OutputList.read(in: folder) ?? earlier), inputs: inputs, command: command)
        try writingOutputs(into: folder, outputs: outputs, earlier: earlier, force: force, body)
    }
}

/// Runs a segment, overlay or evaluate (`body`); without `skipping` (--skip-unreadable), an error
/// that names one of several `inputs` (a file that cannot be read, which ends the run before
/// anything is written) says how to go on without it.
func hintingSkipUnreadable(skipping: Bool, inputs: () -> [String], _ body: () throws -> Void) throws {
    do { try body() } catch where !skipping && !(error is Interrupted || error is ExitCode || error is TrainingError) {
        let text = "\(error)", given = inputs()
        guard given.count > 1, given.contains(where: { text.contains($0) }) else { throw error }
        throw CLIError(text + "\n(nothing was written: --skip-unreadable leaves out the files that cannot be read, and goes on with the rest)")
    }
}

/// Creates `folder` and locks it (one segment, overlay or evaluate writes into a folder at a
/// time), removes what a killed earlier run left there (its staging folder), refuses to write
/// over a file no earlier run of compseg wrote there (its list of outputs, else `earlier`, what
/// its records name) and, without `force`, over any file; then runs `body` with what compseg
/// wrote there before (for `OutputList.replace`). When anything fails, the folders this made
/// (it, and those above it) are removed again while they are empty.
func writingOutputs(into folder: URL, outputs: [URL], earlier: [URL], force: Bool, _ body: (_ earlier: [URL]) throws -> Void) throws {
    // A name longer than a file system holds (255 bytes) would fail only as the outputs are moved into place: said first.
    if let long = outputs.first(where: { $0.lastPathComponent.utf8.count > 255 }) {
        throw CLIError("\(long.lastPathComponent): an output's name of \(long.lastPathComponent.utf8.count) bytes, from its sample's file name; "
                       + "file systems hold names of at most 255 bytes: give that file a shorter name")
    }
    let made = missingFolders(folder)
    do { try createWritableFolder(folder) } catch {  // before anything is segmented
        removeEmptyFolders(made)
        throw error
    }
    // Held by another process, the folder is that one's now, even where this one made it.
    let lock = try FolderLock(folder, holder: "writing into this folder")
    do {
        try withExtendedLifetime(lock) {
            // A run killed while it moved its whole set into place: the set is completed; one killed before: its staging goes.
            let completed = finishInterruptedMoves(in: folder)
            if !completed.isEmpty {
                print("Completed an earlier run's writing that was stopped while its files were moved into place (\(counted(completed.count, "file")))")
            }
            removeLeftoverTemporaries(in: folder)
            let ours = OutputList.read(in: folder) ?? earlier
            // A file of ours edited since (a mask corrected by hand) is no longer ours to replace or remove
            // (said first, with --force or not: no advice to pass --force that it would then refuse).
            let changed = OutputList.changed(in: folder)
            if let first = changed.first {
                let why = first.bytesCompared ? "its size, or its time and bytes, differ"
                    : "its size or time differ, and the list an earlier compseg kept holds no digest of its bytes to tell a copy from an edit"
                throw CLIError("\(first.url.path)\(changed.count > 1 ? " (and \(changed.count - 1) more)" : "") was changed after compseg wrote it "
                               + "(\(why)); --force replaces only files as an earlier segment, overlay or "
                               + "evaluate left them: move \(changed.count > 1 ? "them" : "it") elsewhere first, or choose another --out")
            }
            let existing = outputs.filter(entryExists)
            try SegmentationFiles.requireOurs(existing, ours: ours, in: folder)
            // --force replaces the earlier run whole: its files these do not write go too.
            let others = Set(ours.filter(entryExists).map(\.path)).subtracting(existing.map(\.path)).sorted()
            if existing.isEmpty && !others.isEmpty && !force {
                throw CLIError("\(folder.path) holds \(counted(others.count, "file")) an earlier segment, overlay or evaluate wrote "
                               + "(e.g. \(others[0])); pass --force to replace that run (its files go), or choose another --out")
            }
            if !existing.isEmpty && !force {
                let also = others.isEmpty ? "" : "; with it, the other \(counted(others.count, "file")) the earlier run wrote there go too"
                throw CLIError(existing.count == 1
                               ? "output file \(existing[0].path) exists already; pass --force to overwrite it\(also), or choose another --out"
                               : "\(existing.count) output files exist already (e.g. \(existing[0].path)); "
                                 + "pass --force to overwrite them\(also), or choose another --out")
            }
            try body(ours)
        }
    } catch {
        lock.release()  // before the folder goes, so that no one locks a folder no longer there
        removeEmptyFolders(made)
        throw error
    }
}

extension TrainedModel {
    /// How a recorded threshold came to be: its origin, or where it was edited by hand since, that.
    static func origin(_ recorded: RunThreshold) -> String {
        guard recorded.editedByHand, let chosen = recorded.chosen else { return recorded.origin }
        return "set in model.json by hand (training chose \(thresholdText(chosen)), \(recorded.origin))"
    }

    /// The mask threshold for segment, overlay and evaluate: `given` (--threshold), else the run's
    /// own (chosen on its validation split after training), else the paper's 0.35; said, with
    /// its origin in words (as summary.json records it).
    @discardableResult
    func maskThreshold(given: Float?) -> (value: Float, origin: String) {
        let unfinished = given == nil && description.threshold == nil ? unfinishedEpochs : nil  // the history read once
        let (value, origin, said): (Float, String, String) =
            if let given { (given, "set by --threshold", "set by --threshold") }
            else if let recorded = description.threshold { (recorded.value, "the run's, \(Self.origin(recorded))", "the run's, \(Self.origin(recorded))") }
            else if let done = unfinished {
                (SegmentationFiles.defaultThreshold, "the default, the paper's (the run is unfinished)",
                 "the paper's (the run recorded none: it has trained \(done) of its \(description.training.epochs) epochs)")
            } else { (SegmentationFiles.defaultThreshold, "the default, the paper's (the run recorded none)",
                    "the paper's (the run recorded none: its validation split could not choose one)") }
        print("Threshold \(thresholdText(value)): \(said)")
        if let done = unfinished {
            // Training now (its lock held): no resume to advise, which the lock would refuse.
            let training = FolderLock.isHeld(run.url)
            let how = training ? "training now, in another compseg" : "stopped early: by Ctrl-C, a kill or an error such as a diverging loss"
            warn("\(run.url.path) has trained \(done) of its \(description.training.epochs) epochs (\(how)): its weights are its best "
                 + "epoch's so far, and it chooses its threshold when training ends"
                 + (training ? "" : " (\(CompSegTool.commandName) train --resume \(shellWord(run.url.path)))"))
        }
        return (value, origin)
    }

    private var unfinishedEpochs: Int? { run.unfinishedEpochs(description) }
}

extension RunDirectory {
    /// The epochs the unfinished run `model` in this folder has trained, short of its epochs; nil
    /// for a run that finished (all its epochs, or stopped by --patience: none since its best
    /// epoch improved on it).
    func unfinishedEpochs(_ model: RunConfiguration) -> Int? {
        let training = model.training
        guard let done = try? readHistory().count, done < training.epochs else { return nil }
        if let patience = training.patience, let best = model.bestEpoch, done - best >= patience { return nil }
        return done
    }
}
