import CompSegTestSupport
import Foundation
import Testing
@testable import CompSegIO

/// Images found by fuzzing (`Tests/Fixtures/hostile`): each declares far more pixels than its few
/// bytes can hold, and is refused with an error naming the file before the pixels are allocated.
@Suite struct HostileInputTests {
    static func url(_ name: String) -> URL { fixturesDirectory.appendingPathComponent("hostile/\(name)") }

    /// The error each reader gives, or "no error".
    static func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    @Test(arguments: ["png_declared_size.png", "raster_declared_size", "tiff_declared_size_1.tif", "tiff_declared_size_2.tif"])
    func declaredSizesBeyondTheFileAreRefused(name: String) {
        let url = Self.url(name)
        let read = Self.message { _ = try RasterFile.read(url) }
        #expect(read.contains(url.path) && read.contains("more than a file of"), "\(read)")
        let region = Self.message { _ = try RasterFile.read(url, region: (x: 1, y: 1, width: 3, height: 2)) }
        #expect(region.contains(url.path), "\(region)")
        let whole = Self.message {
            if name.hasSuffix(".png") { _ = try PNGImage(contentsOf: url) } else { _ = try FloatImage(contentsOf: url) }
        }
        #expect(whole.contains(url.path) && whole != "no error", "\(whole)")
    }

    /// A fifo, a device, a folder or a looping link given as a file is named for what it is, not
    /// read (a fifo made every reader wait for ever).
    @Test func onlyRegularFilesAreRead() throws {
        let (dir, remove) = try temporaryFolder("fifo")
        defer { remove() }
        let fifo = dir.appendingPathComponent("spot.h5")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let loop = dir.appendingPathComponent("loop.png")
        try FileManager.default.createSymbolicLink(atPath: loop.path, withDestinationPath: loop.path)
        for (url, words) in [(fifo, "is a fifo (named pipe), not a file"), (URL(fileURLWithPath: "/dev/zero"), "is a device or socket"),
                             (dir, "is a folder, not a file"), (loop, "is a symbolic link that loops")] {
            for read in [{ _ = try InstrumentFormat.read(url) }, { _ = try PNGImage(contentsOf: url) }, { _ = try RasterFile.read(url) },
                         { _ = try HDF5File(url: url) }] as [() throws -> Void] {
                let message = Self.message(read)
                #expect(message.contains(url.path) && message.contains(words), "\(message)")
            }
        }
    }

    /// Declared sizes whose product overflows 64 bits are refused, not trapped on.
    @Test func overflowingDimensionsAreRefused() {
        let url = Self.url("png_declared_size.png")
        let m = Self.message { try requirePlausibleSize([1 << 40, 1 << 40, 3], file: url.path, what: "the image") }
        #expect(m.contains("1099511627776×1099511627776 pixels (width×height) of 3 samples") && m.contains(url.path), "\(m)")
    }
}
