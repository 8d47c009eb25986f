// Fuzz target: Agilent Resolutions Pro FPA tiles (.dat + .bsp) and mosaics (.dmt + .dmd tiles)
// (Sources/CompSegIO/Instruments/Agilent.swift), read as the tool does (InstrumentFormat.read).
//
// Input: byte 0 chooses the files, bytes 1…24 are the spectral-axis header (PtSep, …, Npts: what
// the reader takes from bytes 2216…2239 of a .bsp/.dmt; the harness writes them after 2216 zero
// bytes; fewer than 24 make a truncated header), the rest is the spectra.
// - byte 0 & 3 == 0: tile, opened as t.dat; 1: tile, opened as t.bsp; the rest is t.dat.
// - byte 0 & 3 == 2: mosaic, opened as m.dmt; 3: opened as its first tile. Bits 2…7 of byte 0 say
//   which tiles m_XXXX_YYYY.dmd exist, of (0,0) (1,0) (0,1) (1,1) (2,0) (3,2); the rest is split
//   evenly between them (the last one also gets the remainder, so tiles may differ in size).
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard let control = bytes.first else { return 0 }
    Scratch.reset()
    let axisBytes = bytes.dropFirst().prefix(24)
    let header = [UInt8](repeating: 0, count: 2216) + axisBytes
    let spectra = bytes.dropFirst(1 + axisBytes.count)
    let url: URL
    switch control & 3 {
    case 0, 1:
        let dat = Scratch.write(spectra, to: "t.dat")
        let bsp = Scratch.write(header, to: "t.bsp")
        url = control & 3 == 0 ? dat : bsp
    default:
        let dmt = Scratch.write(header, to: "m.dmt")
        let positions = [(0, 0), (1, 0), (0, 1), (1, 1), (2, 0), (3, 2)]
        let present = positions.indices.filter { control >> (2 + $0) & 1 == 1 }.map { positions[$0] }
        var first: URL? = nil
        if !present.isEmpty {
            let chunk = spectra.count / present.count
            for (i, (x, y)) in present.enumerated() {
                let start = spectra.startIndex + i * chunk
                let end = i == present.count - 1 ? spectra.endIndex : start + chunk
                let name = String(format: "m_%04d_%04d.dmd", x, y)
                let tile = Scratch.write(spectra[start..<end], to: name)
                if (x, y) == (0, 0) || first == nil { first = tile }
            }
        }
        url = control & 3 == 2 ? dmt : (first ?? dmt)
    }
    expectCleanError { _ = try InstrumentFormat.read(url) }
    return 0
}
