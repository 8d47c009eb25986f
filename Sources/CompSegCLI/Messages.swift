import ArgumentParser
import BuiltinPlugins
import CKernels
import CompSegCore
import CompSegFigures
import CompSegIO
import CompSegNN
import CompSegTraining
import Foundation
import Synchronization

/// Warns on standard error when the activation maps carry a strong period-2 grid (the
/// median of `parityPatternSpread` over the maps above 0.03 activation units; on the phantoms
/// runs without a visible grid stay below 0.02): the checkerboard of 2×2 transposed
/// convolutions, which makes masks jagged and costs Dice (docs/method.md). For a U-Net that
/// upsamples so, it names the setting that avoids it.
///
/// With the masks' `threshold`, it also warns when a fainter grid that the threshold lies within
/// makes dotted masks (`maskParitySpread` above 0.25 in any sample, or in any image segmented
/// region by region: `streamed`, its id and its mask's spread). `entry` names compare's entry.
func warnAboutCheckerboard(_ samples: [Sample], _ maps: [[Float]], topology: PluginDescription, threshold: Float? = nil,
                           streamed: [(id: String, maskSpread: Double)] = [], entry: String? = nil) {
    let warn = { (message: String) in CompSegCLI.warn((entry.map { "\($0): " } ?? "") + message) }
    // Blank cores aside: a map of no tissue says nothing of the network on tissue.
    let onTissue = zip(samples, maps).filter { $0.0.tissue.count > 0 }
    let spreads = onTissue.map { parityPatternSpread($1, height: $0.height, width: $0.width) }.sorted()
    let median = spreads.isEmpty ? nil : StripPlot.quantile(spreads, 0.5)
    guard let median, median > 0.03 else {
        guard let threshold else { return }
        let dotted = onTissue.filter { sample, map in
            maskParitySpread(map, tissue: sample.tissue.pixels, threshold: threshold, height: sample.height, width: sample.width) > 0.25
        }.map(\.0.id) + streamed.filter { $0.maskSpread > 0.25 }.map(\.id)
        guard !dotted.isEmpty else { return }
        // Not "of how many": the warning reads the same for samples loaded whole and images segmented region by region.
        warn("the masks at threshold \(thresholdText(threshold)) follow a period-2 grid in \(counted(dotted.count, "sample")) "
             + "(\(dotted.prefix(3).joined(separator: ", "))\(dotted.count > 3 ? ", …" : "")): the maps carry a faint checkerboard "
             + (median.map { String(format: "(parity spread: median %.4f)", $0) + " " } ?? "") + "that the threshold lies within, so the masks are dotted rather than "
             + "regions" + (threshold < 0.05 ? "; a threshold this low says the maps barely rise on tumor: train longer" : "; try another --threshold")
             + " (docs/method.md, Checkerboard artefacts)")
        return
    }
    // Its likely cause, by the topology's 2× up-sampling.
    let identifier = topology.identifier.lowercased(), resized = topology.configuration.objectValue?["upsampling"] == .string("resize")
    let cause = ["unet", "u-net"].contains(identifier) && !resized ? "the checkerboard of 2×2 transposed convolutions"
        : identifier == "segnet" ? "the checkerboard of max-unpooling (each pooled value goes back to one pixel of four)"
        : "a checkerboard of the network's 2× up-sampling"
    var line = String(format: "the activation maps carry a period-2 grid (parity spread: median %.3f over %@, largest %.3f; "
                      + "below 0.02 is usual), %@: masks follow it and Dice drops "
                      + "(docs/method.md, Checkerboard artefacts)", median, counted(spreads.count, "map"), spreads.last!, cause)
    if ["unet", "u-net"].contains(identifier), !resized {
        line += "; a U-Net trained with " + (entry == nil ? "topologyConfiguration" : "a --config entry's configuration")
            + ": {upsampling: resize} does not make it, but trained worse on an "
            + "independent phantom (mean Dice .76 against .90): compare both on your data before changing"
    }
    warn(line)
}

/// What `--modality` names: a manifest file, a named manifest (`modalities/*.yaml`, or one a
/// lab's tool gives `CompSegTool.main`), or a reader plugin; writing "note: …" on standard error
/// when the argument names a reader alone that also has a built-in manifest (`--modality h&e` beside `he`).
func resolveModalityNoting(_ argument: String, registry: Registry) throws -> ModalityManifest {
    let manifest = try ModalityManifest.resolve(argument, builtin: CompSegTool.modalityManifests, registry: registry)
    if let note = bareReaderNote(argument, manifest) { writeToStandardError("note: \(note)\n") }
    return manifest
}

