// Fuzz target: GeoJSON masks (Sources/CompSegIO/GeoJSONMask.swift), as truth and tissue files are
// read. The input is the whole file, written as mask.geojson and read as an 8×8 mask, and as one
// drawn on a 24×16 full resolution.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Scratch.reset()
    let url = Scratch.write(input(data, size), to: "mask.geojson")
    expectCleanError { _ = try GeoJSONMask.bits(contentsOf: url, height: 8, width: 8) }
    expectCleanError { _ = try GeoJSONMask.bits(contentsOf: url, height: 8, width: 8, fullResolution: (24, 16)) }
    return 0
}
