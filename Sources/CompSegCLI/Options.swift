import ArgumentParser
import BuiltinPlugins
import CompSegCore
import CompSegFigures
import CompSegIO
import CompSegNN
import CompSegTraining
import Foundation
import Synchronization

/// `--threads`, for every command that runs a network.
struct ThreadOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Threads for every pool (default: COMPSEG_THREADS, else OMP_NUM_THREADS, where it is a count in 1…\(Threads.maximum), else the cores this process may use: docs/data.md, Threads).") var threads: Int?

    func validate() throws {
        if let threads, !(1...Threads.maximum).contains(threads) {
            throw ValidationError("--threads must lie in 1…\(Threads.maximum), got \(threads)")
        }
    }

    /// Sets every pool's thread count (OpenMP's and OpenBLAS's too, not only CompSeg's) to
    /// `--threads`, else to COMPSEG_THREADS or OMP_NUM_THREADS, else to the cores this process may
    /// use (which the pools would not see of themselves where a cgroup's quota allows fewer); warns
    /// of a variable that is no count in range.
    func apply() {
        if let threads { Threads.set(threads); return }
        if case .ignored(let text, let variable)? = Threads.environmentSetting {
            warn("\(variable)=\(text) is not a thread count in 1…\(Threads.maximum): ignored, so \(Threads.count) threads run (the cores this process may use)")
        }
        Threads.set(Threads.count)
    }
}

/// `--device` and `--precision`, for every command that runs a network.
struct DeviceOptions: ParsableArguments {
    @Option(help: "Where the network runs: auto (a GPU when CUDA loads here, else the CPU), cpu or cuda. Default: auto (check-backend: cuda).")
    var device: ComputeDevice?
    @Option(help: "Arithmetic of convolutions on a GPU: fp32 (default), tf32 or bf16 (tensor cores; weights, optimizer state and every other op stay fp32); the CPU computes in fp32.")
    var precision: Precision?

    /// A GPU precision with `--device cpu` contradicts itself: a usage error.
    func validate() throws {
        if device == .cpu, let precision, precision != .fp32 {
            throw ValidationError("--precision \(precision.rawValue) needs a GPU, and --device cpu computes in fp32; leave --precision out")
        }
    }

    /// Makes the chosen device's backend (`defaultDevice` when `--device` was left out) the one
    /// the network runs on, and returns the choice.
    /// - Throws: `DeviceUnavailable` when the device or precision asked for cannot be used, saying
    ///   why (exit 69, EX_UNAVAILABLE: a job that landed on a machine without a GPU, told apart from bad data).
    @discardableResult
    func apply(defaultDevice: ComputeDevice = .auto) throws -> DeviceChoice {
        let choice = try DeviceChoice.resolve(device ?? defaultDevice, precision: precision)
        choice.activate()
        if choice.cpuReason != nil { writeToStandardError("compseg: running on \(choice.summary)\n") }
        return choice
    }
}

extension ComputeDevice: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}

/// How a network is trained, for `train`, `compare` and `demo`: each option left out keeps the
/// settings it is applied over (`TrainingSettings`' defaults, or the paper's recipe).
struct TrainingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Epochs (default 40).") var epochs: Int?
    @Option(parsing: .unconditional, help: "Images per batch (default 7).") var batch: Int?
    @Option(parsing: .unconditional, help: "Learning rate (default 0.001).") var lr: Float?
    @Option(help: "Optimizer: adam (default), rmsprop or sgd (the paper: rmsprop, --lr 0.001, --batch 7).")
    var optimizer: TrainingSettings.OptimizerKind?
    @Option(parsing: .unconditional, help: "Seed of the initial weights and the batch order (default 0).") var seed: UInt64?
    @Option(parsing: .unconditional, help: "Epochs of linear learning-rate warm-up (default 3).") var warmup: Int?
    @Option(help: "Training views: none (default) or dihedral (each image flipped or rotated at random each step).")
    var augment: TrainingSettings.Augmentation?
    @Option(parsing: .unconditional, help: "Stop after this many epochs without improvement of the monitored loss (default: none; train every epoch).")
    var patience: Int?
    @Flag(help: "Start from the paper's optimizer recipe (RMSprop, learning rate 0.001, batch 7, unbalanced batches, no warm-up); options given here override it. The epochs stay --epochs' (the paper ran 400).")
    var paperRecipe = false

    func validate() throws {
        if let epochs, epochs <= 0 { throw ValidationError("--epochs must be positive, got \(epochs)") }
        if let batch, batch <= 0 { throw ValidationError("--batch must be positive, got \(batch)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive finite number, got \(lr)") }
        if let warmup, warmup < 0 { throw ValidationError("--warmup must be 0 or more, got \(warmup)") }
        if let patience, patience <= 0 { throw ValidationError("--patience must be positive, got \(patience)") }
    }

    /// The defaults, or the paper's recipe with --paper-recipe, with every option given here on top.
    func settings() -> TrainingSettings {
        var s = paperRecipe ? TrainingSettings.paper : TrainingSettings()
        if let epochs { s.epochs = epochs }
        if let batch { s.batchSize = batch }
        if let lr { s.learningRate = lr }
        if let optimizer { s.optimizer = optimizer }
        if let seed { s.seed = seed }
        if let warmup { s.warmupEpochs = warmup }
        if let augment { s.augmentation = augment }
        if let patience { s.patience = patience }
        return s
    }
}

