import Foundation
import Testing
@testable import CompSegIO

@Suite struct HDF5Tests {
    let cube = ioFixture("cube.h5")

    @Test func listsDatasetsRecursively() throws {
        let file = try HDF5File(url: cube)
        #expect(try file.datasetNames() == ["/data/intensities", "/mask", "/spectra", "/wavenumbers"])
        #expect(try file.shape(of: "/spectra") == [4, 5, 6])
        #expect(try file.shape(of: "data/intensities") == [2, 3])
    }

    /// A file a writer holds HDF5's lock on is said to be locked, not damaged; the lock gone, it reads.
    @Test(.disabled(if: ProcessInfo.processInfo.environment["HDF5_USE_FILE_LOCKING"] != nil, "HDF5_USE_FILE_LOCKING is set: HDF5 takes no lock"))
    func aFileAWriterLocksIsSaidToBeLocked() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-locked-\(UUID()).h5")
        try FileManager.default.copyItem(at: cube, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        let writer = open(copy.path, O_RDWR)
        #expect(writer >= 0 && flock(writer, LOCK_EX | LOCK_NB) == 0)
        do {
            _ = try HDF5File(url: copy)
            Issue.record("a locked file was opened")
        } catch {
            #expect("\(error)".contains("is locked by a program writing it (HDF5's file lock)"), "\(error)")
        }
        close(writer)
        #expect(try HDF5File(url: copy).datasetNames().contains("/spectra"))
    }

    @Test func readsWhatH5pyWrote() throws {
        let file = try HDF5File(url: cube)
        let spectra = try file.readFloats("/spectra")
        #expect(spectra.shape == [4, 5, 6])
        var expected: [Float] = []
        for y in 0..<4 { for x in 0..<5 { for b in 0..<6 { expected.append(Float(x + 10 * y + 100 * b) + 0.5) } } }
        #expect(spectra.values == expected)
        #expect(try file.readFloats("/wavenumbers").values == [1800.5, 1700.5, 1600.5, 1500.5, 1400.5, 1300.5])
        var mask: [Float] = []
        for y in 0..<4 { for x in 0..<5 { mask.append(Float((x + y) % 2)) } }
        #expect(try file.readFloats("/mask") == (shape: [4, 5], values: mask))
        #expect(try file.readFloats("/data/intensities").values == [-3, 0, 7, 1000, -32768, 32767])
    }

    @Test func readsAHyperslabAcrossChunks() throws {
        let file = try HDF5File(url: cube)
        // Rows 1…2 (two chunks), columns 3…4, bands 2…4 (two chunks).
        let block = try file.readHyperslab("/spectra", start: [1, 3, 2], count: [2, 2, 3])
        var expected: [Float] = []
        for y in 1...2 { for x in 3...4 { for b in 2...4 { expected.append(Float(x + 10 * y + 100 * b) + 0.5) } } }
        #expect(block == expected)
        #expect(try file.readHyperslab("/wavenumbers", start: [5], count: [1]) == [1300.5])
    }

    @Test func readsAttributes() throws {
        let file = try HDF5File(url: cube)
        #expect(try file.attributeInt("version", on: "/spectra") == 3)
        #expect(try file.attributeInt("pixels") == -20)
        #expect(try file.attributeString("instrument") == "Spero QCL")
        #expect(try file.attributeString("units", on: "/") == "absorbance")
    }

    @Test func writerRoundTrips() throws {
        let (dir, cleanup) = try temporaryFolder("h5")
        defer { cleanup() }
        let url = dir.appendingPathComponent("phantom.h5")
        let shape = [30, 20, 7]
        let values = (0..<shape.reduce(1, *)).map { Float($0) * 0.25 - 100 }
        let writer = try HDF5Writer(url: url)
        try writer.write("/cube/spectra", shape: shape, values: values, gzip: 4, chunks: [8, 20, 7])
        try writer.write("/wavenumbers", shape: [7], values: (0..<7).map { 1000.0 - Double($0) })
        try writer.write("/labels", shape: [2, 2], values: [UInt8(0), 1, 2, 255], gzip: 1)
        try writer.setAttribute("label", 1, on: "/cube/spectra")
        try writer.setAttribute("source", "phantom v1")
        #expect(!FileManager.default.fileExists(atPath: url.path))  // not there before close()
        try writer.close()
        #expect(contents(of: dir) == ["phantom.h5"])

        let file = try HDF5File(url: url)
        #expect(try file.datasetNames() == ["/cube/spectra", "/labels", "/wavenumbers"])
        #expect(try file.readFloats("/cube/spectra") == (shape: shape, values: values))
        #expect(try file.readFloats("/labels").values == [0, 1, 2, 255])
        #expect(try file.readFloats("/wavenumbers").values == [1000, 999, 998, 997, 996, 995, 994])
        #expect(try file.attributeInt("label", on: "/cube/spectra") == 1)
        #expect(try file.attributeString("source") == "phantom v1")
        let block = try file.readHyperslab("/cube/spectra", start: [6, 19, 3], count: [4, 1, 2])
        let expected = (6..<10).flatMap { y in (3..<5).map { b in values[(y * 20 + 19) * 7 + b] } }
        #expect(block == expected)
    }