/// Names on standard error the samples whose reader found something doubtful in their file
/// (`Sample.warningKey`), one warning for each kind; the samples are segmented as usual.
func warnAboutReaders(_ samples: [Sample]) { warnAboutReaders(ReaderWarnings(samples)) }

/// As `warnAboutReaders(_:)`, for the samples of `stores` as they were read (`SampleStore.readerWarnings`).
func warnAboutReaders(stores: [SampleStore]) {
    warnAboutReaders(stores.map(\.readerWarnings).reduce(ReaderWarnings()) { $0.merged($1) })
}

/// As `warnAboutReaders(_:)`, for warnings already grouped.
func warnAboutReaders(_ warnings: ReaderWarnings) {
    for (warning, named) in warnings.groups {
        warn((named.count == 1 ? "sample \(named[0])" : "\(named.count) samples (" + named.prefix(5).joined(separator: ", ")
              + (named.count > 5 ? ", …)" : ")")) + ": " + warning)
    }
}

/// Names on standard error the samples segmented by `trained` since it was last asked (its
/// `takeInputChecks`) that lie outside the inputs the run was trained on (`InputRangeCounts.departs`):
/// the one farthest out with its channel and the range training covered. Each sample counts once
/// (an image read twice, by its last reading); runs that recorded no `inputRange` say nothing.
func warnAboutUnfamiliarInputs(_ trained: TrainedModel) {
    guard let range = trained.description.inputRange else { return }
    var latest: [String: InputRangeCounts] = [:], order: [String] = []
    for check in trained.takeInputChecks() {
        if latest.updateValue(check, forKey: check.id) == nil { order.append(check.id) }
    }
    /// How far out: above 1 where a sample departs, by its pixels, its mean or its balance.
    func severity(_ c: InputRangeCounts) -> Double {
        max((c.worst?.share ?? 0) / InputRange.warningShare, 1 + (c.farthestMean?.beyond ?? -1), 1 + (c.farthestBalance?.beyond ?? -1))
    }
    let departing = order.compactMap { latest[$0] }.filter(\.departs)
    guard let farthest = departing.max(by: { severity($0) < severity($1) }) else { return }
    func channel(_ c: Int) -> String {
        switch trained.description.inputAxis {
        case .spectral(let values, let unit)? where values.count == range.low.count:
            "channel \(c + 1) of \(range.low.count) (" + String(format: "%g", values[c]) + " \(unit))"
        case .bands(let names)? where names.count == range.low.count: "channel \(names[c])"
        default: "channel \(c + 1) of \(range.low.count)"
        }
    }
    let names = departing.map(\.id), one = names.count == 1, whose = one ? "its" : farthest.id + "'s"
    let who = one ? "sample \(names[0]) lies" : "\(names.count) samples (" + names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : "") + ") lie"
    let how: String
    if let (c, share, above) = farthest.worst, share >= InputRange.warningShare {
        how = SegmentationEvaluation.percentText(share) + " of \(whose) tissue pixels lie outside (most \(above ? "above" : "below")) "
            + "the training pixels' range in \(channel(c)) (" + String(format: "%.4g … %.4g", range.low[c], range.high[c])
            + ": their 0.1–99.9% quantiles after preprocessing)"
    } else if let (c, balance, beyond) = farthest.farthestBalance, beyond > (farthest.farthestMean?.beyond ?? -1),
              let low = range.balanceLow, let high = range.balanceHigh {
        how = "the balance of \(whose) tissue across the channels (its values' sum over the sum of its pixels' lengths: "
            + "its make-up whatever its strength, an H&E scan's hue) is " + String(format: "%.4g", balance) + " in \(channel(c)), where the "
            + "\(range.samples.map { "\($0) " } ?? "")training samples' balances lie within " + String(format: "%.4g … %.4g", low[c], high[c])
    } else if let (c, mean, _) = farthest.farthestMean, let low = range.meanLow, let high = range.meanHigh {
        how = "the mean of \(whose) tissue in \(channel(c)) is " + String(format: "%.4g", mean) + ", where the "
            + "\(range.samples.map { "\($0) " } ?? "")training samples' means lie within " + String(format: "%.4g … %.4g", low[c], high[c])
            + " (after preprocessing)"
    } else { return }
    let total = order.count == names.count ? "" : " (\(names.count) of \(counted(order.count, "sample")))"
    warn("\(who) outside the inputs the run was trained on\(total): \(how). The network never saw such inputs, so "
         + "\(one ? "its map" : "their maps") may mean little: were they measured or prepared otherwise than the training samples "
         + "(another instrument or setting, other units, another stain or scan)? docs/method.md, Limits, says what to check")
}

