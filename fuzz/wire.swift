// Fuzz target: Renishaw WiRE .wdf maps (Sources/CompSegIO/Instruments/WiRE.swift). The input is
// the whole file, written as map.wdf and read as the tool does (InstrumentFormat.read).
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Scratch.reset()
    let url = Scratch.write(input(data, size), to: "map.wdf")
    expectCleanError { _ = try InstrumentFormat.read(url) }
    return 0
}
