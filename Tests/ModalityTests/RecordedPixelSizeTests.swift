import Foundation
import Testing
import CompSegCore
import CompSegTestSupport
import HEModality
import InfraredModality
import SpectralFiles

/// The readers put the pixel size their files record into the sample's metadata
/// (`Sample.pixelSizeKey`), and refuse a `pixel_size_um` that is no size: the files of
/// `tools/make_pixel_size_fixtures.py` (h5py, tifffile, PIL).
@Suite struct RecordedPixelSizeTests {
    static func url(_ name: String) -> URL { fixturesDirectory.appendingPathComponent("pixelsize/\(name)") }

    @Test func infraredFilesGiveTheirPixelSize() throws {
        #expect(try InfraredSource().load(Self.url("h5_float.h5"), label: nil).metadata[Sample.pixelSizeKey] == "6.25")
        #expect(try InfraredSource().load(Self.url("h5_int.h5"), label: nil).metadata[Sample.pixelSizeKey] == "5.0")
        #expect { try InfraredSource().load(Self.url("h5_negative.h5"), label: nil) } throws: {
            "\($0)".contains("attribute 'pixel_size_um' on '/' is -1.0; expected the pixel size in micrometres, from 0.001 to 100000")
        }
        #expect { try InfraredSource().load(Self.url("h5_text.h5"), label: nil) } throws: {
            "\($0)".contains("pixel_size_um") && "\($0)".contains("not a number")
        }
        // Read region by region, the same.
        let regions = try #require(try InfraredSource().regions(of: Self.url("h5_float.h5"), label: nil))
        #expect(regions.metadata[Sample.pixelSizeKey] == "6.25")
    }

    @Test func heFilesGiveTheirPixelSize() throws {
        let sample = try HESource().load(Self.url("res_cm.tif"), label: nil)
        #expect(sample.metadata[Sample.pixelSizeKey] == "0.25")
        #expect(sample.metadata[Sample.pixelSizeSourceKey]?.contains("resolution tags") == true)
        #expect(try HESource().load(Self.url("phys_72dpi.png"), label: nil).metadata[Sample.pixelSizeKey] == nil)
    }
}
