import ArgumentParser
import BuiltinPlugins
import CompSegCore
import CompSegIO
import CompSegNN
import CompSegTraining
import Foundation
import HEModality
import SpectralFiles

/// The spectral file options of a modality (its manifest's reader options), for `inspect` and `convert`.
struct SpectralModalityOption: ParsableArguments {
    @Option(help: "Modality whose reader options apply (HDF5 dataset names and layout, tissue rule): a manifest in modalities/ by name, a manifest file, or a reader.")
    var modality = "infrared"

    /// The modality's reader as configured, what it says of itself, and the modality with its steps.
    func source() throws -> (source: any ImageSource, info: PluginInfo, prepared: PreparedModality) {
        let registry = try CompSegTool.registry()
        let manifest = try resolveModalityNoting(modality, registry: registry)
        let info: PluginInfo
        do { (info, _) = try registry.modalities.factory(manifest.reader) } catch let e as RegistryError {
            throw ConfigurationError(source: "\(manifest.source): reader", message: e.description)
        }
        // The whole manifest is checked, its steps too (inspect fits them to each file, convert applies none).
        let prepared = try PreparedModality(manifest, registry: registry)
        return (try registry.modality(manifest.reader, manifest.readerConfiguration), info, prepared)
    }

    /// The spectral file reader of `source` (from `source()`), and the axis its steps expect.
    func spectralReader(_ source: any ImageSource, _ info: PluginInfo, command: String) throws -> (reader: SpectralFileReader, axis: String) {
        guard let source = source as? any SpectralFileSource else {
            throw CLIError("--modality \(modality) reads \(info.summary), not spectral files; \(command) "
                           + "takes a spectral modality (infrared, raman, or a manifest whose reader is one of them)")
        }
        return (SpectralFileReader(source.configuration), source.axisWanted)
    }
}