/// `--cache-mb`, for the commands that train.
struct CacheOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "MiB of preprocessed samples kept in memory between epochs (default \(SampleStore.defaultCacheBudget >> 20)); the others are read from their files for every batch. 0 keeps at most the current batch in memory.")
    var cacheMb: Int?

    func validate() throws {
        if let cacheMb, cacheMb < 0 { throw ValidationError("--cache-mb must be 0 or more, got \(cacheMb)") }
        if let cacheMb, cacheMb > Int.max >> 20 {  // its bytes would not fit in 64 bits
            throw ValidationError("--cache-mb must be at most \(Int.max >> 20), got \(cacheMb)")
        }
    }

    var bytes: Int { cacheMb.map { $0 << 20 } ?? SampleStore.defaultCacheBudget }
}

extension TrainingSettings.OptimizerKind: ExpressibleByArgument {}
extension TrainingSettings.Augmentation: ExpressibleByArgument {}

/// "Stopped by --patience …", where `run` ended before its epochs because its monitored loss
/// stopped improving; nil where it trained them all.
func stoppedByPatience(_ run: TrainingRun) -> String? {
    guard run.completedEpochs < run.model.training.epochs, run.trainer.patienceRanOut, let patience = run.model.training.patience,
          let best = run.trainer.best else { return nil }
    return "Stopped by --patience \(patience) after epoch \(run.completedEpochs) of \(run.model.training.epochs): the monitored "
        + "loss has not improved on epoch \(best.epoch)'s for \(counted(run.completedEpochs - best.epoch, "epoch"))"
}

/// What a new run's `model.json` records under `versions`: compseg's and oneDNN's versions, the
/// program that trained it (`compseg`, or a lab's own tool), the device it trains on and, where it
/// has one, the manifest's path, and with `run` (its folder) that path from the run's folder too
/// (`manifestFromRun`: a project copied or moved whole resumes on its own manifest).
func runVersions(manifest: Manifest? = nil, run: URL? = nil, device: DeviceChoice) -> [String: String] {
    // The thread count too: sums split among threads (the preprocessing's fit, oneDNN's kernels)
    // make another count train slightly other weights.
    var versions = ["compseg": CompSegVersion.string, "oneDNN": CPUBackend.oneDNNVersion, "device": device.summary,
                    "threads": "\(Threads.count)", "program": CompSegTool.commandName]
    versions["manifest"] = manifest?.url.path
    if let manifest, let run { versions["manifestFromRun"] = pathFrom(run, to: manifest.url) }
    // The command that began it, as typed, and where (its relative paths are from there): to run it again.
    versions["command"] = ([CompSegTool.commandName] + CommandLine.arguments.dropFirst()).map(shellWord).joined(separator: " ")
    versions["workingFolder"] = FileManager.default.currentDirectoryPath
    return versions
}

