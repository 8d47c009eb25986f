// Fuzz target: the PNG reader (Sources/CompSegIO/PNG.swift over libpng's png_image API), as
// masks and pictures are read. The input is the whole file, written as image.png and read with
// PNGImage(contentsOf:) and as a mask of the size the file declares, brought down to half of it,
// and of a fixed 4×4. Chunk CRCs
// are recomputed first (libpng is not instrumented, so the fuzzer cannot learn them).
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Scratch.reset()
    let url = Scratch.write(withPNGChunkCRCsFixed(input(data, size)), to: "image.png")
    expectCleanError {
        let image = try PNGImage(contentsOf: url)
        _ = try PNGImage.mask(contentsOf: url, height: image.height, width: image.width)
        _ = try PNGImage.mask(contentsOf: url, height: (image.height + 1) / 2, width: (image.width + 1) / 2,
                              fullResolution: (image.height, image.width))
    }
    expectCleanError { _ = try PNGImage.mask(contentsOf: url, height: 4, width: 4) }
    return 0
}
