import CompSegTestSupport
import Foundation
import Testing
@testable import CompSegIO

/// What an independent reader found in a fixture (`Tests/Fixtures/instruments/expected.json`,
/// written by `tools/make_instrument_fixtures.py`): the cube, or the words its refusal must hold.
struct ExpectedCube: Decodable {
    var format: String?
    var height, width, bands: Int?
    var axis: [Double]?
    var axis_unit: String?
    var notes_contain: [String]?
    /// Band-major; nil for NaN.
    var values: [Double?]?
    /// [band, row, column, value], with `sum` of the finite values, for the larger map.
    var samples: [[Double]]?
    var sum: Double?
    var error_contains: [String]?
    var error_line: Int?

    static let all: [String: ExpectedCube] = {
        let url = fixturesDirectory.appendingPathComponent("instruments/expected.json")
        // JSONDecoder parses numbers exactly; JSONSerialization on Linux rounds some a few ulp off.
        return (try? JSONDecoder().decode([String: ExpectedCube].self, from: Data(contentsOf: url))) ?? [:]
    }()
}

func instrumentFixture(_ name: String) -> URL { fixturesDirectory.appendingPathComponent("instruments/\(name)") }

@Suite struct InstrumentTests {
    static let files = ExpectedCube.all.keys.sorted()

    @Test func everyFixtureHasItsExpectation() {
        #expect(Self.files.count >= 40)
        #expect(Self.files.contains("agilent/4_noimage_agg256.dat") && Self.files.contains("wire/Si-map-trimmed.wdf"))
        #expect(Self.files.contains("spc/map-float.spc") && Self.files.contains("spc/unfinished-own-axes.spc"))
        #expect(Self.files.contains("fsm/spotlight-trimmed.fsm") && Self.files.contains("fsm/unfinished.fsm"))
    }

