// Fuzz target: the safetensors loader (Sources/CompSegIO/Safetensors.swift), which reads model
// weights and checkpoints. The input is the whole file, written as weights.safetensors and read
// with Safetensors(contentsOf:) as the tool does (the header JSON and the tensors, F32/F64).
import Foundation
import CompSegNN

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Scratch.reset()
    let url = Scratch.write(input(data, size), to: "weights.safetensors")
    expectCleanError {
        let file = try Safetensors(contentsOf: url)
        for name in file.tensors.keys.sorted() { _ = try file.tensor(name, in: url.path) }
    }
    return 0
}
