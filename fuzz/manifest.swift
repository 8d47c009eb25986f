// Fuzz target: the dataset manifest CSV (Sources/CompSegIO/CSV.swift and
// Sources/CompSegTraining/Manifest.swift). The input is the manifest's bytes, written to
// manifest.csv in a folder that also holds a.h5, b.h5 and m.png, so rows can name files that
// exist (the manifest checks every path) as well as files that do not.
import CompSegCore
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    Scratch.reset()
    for name in ["a.h5", "b.h5", "m.png"] { Scratch.write([UInt8](), to: name) }
    let url = Scratch.write(bytes, to: "manifest.csv")
    // The parser on its own, as the manifest calls it.
    expectCleanError { _ = try CSV.parse(String(decoding: bytes, as: UTF8.self), file: url.path) }
    expectCleanError {
        let manifest = try Manifest(contentsOf: url)
        for split in Split.allCases { _ = manifest.rows(in: split) }
    }
    return 0
}