/// Writes "warning: `message`" on standard error (the output's files are written as usual), once:
/// a warning already written is not repeated (a slide read twice, to choose the threshold and to
/// score it, warns once). `Warnings.written` keeps them for the report.
func warn(_ message: String) {
    guard Warnings.record(message) else { return }
    SegmentingProgress.clearDrawnLine()
    fflush(nil)  // after the lines printed before it, when both go to one log
    writeToStandardError("warning: \(message)\n")
}

/// The warnings this process has written, in order, each once.
enum Warnings {
    private static let state = Mutex<(written: [String], seen: Set<String>)>(([], []))

    /// Records `message`; false when it was recorded before.
    static func record(_ message: String) -> Bool {
        state.withLock { s in
            guard s.seen.insert(message).inserted else { return false }
            s.written.append(message)
            return true
        }
    }

    static var written: [String] { state.withLock { $0.written } }
}

/// A message on standard error after the lines printed before it (they may go to one log): how
/// an interrupted command stopped and how to go on, or one file's failure among several that
/// inspect or convert go on past.
func sayAfterOutput(_ message: String) {
    fflush(nil)
    writeToStandardError(message + "\n")
}

/// Writes `text` to standard error, losing it where no one reads any more (a closed pipe:
/// SIGPIPE is ignored, and FileHandle's write would trap on the error).
func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return }
        bytes = bytes.dropFirst(n)
    }
}

/// The inputs `--skip-unreadable` leaves out, each named in a warning when it is found.
final class LeftOut {
    private(set) var count = 0
    /// The inputs given (counted by `RunInputs` and `addMissing`).
    var inputs = 0

    /// Adds a manifest's rows whose image is missing, as inputs given and left out.
    func addMissing(_ rows: [Manifest.RowMissingFile], manifest: Manifest) {
        inputs += rows.count
        for row in rows { add("\(manifest.url.path): \(row)") }
    }

    func add(_ problem: String) {
        count += 1
        warn("left out (--skip-unreadable): \(problem)")
    }

    /// `add`, for `TrainedModel.segmentedTimed`'s `leavingOut`.
    var handler: (String) -> Void { { [self] in add($0) } }

    /// Throws when every input was left out; else, where some were, says how many.
    func report() throws {
        guard count > 0 else { return }
        guard count < inputs else {
            throw CLIError((inputs == 1 ? "the input could not be read" : "none of the \(inputs) inputs could be read")
                           + " (named above); nothing was written")
        }
        warn("\(count) of \(counted(inputs, "input")) left out: each is named above")
    }
}

/// Throws when what a command printed did not all reach its standard output, as on a full disk
/// (`> /dev/full`): a script that keeps the output must not take a part of it for the whole. A
/// reader that went away (`| head`) is no error: the lines are lost on purpose, the work is done.
func requireStandardOutputWritten() throws {
    let failure = compseg_stdout_failure()
    guard failure != 0, failure != EPIPE else { return }
    var status = stat()
    if failure < 0, fstat(STDOUT_FILENO, &status) == 0, [S_IFIFO, S_IFSOCK].contains(status.st_mode & S_IFMT) { return }
    // Standard output is line-buffered: a failed write drops its line, and its reason is gone by the end.
    let why = failure > 0 ? " (\(String(cString: strerror(failure))))" : " (a write failed part-way: is the disk full?)"
    throw CLIError("the standard output could not be written\(why): what this command printed is incomplete")
}

/// A report's closing line: the compseg that wrote it and, for one run's, which of its weights
/// (the epoch and checksum `weights.safetensors` records), as summary.json names them, and the
/// run those weights were fine-tuned from.
func reportFooter(weights: (epoch: Int?, checksum: String?)?, fineTunedFrom start: InitialWeights? = nil) -> String {
    let known = [weights?.epoch.map { "epoch \($0)" }, weights?.checksum.map { "checksum \($0)" }].compactMap { $0 }
    return "Written by compseg \(CompSegVersion.string)" + (known.isEmpty ? "" : "; the network's weights: " + known.joined(separator: ", "))
        + (start.map { "; fine-tuned from the weights of \($0.run)" + ($0.epoch.map { " (epoch \($0))" } ?? "") } ?? "") + "."
}

/// The run's training curves for a report (`RunDirectory.curvesSVG`); nil, warned of, where they
/// cannot be read (another user's `history.csv`, made under a strict umask), so that an evaluation
/// is not lost for them.
func reportCurves(_ run: RunDirectory) -> String? {
    do { return try run.curvesSVG() } catch {
        warn("the report leaves out the run's training curves: \(error)")
        return nil
    }
}
