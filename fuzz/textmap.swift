// Fuzz target: text maps, long and wide (Sources/CompSegIO/Instruments/TextMap.swift). The input
// is the whole file, written as map.txt and read as the tool does (InstrumentFormat.read).
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Scratch.reset()
    let url = Scratch.write(input(data, size), to: "map.txt")
    expectCleanError { _ = try InstrumentFormat.read(url) }
    return 0
}
