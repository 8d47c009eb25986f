// Fuzz target: PerkinElmer FSM images (Sources/CompSegIO/Instruments/FSM.swift). The input is the whole
// file, written as map.fsm and read as the tool does (InstrumentFormat.read).
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Scratch.reset()
    let url = Scratch.write(input(data, size), to: "map.fsm")
    expectCleanError { _ = try InstrumentFormat.read(url) }
    return 0
}
