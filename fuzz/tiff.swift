// Fuzz target: the TIFF reader (Sources/CompSegIO/TIFF.swift over libtiff). The input is the
// whole file, written as image.tif and read with FloatImage(contentsOf:) as the tool does.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Scratch.reset()
    let url = Scratch.write(input(data, size), to: "image.tif")
    expectCleanError { _ = try FloatImage(contentsOf: url) }
    return 0
}