/// `compseg inspect`: what spectral image files hold.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe image files: format, size, axis, stored type, non-finite values, tissue; or a TIFF's or PNG's images.",
        discussion: """
            Spectral modalities read HDF5/MATLAB v7.3, ENVI, Agilent FPA tiles (.dat/.bsp) and mosaics (.dmt), \
            Renishaw WiRE (.wdf), Galactic SPC (.spc), PerkinElmer FSM (.fsm), NumPy (.npy) and text maps, told apart by extension and content. Tissue is the file's mask or \
            the modality's computed one, without pixels holding NaN or infinite values. A file the modality would refuse \
            as a training sample (NaN under nonFinite: error, no tissue, an axis a step refuses or a setting it cannot meet, \
            such as more PCA components than bands: its steps are fitted \
            to each file alone, on 1024 of its tissue pixels where every step is pixelwise, so a step that refuses single pixels may pass) is noted, and inspect then exits non-zero, as train would. With --modality he, each \
            TIFF or PNG is listed image by image (pages, SubIFDs, pyramid levels, tiles, compression), with the \
            level and size the modality reads. With another reader (a plugin's), each file is read as a sample: \
            its size, channels, tissue and each channel's range on tissue.
            """)

    @OptionGroup var spectral: SpectralModalityOption
    @Argument(help: "Files to describe.") var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one file") }
        if let empty = files.firstIndex(of: "") { throw ValidationError("file \(empty + 1) is an empty path; expected a file's path") }
        try requireNoManifest(among: files, hint: "give its images (inspect reads image files)")
    }

    func run() throws {
        let (source, info, prepared) = try spectral.source()
        if let he = source as? HESource { return try describeRasters(he, prepared) }
        if !(source is any SpectralFileSource) { return try describeSamples(source, prepared) }
        let (reader, axisWanted) = try spectral.spectralReader(source, info, command: "inspect")
        var (failed, refused) = (0, 0)
        for path in files {
            do {
                let (s, sample) = try reader.summaryAndSample(fileURL(path), axisUnit: axisWanted)
                var axis = String(format: "%g–%g", s.axisFirst, s.axisLast) + (s.axisUnit.isEmpty ? " (no unit)" : " \(s.axisUnit)")
                if s.readUnit != s.axisUnit {
                    let same = (s.readFirst, s.readLast) == (s.axisFirst, s.axisLast)
                    axis += " read as " + (same ? "" : String(format: "%g–%g ", s.readFirst, s.readLast)) + s.readUnit
                }
                let tissue = String(format: "%.1f%%", 100 * s.tissueFraction) + (s.maskFromFile ? " (the file's mask)" : " (computed)")
                print("\(path): \(s.format), \(s.dataType), \(s.height)×\(s.width)×\(s.bands) (H×W×B), axis \(axis), "
                      + "\(counted(s.nonFinite, "non-finite value")), tissue \(tissue)")
                print("  pixel size: " + (s.pixelSize.map { "\($0) (recorded in the file)" } ?? Self.noPixelSize))
                var notes = s.notes
                if s.readsAsSample, let refusal = try Self.stepRefusal(fileURL(path), sample: sample, prepared) {
                    notes.append(refusal)
                }
                for note in notes { print("  note: \(note)") }
                if notes.count > s.notes.count || !s.readsAsSample { refused += 1 }
            } catch {
                sayAfterOutput("\(error)")
                failed += 1
            }
        }
        try requireSamples(failed: failed, refused: refused)
    }

    /// Throws where a file could not be read or would be refused as a sample (its notes say why),
    /// so that `inspect FILES && train` stops where train would.
    private func requireSamples(failed: Int, refused: Int) throws {
        if failed + refused > 0 {
            throw CLIError([failed > 0 ? "\(failed) of \(files.count) files could not be read" : nil,
                            refused > 0 ? "\(refused) of \(files.count) files read but cannot be samples of the modality \(spectral.modality) (notes above)" : nil]
                .compactMap { $0 }.joined(separator: "; "))
        }
    }

    /// Why training would refuse `sample` (read from `url`): no tissue, or a step of the modality; nil when it would not.
    static func sampleRefusal(_ url: URL, _ sample: Sample, _ prepared: PreparedModality) throws -> String? {
        if sample.tissue.count == 0 { return SpectralFileSummary.noTissueNote }
        return try stepRefusal(url, sample: { sample }, prepared)
    }

    /// Why a step of the modality refuses the sample in `url` (an axis that does not reach
    /// `resample`'s range, say), as training would refuse it; nil when none does. The steps are
    /// fitted to this sample alone: a refusal that names another cause (too few pixels for a fit
    /// over one sample) is not the file's; a setting the data cannot meet (`unmetByData`: more
    /// components than bands) is.
    /// A chain of pixelwise steps (`isPixelwise`) is tried on `probePixels` of the tissue only, which
    /// refuse what the whole would (an axis), at a fraction of the cost on a large map.
    static func stepRefusal(_ url: URL, sample read: () throws -> Sample, _ prepared: PreparedModality) throws -> String? {
        var sample: Sample
        do { sample = try read() } catch { return "it cannot be made a sample: \(error)" }
        sample.id = url.lastPathComponent
        func refusal(_ alone: Sample) -> String? {
            do { _ = try prepared.fitted(to: SampleSequence(count: 1) { _ in alone }).prepare(alone) } catch let e as SampleError where e.sample == alone.id {
                return "a step of the modality refuses it as a sample: \(e.message)"
            } catch let e as ConfigurationError where e.unmetByData {
                return "a step of the modality cannot be fitted to it: \(e)"  // more PCA components than the file has bands
            } catch {}
            return nil
        }
        // A refusal of the probe is said as the whole sample gives it (a pixel's place, say).
        if prepared.chain.isPixelwise, refusal(try tissuePixels(of: sample)) == nil { return nil }
        return refusal(sample)
    }

    /// How many tissue pixels a pixelwise chain is tried on.
    static let probePixels = 1024

    /// Up to `probePixels` of `sample`'s tissue pixels, spread evenly over its tissue, as a sample
    /// one pixel high, all tissue; the sample itself when it has no more.
    static func tissuePixels(of sample: Sample) throws -> Sample {
        let tissue = sample.tissue.pixels.indices.filter { sample.tissue.pixels[$0] }
        guard tissue.count > probePixels else { return sample }
        let picked = (0..<probePixels).map { tissue[$0 * tissue.count / probePixels] }
        let (c, plane) = (sample.image.shape[0], sample.height * sample.width)
        let image = try sample.image.withPlainBuffer { values in  // read in place: a copy of a large cube would double it
            try Tensor(shape: [c, 1, picked.count], scalars: (0..<c).flatMap { k in picked.map { values[k * plane + $0] } })
        }
        return try Sample(id: sample.id, image: image, channels: sample.channels,
                          tissue: Mask(height: 1, width: picked.count, filled: true),
                          preview: RGBImage(height: 1, width: picked.count, fill: (0, 0, 0)), label: sample.label, metadata: sample.metadata)
    }

    /// What `inspect` says of a file that records no pixel size.
    static let noPixelSize = "not recorded (segment, overlay and evaluate take --pixel-size for areas in mm²)"

    /// The most pixels whose tissue `inspect` finds for H&E: as many as segment loads whole by default.
    static let largestTissueShown = StreamingOptions.defaultStreamAbove

    /// Each file's images, as the raster readers see them, and what the H&E reader reads of it
    /// (with its tissue share, where it is read whole).
    private func describeRasters(_ he: HESource, _ prepared: PreparedModality) throws {
        let (level, scale) = (he.configuration.level, he.configuration.scale)
        var (failed, refused) = (0, 0)
        for path in files {
            let url = fileURL(path)
            do {
                let description = try RasterFile.describe(url)
                print("\(path): \(description)")
                guard level < description.levels.count else {
                    throw IOError(file: path, "the modality reads level \(level), and the file has \(description.levels.count)")
                }
                let image = description.images[description.levels[level]]
                if let why = image.unsupported { throw IOError(file: path, "level \(level), which the modality reads: \(why)") }
                // A header that claims more pixels than the file can hold is refused here as segment refuses it.
                try requirePlausibleSize([image.width, image.height, image.samplesPerPixel], bitsPerSample: image.bitsPerSample,
                                         storedShare: image.storedShare, file: path, what: "level \(level)")
                let size = scale == 1 ? "\(image.width)×\(image.height)"
                    : "\(image.width)×\(image.height) scaled by \(scale) to about \(Int((Double(image.width) * scale).rounded()))×"
                      + "\(Int((Double(image.height) * scale).rounded()))"
                // The tissue share as the modality finds it, for images read whole (larger ones are segmented by regions).
                let pixels = Double(image.width * image.height) * scale * scale
                let sample = pixels > Double(Self.largestTissueShown) ? nil : try he.load(url, label: nil)
                let tissue = sample.map {
                    String(format: "; tissue %.1f%% (method %@)", 100 * Double($0.tissue.count) / Double(max(1, $0.height * $0.width)),
                           he.configuration.tissue.method.rawValue)
                } ?? "; tissue not measured (above 4096² pixels: segment finds it region by region)"
                print("  the modality reads level \(level): \(size) (width×height)\(tissue)")
                print("  pixel size: " + (RasterFile.pixelSize(url).map { "\($0.size) at full resolution (from \($0.source))" }
                                          ?? RasterFile.resolutionNotTaken(url).map { "none: \($0) (segment, overlay and evaluate take --pixel-size)" }
                                          ?? Self.noPixelSize))
                if let warning = sample?.metadata[Sample.warningKey] { print("  warning: \(warning)") }
                if let sample, let refusal = try Self.sampleRefusal(url, sample, prepared) {
                    print("  note: \(refusal)")
                    refused += 1
                }
            } catch {
                sayAfterOutput("\(error)")
                failed += 1
            }
        }
        try requireSamples(failed: failed, refused: refused)
    }
}

