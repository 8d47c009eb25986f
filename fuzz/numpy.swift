// Fuzz target: NumPy .npy arrays and their axis file (Sources/CompSegIO/Instruments/NumPy.swift).
// Input: a control byte, a 2-byte little-endian length L, L bytes of the axis file, then the
// array file's bytes. The array is written as cube.npy and read as the tool does
// (InstrumentFormat.read); when the control byte is odd, the axis is written beside it as
// cube_wavenumbers.npy.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard bytes.count >= 3 else { return 0 }
    Scratch.reset()
    let length = min(Int(bytes[1]) | Int(bytes[2]) << 8, bytes.count - 3)
    if bytes[0] & 1 == 1 { _ = Scratch.write(bytes[3..<(3 + length)], to: "cube_wavenumbers.npy") }
    let url = Scratch.write(bytes[(3 + length)...], to: "cube.npy")
    expectCleanError { _ = try InstrumentFormat.read(url) }
    return 0
}