    /// A Spotlight image in %T reads as absorbance; its one value at or below 0 %T (row 1, column
    /// 2, band 20 of the trimmed file) takes its spectrum's smallest positive one's, the largest.
    @Test func fsmTransmittanceBecomesAbsorbance() throws {
        let url = instrumentFixture("fsm/spotlight-trimmed.fsm")
        #expect(try InstrumentFormat.detect(url) == .fsm)
        let cube = try InstrumentFormat.read(url)
        #expect([cube.height, cube.width, cube.bands] == [Int]([4, 5, 21]) && cube.axis.first == 3978 && cube.axis.last == 778)
        #expect(cube.values.allSatisfy { $0.isFinite && $0 > -0.5 && $0 < 3 })
        let spectrum = (0..<21).map { cube[band: $0, y: 1, x: 2] }
        #expect(spectrum[20] == spectrum.max() && spectrum.filter { $0 == spectrum[20] }.count == 2, "\(spectrum)")
        let regions = try FSMImage(url)
        #expect(try regions.region(y: 1, x: 2, height: 3, width: 2) == (0..<21).flatMap { k in
            (1..<4).flatMap { y in (2..<4).map { x in cube[band: k, y: y, x: x] } }
        })
        #expect(cube.warning == nil)
        // Units come from block 5100's labels: a file without them is read with a warning the commands show.
        let bare = try InstrumentFormat.read(instrumentFixture("fsm/no-labels.fsm"))
        #expect(bare.warning == "it names no axis unit: read as cm⁻¹; it names no unit for its values: read as absorbance")
        #expect(try InstrumentFormat.read(instrumentFixture("fsm/absorbance.fsm")).warning == nil)
        let named = FileManager.default.temporaryDirectory.appendingPathComponent("fsm-\(UUID().uuidString).dat")
        defer { try? FileManager.default.removeItem(at: named) }
        try FileManager.default.copyItem(at: url, to: named)
        #expect(try InstrumentFormat.detect(named) == .fsm, "by its PEPE signature, whatever its name")
    }

    /// Every file reads to exactly what the independent reader found (no tolerance: every value
    /// is a float32 and every axis value a float64 written with round-trip digits), or is
    /// refused with the message it must give.
    @Test(arguments: files) func readsWhatTheIndependentReaderFound(_ name: String) throws {
        let expected = try #require(ExpectedCube.all[name])
        let url = instrumentFixture(name)
        if let words = expected.error_contains {
            do {
                let cube = try InstrumentFormat.read(url)
                Issue.record("\(name) was read (\(cube.height)×\(cube.width)×\(cube.bands)) but must be refused")
            } catch let error as IOError {
                #expect(words.allSatisfy(error.message.contains), "\(error)")
                if let line = expected.error_line { #expect(error.message.hasPrefix("line \(line):"), "\(error)") }
                #expect(error.file.hasSuffix(url.lastPathComponent), "\(error)")
            }
            return
        }
        let cube = try InstrumentFormat.read(url)
        #expect(cube.format == expected.format)
        #expect([cube.height, cube.width, cube.bands] == [expected.height, expected.width, expected.bands])
        #expect(cube.axis == expected.axis && cube.axisUnit == expected.axis_unit)
        for fragment in expected.notes_contain ?? [] {
            #expect(cube.notes.contains { $0.contains(fragment) }, "notes \(cube.notes) lack '\(fragment)'")
        }
        if let values = expected.values {
            #expect(values.count == cube.values.count)
            let mismatch = zip(values, cube.values).enumerated().first { _, pair in
                pair.0.map { Float($0) != pair.1 } ?? !pair.1.isNaN
            }
            #expect(mismatch == nil, "first mismatch at \(mismatch?.offset ?? -1): \(String(describing: mismatch?.element))")
        }
        for s in expected.samples ?? [] {
            #expect(cube[band: Int(s[0]), y: Int(s[1]), x: Int(s[2])] == Float(s[3]), "sample \(s)")
        }
        if let sum = expected.sum {
            let total = cube.values.reduce(0.0) { $1.isFinite ? $0 + Double($1) : $0 }
            #expect(Swift.abs(total - sum) <= 1e-9 * Swift.abs(sum), "sum \(total) vs \(sum)")  // summation order only
        }
    }

    /// The known values the formats issue names, and agilent-format's orientation (data[row, column, band]).
    @Test func agilentKnownValues() throws {
        let tile = try InstrumentFormat.read(instrumentFixture("agilent/4_noimage_agg256.dat"))
        #expect([tile.height, tile.width, tile.bands] == [Int]([8, 8, 9]))
        #expect(tile[band: 1, y: 0, x: 1] == 1.27181053 && tile.axis[0] == 1990.178226470947)
        #expect(try InstrumentFormat.read(instrumentFixture("agilent/4_noimage_agg256.bsp")).values == tile.values)
        let mosaic = try InstrumentFormat.read(instrumentFixture("agilent/5_mosaic_agg1024.dmt"))
        #expect([mosaic.height, mosaic.width, mosaic.bands] == [Int]([8, 4, 9]))
        #expect(try InstrumentFormat.read(instrumentFixture("agilent/5_Mosaic_agg1024_0000_0001.dmd")).values == mosaic.values)
        // Resolutions Pro's own ENVI export of the same mosaic holds the same numbers.
        #expect(try SpectralCube.readENVI(instrumentFixture("agilent/5_mosaic_agg1024.hdr")).values == mosaic.values)
        let partial = try InstrumentFormat.read(instrumentFixture("agilent/partial/5_mosaic_agg1024.dmt"))
        #expect(partial[band: 5, y: 0, x: 4].isNaN && partial.notes.contains { $0.contains("missing") })
    }

    @Test func detectionByExtensionAndContent() throws {
        #expect(try InstrumentFormat.detect(instrumentFixture("agilent/4_noimage_agg256.dat")) == .agilentTile)
        #expect(try InstrumentFormat.detect(instrumentFixture("agilent/5_Mosaic_agg1024.dat")) == .envi)  // .hdr beside, no .bsp
        #expect(try InstrumentFormat.detect(instrumentFixture("envi/t3_bip_le")) == .envi)  // no extension
        #expect(try InstrumentFormat.detect(instrumentFixture("wire/colmajor.wdf")) == .wire)
        #expect(try InstrumentFormat.detect(instrumentFixture("spc/map-float.spc")) == .spc)
        #expect(try InstrumentFormat.detect(instrumentFixture("text/map-wide.xyz")) == .textMap)
        #expect(try InstrumentFormat.detect(fixturesDirectory.appendingPathComponent("infrared/matlab.mat")) == .hdf5)
        let (dir, remove) = try temporaryFolder("seq")
        defer { remove() }
        for ext in ["bsp", "seq"] {
            try FileManager.default.copyItem(at: instrumentFixture("agilent/4_noimage_agg256.\(ext == "seq" ? "dat" : ext)"),
                                             to: dir.appendingPathComponent("tile.\(ext)"))
        }
        expectIOError(dir.appendingPathComponent("tile.seq"), containing: "interferograms") {
            _ = try InstrumentFormat.read(dir.appendingPathComponent("tile.seq"))
        }
        // An RGB image given to a spectral reader: named, with the modality that reads it.
        for name in ["rgb8_deflate_strips.tif", "rgb8.png"] {
            let file = fixturesDirectory.appendingPathComponent("raster/\(name)")
            expectIOError(file, containing: "is a \(name.hasSuffix("png") ? "PNG" : "TIFF") image, not a spectral image this program reads "
                          + "(HDF5, ENVI, Agilent FPA, Renishaw WiRE, Galactic SPC, PerkinElmer FSM, NumPy .npy or a text map); RGB (H&E) images are read by the he modality (--modality he where a command takes it; a trained run reads the files it was trained on)") {
                _ = try InstrumentFormat.detect(file)
            }
        }
        // Raw ENVI data whose first values read as a TIFF's signature (int16 18761, 42: "II*\0") is still ENVI;
        // a PNG beside a header of its stem is a PNG.
        try Data("ENVI\nsamples = 2\nlines = 2\nbands = 1\ndata type = 2\ninterleave = bsq\nbyte order = 0\n".utf8)
            .write(to: dir.appendingPathComponent("cube.hdr"))
        try Data([0x49, 0x49, 0x2A, 0x00, 1, 0, 2, 0]).write(to: dir.appendingPathComponent("cube.img"))
        #expect(try InstrumentFormat.detect(dir.appendingPathComponent("cube.img")) == .envi)
        #expect(try SpectralCube.readENVI(dir.appendingPathComponent("cube.img")).values == [18761, 42, 1, 2])
        try FileManager.default.copyItem(at: dir.appendingPathComponent("cube.hdr"), to: dir.appendingPathComponent("picture.hdr"))
        try FileManager.default.copyItem(at: fixturesDirectory.appendingPathComponent("raster/rgb8.png"), to: dir.appendingPathComponent("picture.png"))
        expectIOError(dir.appendingPathComponent("picture.png"), containing: "is a PNG image, not a spectral image") {
            _ = try InstrumentFormat.detect(dir.appendingPathComponent("picture.png"))
        }
    }

    /// A file cut short anywhere is refused with an error naming it; none crashes.
    @Test(arguments: ["agilent/4_noimage_agg256.dat", "agilent/5_Mosaic_agg1024_0000_0000.dmd", "wire/Si-map-trimmed.wdf",
                      "wire/colmajor.wdf", "envi/special.img", "envi/t14_bip_be.bip", "spc/map-int32-xvals.spc"])
    func truncatedFilesAreRefused(_ name: String) throws {
        let (dir, remove) = try temporaryFolder("cut")
        defer { remove() }
        let source = instrumentFixture(name)
        let folder = source.deletingLastPathComponent()
        for sibling in try FileManager.default.contentsOfDirectory(atPath: folder.path) where !sibling.hasPrefix("LICENSE") {
            var isFolder: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: folder.appendingPathComponent(sibling).path, isDirectory: &isFolder)
            if !isFolder.boolValue {
                try FileManager.default.copyItem(at: folder.appendingPathComponent(sibling), to: dir.appendingPathComponent(sibling))
            }
        }
        let bytes = try Data(contentsOf: source)
        let target = dir.appendingPathComponent(source.lastPathComponent)
        for length in Set([0, 1, 15, 16, 100, bytes.count / 3, bytes.count / 2, bytes.count - 5, bytes.count - 1]) {
            try bytes.prefix(length).write(to: target)
            do {
                _ = try InstrumentFormat.read(target)
                Issue.record("\(name) cut to \(length) of \(bytes.count) bytes was read")
            } catch let error as IOError {
                #expect(error.file.hasPrefix(dir.path), "\(error)")
            }
        }
    }

    /// An ENVI header whose `wavelength = {…}` list runs one value a line (as instruments write
    /// thousands of bands) reads whole: each line is looked at once (32,000 lines took 40 s when the
    /// growing value was searched for its `}` after every line; 0.14 s now, measured with `inspect`).
    @Test func enviListsOfManyLinesRead() throws {
        let (dir, remove) = try temporaryFolder("long")
        defer { remove() }
        let n = 32_000
        let list = (0..<n).map { "\(400 + $0)" }.joined(separator: ",\n")
        try "ENVI\nsamples = 1\nlines = 1\nbands = \(n)\ndata type = 4\ninterleave = bsq\nbyte order = 0\nwavelength = {\n\(list)}\n"
            .write(to: dir.appendingPathComponent("long.hdr"), atomically: true, encoding: .utf8)
        try Data((0..<n).flatMap { withUnsafeBytes(of: Float($0).bitPattern.littleEndian, Array.init) }).write(to: dir.appendingPathComponent("long.img"))
        let cube = try SpectralCube.readENVI(dir.appendingPathComponent("long.hdr"))
        #expect(cube.bands == n && cube.axis.first == 400 && cube.axis.last == Double(400 + n - 1) && cube.values.last == Float(n - 1))
    }

    /// `data ignore value` matches float32 samples as the header writes their value: the
    /// float32 nearest it (FLT_MAX printed to 12 digits, 0.1 to 9), as ENVI compares in the band's type.
    @Test func enviIgnoreValueMatchesInTheStoredType() throws {
        let (dir, remove) = try temporaryFolder("ignore")
        defer { remove() }
        for (text, sentinel) in [("-3.40282346639e+38", -Float.greatestFiniteMagnitude), ("0.100000001", Float(0.1)), ("-9999", -9999)] {
            let values: [Float] = [1, sentinel, 2, sentinel, 3, 4]
            try "ENVI\nsamples = 3\nlines = 2\nbands = 1\ndata type = 4\ninterleave = bsq\nbyte order = 0\ndata ignore value = \(text)\n"
                .write(to: dir.appendingPathComponent("i.hdr"), atomically: true, encoding: .utf8)
            try values.withUnsafeBytes { Data($0) }.write(to: dir.appendingPathComponent("i.img"))
            let read = try SpectralCube.readENVI(dir.appendingPathComponent("i.hdr")).values
            #expect(read.map(\.isNaN) == [false, true, false, true, false, false], "\(text): \(read)")
        }
        // A folder where the data file belongs is said to be one.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("i.img"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("i.img"), withIntermediateDirectories: false)
        expectIOError(dir.appendingPathComponent("i.hdr"), containing: "no data file beside this ENVI header (looked for i with extension "
                      + "img, dat, raw, bsq, bil, bip, seq or none); i.img is a folder, not a file") {
            _ = try SpectralCube.readENVI(dir.appendingPathComponent("i.hdr"))
        }
    }

    /// A compressed data file and wavelengths written with decimal commas are named as such,
    /// not as a size or count that does not match.
    @Test func enviCompressionAndDecimalCommasAreNamed() throws {
        let (dir, remove) = try temporaryFolder("envi-words")
        defer { remove() }
        let hdr = dir.appendingPathComponent("c.hdr")
        try [Float](repeating: 1, count: 6).withUnsafeBytes { Data($0) }.write(to: dir.appendingPathComponent("c.img"))
        let common = "ENVI\nsamples = 3\nlines = 1\nbands = 2\ndata type = 4\ninterleave = bsq\nbyte order = 0\n"
        try (common + "file compression = 1\n").write(to: hdr, atomically: true, encoding: .utf8)
        expectIOError(hdr, containing: "key 'file compression': is 1: the data file is compressed, which is not read") {
            _ = try SpectralCube.readENVI(hdr)
        }
        // Two files beside the header that could be its data: the one read is noted.
        try [Float](repeating: 2, count: 6).withUnsafeBytes { Data($0) }.write(to: dir.appendingPathComponent("c.dat"))
        try common.write(to: hdr, atomically: true, encoding: .utf8)
        #expect(try SpectralCube.readENVI(hdr).notes.contains { $0.hasPrefix("c.dat also lies beside the header; c.img is read as its data") })
        // A data file in capitals is that one file, not a second one beside it.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("c.dat"))
        try FileManager.default.moveItem(at: dir.appendingPathComponent("c.img"), to: dir.appendingPathComponent("c.IMG"))
        #expect(try SpectralCube.readENVI(hdr).notes.allSatisfy { !$0.contains("also lies beside") })
        for list in ["{400,0; 404,5}", "{400,0, 404,5}", "{400;5}"] {
            try (common + "wavelength = \(list)\n").write(to: hdr, atomically: true, encoding: .utf8)
            expectIOError(hdr, containing: "look written with decimal commas") { _ = try SpectralCube.readENVI(hdr) }
        }
    }

    /// Sizes a header claims but the file cannot hold are refused before anything is allocated.
    @Test func absurdSizesAreRefusedWithoutAllocating() throws {
        let (dir, remove) = try temporaryFolder("absurd")
        defer { remove() }
        // ENVI: a header that claims a terabyte.
        let header = try String(contentsOf: instrumentFixture("envi/t4_bsq_le.hdr"), encoding: .utf8)
            .replacingOccurrences(of: "samples = 4", with: "samples = 1000000000000")
        try header.write(to: dir.appendingPathComponent("big.hdr"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: instrumentFixture("envi/t4_bsq_le.img"), to: dir.appendingPathComponent("big.img"))
        expectIOError(dir.appendingPathComponent("big.img"), containing: "samples") {
            _ = try SpectralCube.readENVI(dir.appendingPathComponent("big.hdr"))
        }
        // WiRE: the DATA block's size set to 2⁶⁴−1, and the map flags set to snake.
        let wdf = try Data(contentsOf: instrumentFixture("wire/colmajor.wdf"))
        func block(_ id: String) throws -> Int {
            var offset = 0
            while offset + 16 <= wdf.count {
                if wdf[offset..<offset + 4] == Data(id.utf8) { return offset }
                offset += Int(wdf[offset + 8..<offset + 16].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            }
            throw FixtureError("no \(id) block")
        }
        var huge = wdf
        huge.replaceSubrange(try block("DATA") + 8..<block("DATA") + 16, with: [UInt8](repeating: 0xFF, count: 8))
        try huge.write(to: dir.appendingPathComponent("huge.wdf"))
        expectIOError(dir.appendingPathComponent("huge.wdf"), containing: "DATA") {
            _ = try SpectralCube.readWiRE(dir.appendingPathComponent("huge.wdf"))
        }
        // NumPy: a shape of 10¹⁸ elements (the product overflows with the type's size), and one of a terabyte.
        let npy = try Data(contentsOf: instrumentFixture("numpy/cube-f4.npy"))
        for (name, shape) in [("overflow", "(1000000000, 1000000000, 1000000000)"), ("tera", "(1000000, 1000000, 1)")] {
            // The header text is bytes 10..<128 (version 1): rewritten at the same length, the data still start at 128.
            let dict = String(decoding: npy[10..<128], as: UTF8.self).replacingOccurrences(of: "(3, 4, 5)", with: shape)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let header = dict.padding(toLength: 117, withPad: " ", startingAt: 0) + "\n"
            try (npy.prefix(10) + Data(header.utf8) + npy.dropFirst(128)).write(to: dir.appendingPathComponent("\(name).npy"))
            expectIOError(dir.appendingPathComponent("\(name).npy"), containing: "needs") {
                _ = try SpectralCube.readNumPy(dir.appendingPathComponent("\(name).npy"))
            }
        }
        // NumPy: a 2-D table of pixels × bands, its axis beside it, is named as one (it would read as one band).
        let tableDict = String(decoding: npy[10..<128], as: UTF8.self).replacingOccurrences(of: "(3, 4, 5)", with: "(12, 5)")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try (npy.prefix(10) + Data((tableDict.padding(toLength: 117, withPad: " ", startingAt: 0) + "\n").utf8) + npy.dropFirst(128))
            .write(to: dir.appendingPathComponent("table.npy"))
        try FileManager.default.copyItem(at: instrumentFixture("numpy/cube-f4_wavenumbers.npy"), to: dir.appendingPathComponent("table_wavenumbers.npy"))
        expectIOError(dir.appendingPathComponent("table.npy"), containing: "this file's 2-D array (12×5) reads as one band of 12×5 pixels") {
            _ = try SpectralCube.readNumPy(dir.appendingPathComponent("table.npy"))
        }
        // NumPy: bytes after the array are noted, as ENVI notes them, and not read.
        try (npy + Data([1, 2, 3])).write(to: dir.appendingPathComponent("tail.npy"))
        let tail = try SpectralCube.readNumPy(dir.appendingPathComponent("tail.npy"))
        let plain = try SpectralCube.readNumPy(instrumentFixture("numpy/cube-f4.npy"))
        #expect(tail.notes.contains("3 bytes after the array ignored") && tail.values == plain.values)
        // SPC: 2³¹−1 subfiles or points, and −1 of each; spectra scattered, each at its own Z and W (a raster of n² places).
        let spc = try Data(contentsOf: instrumentFixture("spc/map-float.spc"))
        for (name, offset, value, message) in [("subfiles", 24, [0xFF, 0xFF, 0xFF, 0x7F], "truncated"), ("points", 4, [0xFF, 0xFF, 0xFF, 0x7F], "truncated"),
                                               ("no-subfiles", 24, [0xFF, 0xFF, 0xFF, 0xFF], "fnsub (byte 24) is -1; expected at least one subfile"),
                                               ("no-points", 4, [0xFF, 0xFF, 0xFF, 0xFF], "holds spectra of -1 points (fnpts, byte 4)")] as [(String, Int, [UInt8], String)] {
            var big = spc
            big.replaceSubrange(offset..<offset + 4, with: value)
            try big.write(to: dir.appendingPathComponent("\(name).spc"))
            expectIOError(dir.appendingPathComponent("\(name).spc"), containing: message) {
                _ = try SpectralCube.readSPC(dir.appendingPathComponent("\(name).spc"))
            }
        }
        var scattered = spc
        for i in 0..<12 {  // 12 subfiles of 32 + 8 × 4 bytes from byte 512: subtime at +4, subwlevel at +24
            for field in [4, 24] {
                withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { scattered.replaceSubrange(512 + 64 * i + field..<512 + 64 * i + field + 4, with: $0) }
            }
        }
        try scattered.write(to: dir.appendingPathComponent("scattered.spc"))
        expectIOError(dir.appendingPathComponent("scattered.spc"), containing: "12 spectra lie at 12 Z and 12 W values") {
            _ = try SpectralCube.readSPC(dir.appendingPathComponent("scattered.spc"))
        }
        var snake = wdf
        snake[try block("WMAP") + 16] = 4
        try snake.write(to: dir.appendingPathComponent("snake.wdf"))
        expectIOError(dir.appendingPathComponent("snake.wdf"), containing: "snake") {
            _ = try SpectralCube.readWiRE(dir.appendingPathComponent("snake.wdf"))
        }
    }

    /// A header key with a value the reader does not know is refused naming the key and the value;
    /// a WiRE file without its DATA block names the block.
    @Test func unknownValuesAndMissingBlocksAreNamed() throws {
        let (dir, remove) = try temporaryFolder("keys")
        defer { remove() }
        let header = try String(contentsOf: instrumentFixture("envi/t4_bsq_le.hdr"), encoding: .utf8)
        try FileManager.default.copyItem(at: instrumentFixture("envi/t4_bsq_le.img"), to: dir.appendingPathComponent("x.img"))
        for (from, to, words) in [("interleave = bsq", "interleave = bsx", ["interleave", "bsx"]),
                                  ("data type = 4", "data type = 6", ["data type", "6"]),
                                  ("byte order = 0", "byte order = 2", ["byte order", "2"]),
                                  // float32 values declared 16- or 8-bit: the file holds 2 or 4 times the image.
                                  ("data type = 4", "data type = 2", ["exactly 2 times", "'data type' is most likely wrong: 3 (int32), 4 (float32), 13 (uint32)"]),
                                  ("data type = 4", "data type = 1", ["exactly 4 times", "3 (int32), 4 (float32), 13 (uint32) would fill"]),
                                  ("bands = 5", "bands = 6", ["bands 6"]),
                                  ("samples = 4", "samples = 4\u{0}", ["holds a NUL byte", "not a text ENVI header"]),
                                  ("samples = 4", "samples = 4\nsamples = 5", ["key 'samples' is given twice, as '4' and then '5'"])] {
            #expect(header.contains(from), "\(from)")
            try header.replacingOccurrences(of: from, with: to).write(to: dir.appendingPathComponent("x.hdr"), atomically: true,
                                                                     encoding: .utf8)
            do {
                _ = try SpectralCube.readENVI(dir.appendingPathComponent("x.hdr"))
                Issue.record("'\(to)' was accepted")
            } catch let error as IOError {
                #expect(words.allSatisfy(error.description.contains) && error.file.hasPrefix(dir.path), "\(error)")
            }
        }
        // The colmajor map without its DATA block (the block's id renamed, so the chain stays whole).
        var wdf = try Data(contentsOf: instrumentFixture("wire/colmajor.wdf"))
        let range = try #require(wdf.range(of: Data("DATA".utf8)))
        wdf.replaceSubrange(range, with: Data("XXXX".utf8))
        try wdf.write(to: dir.appendingPathComponent("nodata.wdf"))
        expectIOError(dir.appendingPathComponent("nodata.wdf"), containing: "DATA") {
            _ = try SpectralCube.readWiRE(dir.appendingPathComponent("nodata.wdf"))
        }
    }
}
