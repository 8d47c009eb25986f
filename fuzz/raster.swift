// Fuzz target: the raster readers for histology images (Sources/CompSegIO/Raster*.swift: TIFF
// and BigTIFF pages, SubIFDs, tiles and strips through libtiff; PNG through libpng's low-level
// API). The input is the whole file, written as slide.img (the readers sniff the format) and
// read as RasterFile is used: describe, every level (up to 4), and a region of level 0. A PNG's
// chunk CRCs are recomputed first (libpng is not instrumented, so the fuzzer cannot learn them).
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Scratch.reset()
    let url = Scratch.write(withPNGChunkCRCsFixed(input(data, size)), to: "slide.img")
    var levels = 1
    expectCleanError {
        let description = try RasterFile.describe(url)
        _ = description.description
        levels = min(4, max(1, description.levels.count))
    }
    for level in 0..<levels {
        expectCleanError { _ = try RasterFile.read(url, level: level) }
    }
    expectCleanError { _ = try RasterFile.read(url, level: 0, region: (x: 1, y: 1, width: 3, height: 2)) }
    return 0
}