extension Inspect {
    /// Each file as another reader (a plugin's) delivers it: its size, channels, tissue and each
    /// channel's range on tissue.
    private func describeSamples(_ source: any ImageSource, _ prepared: PreparedModality) throws {
        var (failed, refused) = (0, 0)
        for path in files {
            do {
                let s = try source.load(fileURL(path), label: nil)
                let (c, plane) = (s.image.shape[0], s.height * s.width)
                let names: [String] = switch s.channels {
                case .bands(let names): names
                case .spectral(let values, let unit): values.map { String(format: "%g", $0) + (unit.isEmpty ? "" : " \(unit)") }
                }
                print("\(path): \(c)×\(s.height)×\(s.width) (C×H×W), channels \(s.channels.summary), tissue "
                      + String(format: "%.1f%%", 100 * Double(s.tissue.count) / Double(max(1, plane))))
                let values = s.image.scalars, inside = s.tissue.pixels
                for k in 0..<min(c, 16) {
                    let onTissue = (0..<plane).lazy.filter { inside[$0] }.map { values[k * plane + $0] }
                    let (lo, hi) = onTissue.reduce((Float.infinity, -Float.infinity)) { (min($0.0, $1), max($0.1, $1)) }
                    print("  \(names[k]): " + (lo <= hi ? String(format: "%g–%g on tissue", lo, hi) : "no tissue"))
                }
                if c > 16 { print("  … \(c - 16) more channels") }
                if let refusal = try Self.sampleRefusal(fileURL(path), s, prepared) {
                    print("  note: \(refusal)")
                    refused += 1
                }
            } catch {
                sayAfterOutput("\(error)")
                failed += 1
            }
        }
        try requireSamples(failed: failed, refused: refused)
    }
}