/// `file`'s path from `folder`, `..` climbing out of it ("../data/manifest.csv"), symbolic links
/// resolved on both.
func pathFrom(_ folder: URL, to file: URL) -> String {
    let from = folder.standardizedFileURL.resolvingSymlinksInPath().pathComponents
    let to = file.standardizedFileURL.resolvingSymlinksInPath().pathComponents
    let shared = zip(from, to).prefix { $0 == $1 }.count
    return (Array(repeating: "..", count: from.count - shared) + to.dropFirst(shared)).joined(separator: "/")
}

/// A resume on another thread count than `model` last trained on: the change in words, and the
/// count added to model.json's record ("1 → 2"), since the epochs from here differ slightly; nil
/// on the same count.
func recordThreadChange(_ model: inout RunConfiguration) -> String? {
    guard let before = model.versions["threads"], let last = before.components(separatedBy: " → ").last,
          last != "\(Threads.count)" else { return nil }
    model.versions["threads"] = before + " → \(Threads.count)"
    return "threads \(last) → \(Threads.count): the epochs from here differ slightly from those \(last) would train"
}

struct InferenceBatchOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Samples of one size through the network at once, the next ones read meanwhile (default: as many as fit in 32 Mi input values, 1 to 8: one 256×256×450 spot, eight 64×64×450 ones).")
    var batch: Int?

    func validate() throws {
        if let batch, batch < 1 || batch > 1024 { throw ValidationError("--batch must lie in 1…1024, got \(batch)") }
    }
}

/// `--geojson` and what it leaves out, for `segment`, `overlay` and `evaluate`.
struct GeoJSONOptions: ParsableArguments {
    @Flag(help: "Also write each mask's polygons as <id>_mask.geojson, annotations QuPath imports (full-resolution pixel coordinates).")
    var geojson = false
    @Option(parsing: .unconditional, help: "With --geojson, leave out polygons (8-connected parts of a mask, holes and all) of fewer full-resolution pixels than this: the specks a noisy mask would add by the thousand. The masks keep them.")
    var geojsonMinArea = 0.0

    func validate() throws {
        guard geojsonMinArea >= 0, geojsonMinArea.isFinite else {
            throw ValidationError("--geojson-min-area must be a finite number of pixels, 0 or more, got \(geojsonMinArea)")
        }
        guard geojson || geojsonMinArea == 0 else { throw ValidationError("--geojson-min-area applies to the GeoJSON: give --geojson too") }
    }
}

/// `--pixel-size`: the physical size of the input files' pixels, for files that record none (or wrongly).
struct PixelSizeOption: ParsableArguments {
    @Option(help: ArgumentHelp("The physical size of the files' full-resolution pixels in micrometres, as WIDTH or WIDTHxHEIGHT (0.25, 6.25x6.25), taken instead of what the files record (TIFF resolution tags, OME-XML, Aperio MPP, PNG pHYs, an HDF5 file's pixel_size_um attribute). With it, or where the files record a size, segmentation.csv and per_sample.csv give tissue and tumor areas in mm², the report and panels carry them and a scale bar, and the PNGs written carry the pixel size.", valueName: "µm"))
    var pixelSize: String?

    /// The size given; nil without the option.
    /// - Throws: `ValidationError` for text that is not one or two positive numbers.
    func parsed() throws -> PixelSize? {
        guard let pixelSize else { return nil }
        guard let size = PixelSize(text: pixelSize) else {
            throw ValidationError("--pixel-size takes micrometres per pixel as WIDTH or WIDTHxHEIGHT, such as 0.25 or 6.25x6.25 (numbers from "
                                  + "\(PixelSize.plausible.lowerBound) to \(Int(PixelSize.plausible.upperBound))); got \(pixelSize)")
        }
        return size
    }

    func validate() throws { _ = try parsed() }
}

/// `--stream-above`, for the commands that segment whole slides (segment, overlay, evaluate).
struct StreamingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Images of more pixels than this are read and segmented region by region (tiles), never held whole, when the reader reads regions (he; infrared and raman from HDF5, ENVI, Agilent mosaics, WiRE maps, FSM images and NumPy arrays) and every step is pixelwise; so is such an image too large to load whole in memory, whatever its size. Their heatmap and panel are then drawn at most 2048 pixels a side (the other pictures keep the full resolution).")
    var streamAbove = Self.defaultStreamAbove

    /// 4096² pixels: above it streaming is both faster and lighter than loading whole (an 8000²
    /// slide: 31 s and 0.6 GB streamed against 82 s and 3.8 GB whole; a 4000² PNG: 10 s against 19 s).
    static let defaultStreamAbove = 4096 * 4096

    func validate() throws {
        guard streamAbove >= 0 else { throw ValidationError("--stream-above must be 0 or more, got \(streamAbove)") }
    }
}

