// Fuzz target: ENVI header + raw data (Sources/CompSegIO/Instruments/ENVI.swift, with format
// detection in InstrumentFormat.swift and the bounded reads of InstrumentBytes.swift).
// Input: the header text, a NUL byte, then the data file's bytes (no NUL: the data file is empty).
// Written as cube.hdr and cube.img and read as the tool does (InstrumentFormat.read); an input
// whose last byte is odd is opened through the data file instead of the header.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    Scratch.reset()
    let split = bytes.firstIndex(of: 0) ?? bytes.count
    let header = Scratch.write(bytes[..<split], to: "cube.hdr")
    let raw = Scratch.write(bytes[min(split + 1, bytes.count)...], to: "cube.img")
    let viaData = (bytes.last ?? 0) & 1 == 1
    expectCleanError { _ = try InstrumentFormat.read(viaData ? raw : header) }
    return 0
}
