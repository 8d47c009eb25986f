import CompSegIO
import Foundation
import Testing

/// `compseg inspect` and `compseg convert` on instrument files, as a lab runs them.
@Suite struct InspectConvertTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/instruments/\(name)").path
    }

    @Test func inspectDescribesEachFileAndNamesTheUnreadable() throws {
        let files = ["agilent/4_noimage_agg256.dat", "agilent/partial/5_mosaic_agg1024.dmt", "envi/t13_bil_be.dat", "text/map-wide.xyz", "numpy/shared/fortran-f8be.npy"].map(Self.fixture)
        let r = try cli.run(["inspect"] + files)
        // The mosaic's missing tile reads as NaN, which the infrared modality refuses (nonFinite: error), as train would;
        // the small maps hold no tissue by its rule (regions under 16 pixels are specks), which train refuses too, and
        // the Agilent tile's axis (1990–2114 cm⁻¹) has no band in the fingerprint region its crop step keeps.
        #expect(r.status == 1 && r.output.contains("note: the modality's option nonFinite: error refuses NaN and infinite values (the first at row ")
                    && r.output.contains("note: no tissue: training refuses it as a sample")
                    && r.output.contains("5 of 5 files read but cannot be samples of the modality infrared"), "\(r.output)")
        for line in ["4_noimage_agg256.dat: Agilent FPA tile, float32, 8×8×9 (H×W×B), axis 1990.18–2113.6 cm⁻¹, 0 non-finite",
                     "5_mosaic_agg1024.dmt: Agilent FPA mosaic, float32, 8×8×9 (H×W×B)", "144 non-finite values",
                     "note: 1 missing tiles",
                     "t13_bil_be.dat: ENVI, uint32, 3×4×5 (H×W×B), axis 900–950 nm read as 11111.1–10526.3 cm⁻¹, 0 non-finite",
                     "map-wide.xyz: text map (wide), text, 2×3×4",
                     "fortran-f8be.npy: NumPy array, float64, 3×4×5 (H×W×B), axis 1800.5–1000.06 (no unit) read as cm⁻¹", "note: axis from wavenumbers.npy"] {
            #expect(r.output.contains(line), "missing '\(line)' in:\n\(r.output)")
        }
        // A Raman SPC map, as the Raman modality reads it (2×3 spectra: no tissue by its speck rule, so refused as a
        // sample); the infrared one refuses its Raman-shift axis: non-zero.
        let spc = Self.fixture("spc/unfinished-own-axes.spc"), wire = Self.fixture("wire/Si-map-trimmed.wdf")
        let raman = try cli.run(["inspect", "--modality", "raman", spc, wire])
        #expect(raman.status == 1 && raman.output.contains("note: no tissue: training refuses it as a sample") && raman.output.contains("unfinished-own-axes.spc: Galactic SPC, float32, 2×3×4 (H×W×B), axis 500–800 "
                                                            + "Raman shift read as cm⁻¹, 0 non-finite")
                    && raman.output.contains("note: unfinished acquisition: 8 of 9 spectra; kept the 2 complete rows, without the row at W = 0.0")
                    && raman.output.contains("Si-map-trimmed.wdf: Renishaw WiRE, float32, 11×8×23 (H×W×B), axis 957.444–93.4472 Raman shift read as cm⁻¹"),
                "\(raman.output)")
        let infrared = try cli.run(["inspect", spc, wire])
        #expect(infrared.status == 1 && infrared.output.components(separatedBy: "note: the axis is marked as a Raman shift, not cm⁻¹ of absorption").count == 3,
                "\(infrared.output)")
        // A file that reads but that the modality would refuse as a sample (wavelengths without the laser's, for Raman): non-zero.
        let nm = try cli.run(["inspect", "--modality", "raman", Self.fixture("envi/t13_bil_be.dat"), Self.fixture("wire/colmajor.wdf")])
        #expect(nm.status == 1 && nm.output.contains("t13_bil_be.dat: ENVI, uint32") && nm.output.contains("excitationWavelength")
                    && nm.output.contains("2 of 2 files read but cannot be samples of the modality raman (notes above)")
                    && !nm.output.contains("could not be read"), "\(nm.output)")
        let bad = try cli.run(["inspect", Self.fixture("wire/snake.wdf"), Self.fixture("envi/t4_bsq_le.hdr")])
        #expect(bad.status != 0 && bad.output.contains("snake.wdf: WMAP flags") && bad.output.contains("1 of 2 files"), "\(bad.output)")
        #expect(bad.output.contains("t4_bsq_le.hdr: ENVI"), "\(bad.output)")
        // H&E's reader reads images, not spectral files: convert says so, rather than failing on its
        // options; inspect describes the file as an image (here: not one).
        let he = try cli.run(["convert", "--modality", "he", files[0], "--out", FileManager.default.temporaryDirectory.path])
        #expect(he.status != 0 && he.output.contains("--modality he reads RGB H&E images")
                    && he.output.contains("convert takes a spectral modality"), "\(he.output)")
        let heInspect = try cli.run(["inspect", "--modality", "he", files[0]])
        #expect(heInspect.status != 0 && heInspect.output.contains("is neither a TIFF nor a PNG file"), "\(heInspect.output)")
        // A refusal of what was given, not of how the command was typed: no usage text (it named the wrong one).
        #expect(!he.output.contains("Usage:"), "\(he.output)")
        // A lab's manifest is checked whole, naming the file: its reader and its steps.
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        for (text, message) in [("reader: ramann\n", "lab.yaml: reader: unknown modality 'ramann'"),
                                ("reader: raman\npreprocessing:\n  - despik: {}\n", "lab.yaml: preprocessing step 1")] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: folder.path("lab.yaml")))
            let r = try cli.run(["inspect", "--modality", folder.path("lab.yaml"), files[0]])
            #expect(r.status != 0 && r.output.contains(message), "\(r.output)")
        }
    }

    @Test func convertWritesCanonicalHDF5ThatReadsBackTheSame() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let sources = ["envi/t13_bil_be.dat", "numpy/shared/fortran-f8be.npy", "agilent/4_noimage_agg256.dat"].map(Self.fixture)
        // Every pixel tissue: these small maps hold none by the infrared rule's speck removal.
        let lab = folder.path("lab.yaml")
        try Data("reader: infrared\noptions: {tissue: {method: all}}\n".utf8).write(to: URL(fileURLWithPath: lab))
        let r = try cli.run(["convert", "--modality", lab] + sources + ["--out", folder.path("h5")])
        #expect(r.status == 0, "\(r.output)")
        let before = try cli.run(["inspect", "--modality", lab] + sources).output.split(separator: "\n").filter { !$0.hasPrefix("  ") }
        let after = try cli.run(["inspect", "--modality", lab] + ["t13_bil_be", "fortran-f8be", "4_noimage_agg256"].map { folder.path("h5/\($0).h5") })
        #expect(after.status == 0, "\(after.output)")
        let lines = after.output.split(separator: "\n").filter { !$0.hasPrefix("  pixel size: ") }
        #expect(lines.count == 3 && lines.allSatisfy { $0.contains("HDF5 (layout hwb), float32") && $0.contains("(the file's mask)") },
                "\(after.output)")
        // Sizes, axes (nm became cm⁻¹: 1e7/900 … 1e7/950) and non-finite counts survive.
        #expect(lines[0].contains("3×4×5 (H×W×B), axis 11111.1–10526.3 cm⁻¹"), "\(lines[0])")
        #expect(lines[1].contains("3×4×5 (H×W×B), axis 1800.5–1000.06 cm⁻¹, 0 non-finite"), "\(lines[1])")
        #expect(before.count == 3)
        let twice = try cli.run(["convert", sources[0], sources[0], "--out", folder.path("twice")])
        #expect(twice.status == 1 && twice.output.contains("\(sources[0]) is given twice"), "\(twice.output)")
        let again = try cli.run(["convert", sources[0], "--out", folder.path("h5")])
        #expect(again.status != 0 && again.output.contains("pass --force"), "\(again.output)")
        // What a killed convert of this file left goes; a user's hidden file, and another file's temporary, stay.
        let left = [".t13_bil_be.h5.\(UUID().uuidString).tmp", ".Si-map-trimmed.h5.\(UUID().uuidString).tmp", ".draft.tmp"]
        for name in left { try Data("x".utf8).write(to: URL(fileURLWithPath: folder.path("h5/\(name)"))) }
        #expect(try cli.run(["convert", sources[0], "--out", folder.path("h5"), "--force"]).status == 0)
        #expect(left.map { FileManager.default.fileExists(atPath: folder.path("h5/\($0)")) } == [false, true, true])
        // While another process converts into the folder (here: holds its lock), a second convert is refused and removes nothing.
        let held = try FolderLock(URL(fileURLWithPath: folder.path("h5")), holder: "converting into this folder")
        let busy = try cli.run(["convert", sources[0], "--out", folder.path("h5"), "--force"])
        held.release()
        #expect(busy.status == 75 && busy.output.contains("another compseg (PID ") && busy.output.contains(") is converting into this folder now")
                    && FileManager.default.fileExists(atPath: folder.path("h5/\(left[1])")), "\(busy.output)")
        // --force replaces only convert's own files: never a user's file of that name, nor an input (converted into its own folder).
        let converted = folder.path("h5/" + URL(fileURLWithPath: sources[0]).deletingPathExtension().lastPathComponent + ".h5")
        try FileManager.default.moveItem(atPath: converted, toPath: folder.path("own.h5"))
        try Data("a user's notes".utf8).write(to: URL(fileURLWithPath: converted))
        let users = try cli.run(["convert", sources[0], "--out", folder.path("h5"), "--force"])
        #expect(users.status == 1 && users.output.contains("convert did not write it")
                    && (try? String(contentsOfFile: converted, encoding: .utf8)) == "a user's notes", "\(users.output)")
        let own = try cli.run(["convert", folder.path("own.h5"), "--out", folder.url.path, "--force"])
        #expect(own.status == 1 && own.output.contains("is one of the files to convert, and converting would write over it"), "\(own.output)")
        // A hard link to an input is that input too.
        try FileManager.default.createDirectory(atPath: folder.path("linked"), withIntermediateDirectories: true)
        try FileManager.default.linkItem(atPath: folder.path("own.h5"), toPath: folder.path("linked/own.h5"))
        let linked = try cli.run(["convert", folder.path("own.h5"), "--out", folder.path("linked"), "--force"])
        #expect(linked.status == 1 && linked.output.contains("is one of the files to convert"), "\(linked.output)")
        // A file that cannot be read is named, and the files after it are still converted.
        let mixed = try cli.run(["convert", Self.fixture("wire/snake.wdf"), sources[2], "--out", folder.path("mixed")])
        #expect(mixed.status != 0 && mixed.output.contains("snake.wdf: WMAP flags")
                    && mixed.output.contains("1 of 2 files could not be converted"), "\(mixed.output)")
        #expect(FileManager.default.fileExists(atPath: folder.path("mixed/4_noimage_agg256.h5")))
    }

    /// A write that fails (here a file-size limit, as a full disk) is named with the system's
    /// reason; its temporary goes, nothing crashes, and the next file converts.
    @Test func aFailingWriteIsNamedAndTheNextFileConverts() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let made = try cli.run(["phantom", "--spots", "10", "--size", "32", "--bands", "60", "--out", folder.path("data")])
        #expect(made.status == 0, "\(made.output)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        // SIGXFSZ ignored (as the shell passes it on), so that the write fails with EFBIG past 64 KiB.
        process.arguments = ["-c", "trap '' XFSZ; ulimit -f 64; exec \"$0\" \"$@\"", cli.binary.path, "convert",
                             folder.path("data/spot000.h5"), Self.fixture("envi/t13_bil_be.hdr"), "--out", folder.path("out")]
        let pipe = Pipe()
        (process.standardOutput, process.standardError) = (pipe, pipe)
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1 && output.contains("\(folder.path("out/spot000.h5")): cannot be ")
                    && output.contains("File too large") && output.contains("1 of 2 files could not be converted"), "\(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path("out")) == ["t13_bil_be.h5"])
        #expect(try HDF5File(url: URL(fileURLWithPath: folder.path("out/t13_bil_be.h5"))).shape(of: "/spectra") == [3, 4, 5])
    }

    /// Ctrl-C stops convert between files: those written are whole, and it says how many and where to go on.
    @Test func anInterruptedConvertSaysWhatItWrote() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let lab = folder.path("lab.yaml")
        try Data("reader: raman\noptions: {tissue: {method: all}}\n".utf8).write(to: URL(fileURLWithPath: lab))
        let sources = try (0..<400).map { i in
            let link = folder.path(String(format: "map%03d.wdf", i))
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: Self.fixture("wire/Si-map-trimmed.wdf"))
            return link
        }
        let out = folder.path("h5")
        let (process, pipe) = try cli.start(["convert", "--modality", lab] + sources + ["--out", out])
        let written = { (try? FileManager.default.contentsOfDirectory(atPath: out))?.filter { $0.hasSuffix(".h5") } ?? [] }
        let deadline = Date().addingTimeInterval(120)
        while written().isEmpty && process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
        process.interrupt()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let converted = output.split(separator: "\n").filter { $0.contains(" → ") }.count
        #expect(process.terminationStatus == 130 && output.contains("Interrupted: \(converted) of 400 files converted, each whole; "
                                                                     + "\(400 - converted) files not written, from \(sources[converted]) on"), "\(output)")
        // Every file it named is there and whole; nothing else, no temporary.
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted()
                    == (0..<converted).map { String(format: "map%03d.h5", $0) }, "\(written())")
        for name in written() { #expect(try HDF5File(url: URL(fileURLWithPath: out + "/" + name)).hasAttribute("source"), "\(name)") }
    }

    /// A file without tissue (which train refuses) fails inspect, with a note; a mask dataset named
    /// but missing (so the mask is computed) is named by inspect and convert, as train warns of it.
    @Test func inspectAndConvertSayWhatTrainWouldWarnOfOrRefuse() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        _ = try cli.phantom(folder, size: 8, bands: 20, seed: 1)  // 16 or more: the infrared modality's PCA takes 16 components
        let original = try HDF5File(url: URL(fileURLWithPath: folder.path("data/spot001.h5")))
        let (cube, axis, mask) = (try original.readFloats("/spectra"), try original.readFloats("/wavenumbers"), try original.readFloats("/mask"))
        let writer = try HDF5Writer(url: URL(fileURLWithPath: folder.path("blank.h5")))
        try writer.write("/spectra", shape: cube.shape, values: cube.values)
        try writer.write("/wavenumbers", shape: axis.shape, values: axis.values)
        try writer.write("/mask", shape: mask.shape, values: [UInt8](repeating: 0, count: mask.values.count))
        try writer.close()
        let blank = try cli.run(["inspect", folder.path("blank.h5"), folder.path("data/spot001.h5")])
        #expect(blank.status == 1 && blank.output.contains("tissue 0.0% (the file's mask)")
                    && blank.output.contains("note: no tissue: training refuses it as a sample")
                    && blank.output.contains("1 of 2 files read but cannot be samples of the modality infrared"), "\(blank.output)")
        try Data("reader: infrared\noptions: {mask: /tissue}\n".utf8).write(to: URL(fileURLWithPath: folder.path("lab.yaml")))
        let misspelt = ["--modality", folder.path("lab.yaml"), folder.path("data/spot001.h5")]
        let inspected = try cli.run(["inspect"] + misspelt)
        #expect(inspected.status == 0 && inspected.output.contains("(computed)")
                    && inspected.output.contains("note: the mask dataset '/tissue' that the modality names is not in the file"),
                "\(inspected.output)")
        let converted = try cli.run(["convert"] + misspelt + ["--out", folder.path("h5")])
        #expect(converted.status == 0 && converted.output.contains("warning: the mask dataset '/tissue' that the modality names is not in the file"),
                "\(converted.output)")
        // The he reader's files alike: a fully transparent PNG holds no tissue.
        try PNGImage(width: 6, height: 6, channels: 4, pixels: [UInt8](repeating: 0, count: 144)).write(to: URL(fileURLWithPath: folder.path("clear.png")))
        let clear = try cli.run(["inspect", "--modality", "he", folder.path("clear.png")])
        #expect(clear.status == 1 && clear.output.contains("note: no tissue: training refuses it as a sample"), "\(clear.output)")
        // A PNG beside an ENVI header of its stem is a PNG, not that header's data.
        try Data("ENVI\nsamples = 6\nlines = 6\nbands = 1\ndata type = 1\nbyte order = 0\n".utf8).write(to: URL(fileURLWithPath: folder.path("clear.hdr")))
        let beside = try cli.run(["inspect", folder.path("clear.png")])
        #expect(beside.status == 1 && beside.output.contains("clear.png: is a PNG image, not a spectral image"), "\(beside.output)")
        // A convert that writes nothing leaves no folder it made; an empty --out is refused.
        let none = try cli.run(["convert", folder.path("clear.png"), "--out", folder.path("never")])
        #expect(none.status == 1 && !FileManager.default.fileExists(atPath: folder.path("never")), "\(none.output)")
        let empty = try cli.run(["convert", folder.path("data/spot001.h5"), "--out", ""])
        #expect(empty.status == 64 && empty.output.contains("--out must name a folder, got an empty path"), "\(empty.output)")
    }

    /// A cube larger than the process may take (ulimit -v) is refused before it is allocated, not
    /// ended by the allocation (a 5.6 kB file declaring 1200×1200×450 values, never written).
    @Test func aCubeBeyondTheAddressSpaceLimitIsRefused() throws {
        let process = Process(), pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "ulimit -v 3000000 && exec \"$0\" inspect \"$1\"", cli.binary.path,
                             Self.fixture("../infrared/large_unwritten.h5")]
        (process.standardOutput, process.standardError) = (pipe, pipe)
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 1
                    && output.contains("large_unwritten.h5: dataset '/spectra': reading 1200×1200×450 values (4 bytes each, and copies) "
                                       + "needs 10 GB of memory, more than this process may take (ulimit -v) 3.1 GB"), "\(output)")
    }

    /// A file a step of the modality refuses (its axis short of resample's range, fewer bands than
    /// PCA's components) fails inspect with the step's reason, as train refuses it; one the steps take passes. The maps hold more
    /// tissue pixels than a pixelwise chain is tried on (1024), so the probe is what is tested.
    @Test func inspectAppliesTheModalitysSteps() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        func write(_ name: String, from: Float, to: Float) throws {
            let (h, w, b) = (40, 41, 30)
            let writer = try HDF5Writer(url: URL(fileURLWithPath: folder.path(name)))
            try writer.write("/spectra", shape: [h, w, b], values: (0..<(h * w * b)).map { Float(1 + ($0 * 7919) % 97) / 10 })
            try writer.write("/wavenumbers", shape: [b], values: (0..<b).map { from + (to - from) * Float($0) / Float(b - 1) })
            try writer.write("/mask", shape: [h, w], values: [UInt8](repeating: 1, count: h * w))
            try writer.close()
        }
        try write("short.h5", from: 500, to: 1700)
        try write("whole.h5", from: 350, to: 1850)
        try Data("reader: raman\npreprocessing:\n  - resample: {from: 400, to: 1800, count: 50}\n  - pca: {components: 8}\n".utf8)
            .write(to: URL(fileURLWithPath: folder.path("lab.yaml")))
        let r = try cli.run(["inspect", "--modality", folder.path("lab.yaml"), folder.path("short.h5"), folder.path("whole.h5")])
        #expect(r.status == 1 && r.output.contains("note: a step of the modality refuses it as a sample: step 'resample': target point 400.0 lies outside")
                    && r.output.contains("1 of 2 files read but cannot be samples of the modality \(folder.path("lab.yaml"))"), "\(r.output)")
        let whole = try cli.run(["inspect", "--modality", folder.path("lab.yaml"), folder.path("whole.h5")])
        #expect(whole.status == 0 && !whole.output.contains("note:"), "\(whole.output)")
        // More PCA components than the file has bands: a setting the file cannot meet, noted as train refuses it.
        try Data("reader: raman\npreprocessing:\n  - pca: {components: 40}\n".utf8).write(to: URL(fileURLWithPath: folder.path("wide.yaml")))
        let wide = try cli.run(["inspect", "--modality", folder.path("wide.yaml"), folder.path("whole.h5")])
        #expect(wide.status == 1 && wide.output.contains("note: a step of the modality cannot be fitted to it: ")
                    && wide.output.contains("'pca': components is 40, and the spectra have 30 bands"), "\(wide.output)")
    }
}