/// `--head-option KEY=VALUE` settings as a JSON object, VALUE read as a settings file reads
/// `KEY: VALUE` (0.2, .2, true, [1, 2]; `relu` and what is no YAML value, such as `#ff0000`, as text).
/// - Throws: `ValidationError` for a setting without `=`, a key or a value (null too), a key given
///   twice, or a value a settings file refuses (a number beyond its range).
func headOptions(_ given: [String]) throws -> [String: JSONValue] {
    var settings: [String: JSONValue] = [:]
    for item in given {
        guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
            throw ValidationError("--head-option takes KEY=VALUE, such as alpha=0.2; got \(item)")
        }
        let key = String(item[..<equals]), value = String(item[item.index(after: equals)...])
        guard settings[key] == nil else { throw ValidationError("--head-option \(key) is given twice; give each key once") }
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--head-option \(item) gives no value; write KEY=VALUE, such as alpha=0.2")
        }
        let read: JSONValue?
        do { read = try ConfigurationFile.value(value, source: "--head-option \(item)") } catch { throw ValidationError("\(error)") }
        // What YAML reads as nothing but a comment (`#ff0000`) is text; null itself (`~`, `null`) gives no value.
        guard read != .null || value.trimmingCharacters(in: .whitespaces).hasPrefix("#") else {
            throw ValidationError("--head-option \(item) gives no value (null); give one, or leave the key out for its default")
        }
        settings[key] = read.flatMap { $0 == .null ? nil : $0 } ?? .string(value)
    }
    return settings
}

/// Refuses an option's value outside `range`, naming the option and the value.
func requireOption(_ name: String, _ value: Int?, in range: ClosedRange<Int>) throws {
    if let value, !range.contains(value) {
        throw ValidationError("\(name) must lie in \(range.lowerBound)…\(range.upperBound), got \(value)")
    }
}

/// Refuses a `--threshold` that is not a number in (0, 1) (nor `auto`, where the command
/// `takesAuto`), saying what a mistaken one meant: a percentage, a decimal comma, or `auto` where
/// `command` reads no validation rows.
func requireThreshold(_ text: String?, command: String, takesAuto: Bool = false) throws {
    guard let text else { return }
    let t = text.trimmingCharacters(in: .whitespaces)
    if text == "auto" && takesAuto { return }
    if let value = Float(t), value > 0, value < 1 { return }
    if t.lowercased() == "auto" && !takesAuto {
        throw ValidationError("--threshold auto chooses a threshold on validation rows, which \(command) does not read: give a number "
                              + "in (0, 1), leave --threshold out for the run's own, or choose one with evaluate --threshold auto")
    }
    let percent = t.hasSuffix("%") ? Float(t.dropLast().trimmingCharacters(in: .whitespaces)) : Float(t)
    let comma = Float(t.replacingOccurrences(of: ",", with: "."))
    throw ValidationError("--threshold must be \(takesAuto ? "'auto' or " : "")a number in (0, 1), got \(text)"
                          + (t.contains(",") && comma.map { $0 > 0 && $0 < 1 } == true ? " (with a decimal point: \(comma!))"
                             : percentHint(percent ?? .nan)))
}

/// `--threshold`'s number, blanks around it taken in stride (as `requireThreshold` takes them); nil for none or `auto`.
func thresholdNumber(_ text: String?) -> Float? { text.flatMap { Float($0.trimmingCharacters(in: .whitespaces)) } }

/// For a threshold given as a percentage (35 or 35%): " (a fraction of 1: 0.35 for 35%)"; else "".
func percentHint(_ value: Float) -> String {
    value > 1 && value < 100 ? String(format: " (a fraction of 1: %g for %g%%)", value / 100, value) : ""
}
