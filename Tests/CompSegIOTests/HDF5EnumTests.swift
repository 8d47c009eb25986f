import Foundation
import Testing
@testable import CompSegIO
import CompSegTestSupport

/// Enum datasets, as h5py writes numpy `bool` (an enum over int8, FALSE = 0, TRUE = 1):
/// `Tests/Fixtures/infrared/bool_mask.h5` from `tools/make_infrared_fixtures.py`.
@Suite struct HDF5EnumTests {
    let url = fixturesDirectory.appendingPathComponent("infrared/bool_mask.h5")
    /// (x + y) % 2 over 4×5, row-major.
    let mask: [Float] = (0..<20).map { Float(($0 % 5 + $0 / 5) % 2) }

    @Test func readsABoolMaskAsZeroAndOne() throws {
        let file = try HDF5File(url: url)
        #expect(try file.readFloats("/mask") == (shape: [4, 5], values: mask))
        #expect(try file.shape(of: "/mask") == [4, 5])
    }

    @Test func readsAHyperslabOfABoolMask() throws {
        let file = try HDF5File(url: url)
        // Rows 1…3, columns 2…3.
        let block = try file.readHyperslab("/mask", start: [1, 2], count: [3, 2])
        #expect(block == (1...3).flatMap { y in (2...3).map { x in Float((x + y) % 2) } })
    }

    @Test func enumGivesMemberValuesNotIndices() throws {
        let file = try HDF5File(url: url)
        // Enum over int16 {BACKGROUND = -3, STROMA = 0, CANCER = 5}.
        #expect(try file.readFloats("/classes") == (shape: [2, 3], values: [-3, 0, 5, 5, 5, -3]))
        #expect(try file.readHyperslab("/classes", start: [1, 1], count: [1, 2]) == [5, -3])
    }

    @Test func nonNumericDatasetsNameFileDatasetAndClass() throws {
        let file = try HDF5File(url: url)
        expectIOError(url, containing: "dataset '/note' has type class string; expected float, integer or enum") {
            _ = try file.readFloats("/note")
        }
        expectIOError(url, containing: "dataset '/note' has type class string") {
            _ = try file.readHyperslab("/note", start: [], count: [])
        }
    }
}