/// `compseg convert`: spectral image files to the canonical HDF5 layout.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write spectral image files as canonical HDF5 (/spectra H×W×B, /wavenumbers, /mask).",
        discussion: """
            Each FILE becomes OUT/NAME.h5, readable by --modality infrared with its default options. Values \
            are kept as read (NaN too); nm and µm axes become cm⁻¹; /mask is the file's tissue mask or the \
            modality's computed one.
            """)

    @OptionGroup var spectral: SpectralModalityOption
    @Argument(help: "Files to convert.") var files: [String]
    @Option(help: "Folder to write into.") var out: String
    @Flag(help: "Replace files an earlier convert wrote in --out (a file convert did not write, and an input, are never replaced).") var force = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one file") }
        guard !out.isEmpty else { throw ValidationError("--out must name a folder, got an empty path") }
        try requireNoManifest(among: files, hint: "give its images (convert reads image files)")
    }

    func run() throws {
        let (source, info, _) = try spectral.source()
        let (reader, axisWanted) = try spectral.spectralReader(source, info, command: "convert")
        let folder = fileURL(out)
        let targets = files.map { folder.appendingPathComponent(fileURL($0).deletingPathExtension().lastPathComponent + ".h5") }
        let repeated = Dictionary(grouping: targets.map(\.path), by: { $0 }).filter { $1.count > 1 }.keys.sorted()
        var named = Set<String>()  // each file's path standardized once
        if let twice = files.first(where: { !named.insert(fileURL($0).standardizedFileURL.path).inserted }) {
            throw CLIError("\(twice) is given twice; name each file once")
        }
        guard repeated.isEmpty else { throw CLIError("two files would both be written to \(repeated[0]); convert them into separate folders") }
        // What is there already: never an input (converting would write over it), and with --force only convert's own outputs.
        // By device and inode: a symbolic or hard link to an input, or its name in another case on a disk that ignores case, is it.
        let inputs = Set(files.compactMap(fileIdentity))
        for target in targets where entryExists(at: target) {
            if fileIdentity(target.path).map(inputs.contains) ?? false {
                throw CLIError("\(target.path) is one of the files to convert, and converting would write over it; choose another --out")
            }
            if !force { throw CLIError("\(target.path) exists already; pass --force to replace it or choose another --out") }
            guard Self.isConverted(target) else {
                throw CLIError("\(target.path) exists, and convert did not write it (an HDF5 file with the 'source' and 'format' "
                               + "attributes convert writes); --force replaces only convert's own files: move it or choose another --out")
            }
        }
        let made = missingFolders(folder)
        try createWritableFolder(folder)
        var failed = 0, converted = 0  // every file is tried, as inspect does, and each failure named
        // The folders it made where nothing was written (all failed, or stopped first) go again, while empty.
        defer { if converted == 0 { removeEmptyFolders(made) } }
        // One convert into a folder at a time: the temporaries removed below are then never another's, still being written.
        let lock = try FolderLock(folder, holder: "converting into this folder")
        defer { lock.release() }
        // What an interrupted convert of these files left (`.NAME.h5.UUID.tmp`: the write is atomic, its temporary is not removed by a kill).
        let names = targets.map { ".\(temporaryStem($0.lastPathComponent))." }
        for name in (try? folderEntries(folder)) ?? [] where isLeftoverTemporary(name) && names.contains(where: name.hasPrefix) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
        // Ctrl-C: between files, or within one read region by region, which is then left unwritten.
        let stop = InterruptFlag.install()
        func stopped(from path: String) -> ExitCode {
            let left = files.count - converted - failed
            sayAfterOutput("Interrupted: \(converted) of \(files.count) files converted, each whole"
                           + (failed > 0 ? "; \(failed) could not be" : "") + "; \(counted(left, "file")) not written, "
                           + "from \(path) on: convert them with the same --out (or everything again, adding --force)")
            return ExitCode(stop.exitStatus)
        }
        for (path, target) in zip(files, targets) {
            if stop.isSet { throw stopped(from: path) }
            do {
                let warning = try reader.convert(fileURL(path), to: target, axisUnit: axisWanted, replace: force)
                print("\(path) → \(target.path)")
                if let warning { print("  warning: \(warning)") }
                converted += 1
            } catch is Interrupted {
                throw stopped(from: path)
            } catch {
                sayAfterOutput("\(error)")
                failed += 1
            }
        }
        if failed > 0 {
            throw CLIError(failed == files.count ? (files.count == 1 ? "the file could not be converted" : "none of the \(files.count) files could be converted")
                           : "\(failed) of \(files.count) files could not be converted; the others were written")
        }
    }

    /// Whether `url` is a file convert wrote: HDF5 with the root attributes `source` and `format`.
    static func isConverted(_ url: URL) -> Bool {
        guard let file = try? HDF5File(url: url) else { return false }
        return file.hasAttribute("source") && file.hasAttribute("format")
    }
}