    /// The same contents give the same bytes (no times recorded), at any moment; a name of 230
    /// bytes, whose temporary's would be too long for the file system whole, is written.
    @Test func writerGivesTheSameBytesAndTakesLongNames() throws {
        let (dir, cleanup) = try temporaryFolder("h5-same")
        defer { cleanup() }
        func write(_ name: String) throws -> Data {
            let url = dir.appendingPathComponent(name)
            let writer = try HDF5Writer(url: url)
            try writer.write("/group/inner/spectra", shape: [3, 4], values: (0..<12).map(Float.init), gzip: 4)
            try writer.setAttribute("source", "test")
            try writer.close()
            return try Data(contentsOf: url)
        }
        let first = try write("a.h5")
        Thread.sleep(forTimeInterval: 1.1)  // HDF5's times have whole seconds
        #expect(try write("b.h5") == first)
        let long = String(repeating: "n", count: 227) + ".h5"
        #expect(try write(long) == first && contents(of: dir).count == 3)
    }

    @Test func writerDroppedWithoutCloseLeavesNothing() throws {
        let (dir, cleanup) = try temporaryFolder("h5-drop")
        defer { cleanup() }
        do {
            let writer = try HDF5Writer(url: dir.appendingPathComponent("x.h5"))
            try writer.write("/a", shape: [2], values: [Float(1), 2])
        }
        #expect(contents(of: dir) == [])
        #expect(HDF5Writer.defaultChunks([1000, 1000, 3]) == [125, 125, 3])
    }

    @Test func errorsNameTheFile() throws {
        let text = ioFixture("not_hdf5.h5")
        expectIOError(text, containing: "not an HDF5 file") { _ = try HDF5File(url: text) }
        // A MATLAB v5 MAT-file (its 128-byte text header, as MATLAB and scipy write it): named, with the way to v7.3.
        let mat = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-\(UUID()).mat")
        defer { try? FileManager.default.removeItem(at: mat) }
        let header = "MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Fri Dec  4 10:00:00 2026".padding(toLength: 116, withPad: " ", startingAt: 0)
        try Data(header.utf8 + [UInt8](repeating: 0, count: 8) + [0x00, 0x01, 0x49, 0x4D] + [UInt8](repeating: 0, count: 64)).write(to: mat)
        expectIOError(mat, containing: "is a MATLAB MAT-file of version 5 or 7, which is not HDF5; save it as version 7.3") { _ = try HDF5File(url: mat) }
        // An empty file, and one cut short after HDF5's signature: each said as such, with its size.
        try Data().write(to: mat)
        expectIOError(mat, containing: "is empty (0 bytes): not an HDF5 file") { _ = try HDF5File(url: mat) }
        try Data(try Data(contentsOf: ioFixture("cube.h5")).prefix(300)).write(to: mat)
        expectIOError(mat, containing: "cannot be opened as HDF5 (the file of 300 bytes starts as HDF5 but is cut short or damaged") {
            _ = try HDF5File(url: mat)
        }
        let missing = ioFixture("no_such.h5")
        expectIOError(missing, containing: "does not exist") { _ = try HDF5File(url: missing) }
        let file = try HDF5File(url: cube)
        expectIOError(cube, containing: "dataset '/x' not found; it has /data/intensities, /mask, /spectra, /wavenumbers") {
            _ = try file.readFloats("/x")
        }
        expectIOError(cube, containing: "dataset '/data' not found") { _ = try file.shape(of: "/data") }
        expectIOError(cube, containing: "lies outside dataset '/spectra' of shape [4, 5, 6]") {
            _ = try file.readHyperslab("/spectra", start: [3, 0, 0], count: [2, 5, 6])
        }
        expectIOError(cube, containing: "lies outside") { _ = try file.readHyperslab("/spectra", start: [0, 0], count: [1, 1]) }
        expectIOError(cube, containing: "attribute 'nope' not found on '/spectra'") { _ = try file.attributeInt("nope", on: "/spectra") }
        expectIOError(cube, containing: "object '/nothing' not found") { _ = try file.attributeInt("version", on: "/nothing") }
        expectIOError(cube, containing: "is not an integer") { _ = try file.attributeInt("units") }
        expectIOError(cube, containing: "is not a string") { _ = try file.attributeString("pixels") }
        let (dir, cleanup) = try temporaryFolder("h5-error")
        defer { cleanup() }
        let out = dir.appendingPathComponent("bad.h5")
        let writer = try HDF5Writer(url: out)
        expectIOError(out, containing: "shape [2, 2] needs 4 values, got 3") { try writer.write("/a", shape: [2, 2], values: [Float(1), 2, 3]) }
        expectIOError(out, containing: "chunks [3] do not fit shape [2]") { try writer.write("/a", shape: [2], values: [Float(1), 2], gzip: 4, chunks: [3]) }
        try writer.write("/a", shape: [1], values: [Float(1)])
        expectIOError(out, containing: "dataset '/a' cannot be created") { try writer.write("/a", shape: [1], values: [Float(1)]) }
        try writer.close()
        let nowhere = dir.appendingPathComponent("missing/x.h5")
        expectIOError(nowhere, containing: "folder \(dir.path)/missing does not exist") { _ = try HDF5Writer(url: nowhere) }
    }
}
