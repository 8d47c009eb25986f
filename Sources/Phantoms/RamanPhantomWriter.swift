import CompSegCore
import CompSegIO
import Foundation

extension RamanPhantom {
    /// Writes every spot as instruments' files, so that reading them goes through the real
    /// readers: seven in eight as ENVI (`spotNNN.hdr` beside float32 band-interleaved-by-line
    /// `spotNNN.img`, axis as `Raman Shift`), every eighth as WiRE's text export (`spotNNN.txt`:
    /// `#X #Y #Wave #Intensity`, one line per pixel and band, 2 µm steps, shifts descending);
    /// with each its ground-truth tumor mask (`spotNNN_truth.png`, 0/255) and `manifest.csv`
    /// (path,label,split,truth) in `folder`.
    /// - Returns: the manifest's location.
    /// - Throws: when `folder` is not new or empty (nothing is overwritten) or a write fails.
    @discardableResult
    public func write(to folder: URL) throws -> URL {
        try settings.writeMicroarray(to: folder) { i, folder in
            let spot = spot(i)
            let file = i % 8 == 1 ? "\(spot.id).txt" : "\(spot.id).hdr"
            if i % 8 == 1 { try writeText(spot, to: folder.appendingPathComponent(file)) } else { try writeENVI(spot, folder) }
            return WrittenSpot(id: spot.id, file: file, label: spot.label, split: spot.split, truth: spot.truth)
        }
    }

    private func writeENVI(_ spot: Spot, _ folder: URL) throws {
        let n = settings.size, b = settings.bands, plane = n * n
        var bil = [Float](repeating: 0, count: spot.counts.count)  // (row, band, column)
        for y in 0..<n { for k in 0..<b { for x in 0..<n { bil[(y * b + k) * n + x] = spot.counts[k * plane + y * n + x] } } }
        try writeDurably(bil.withUnsafeBytes { Data($0) }, to: folder.appendingPathComponent("\(spot.id).img"))
        let header = """
            ENVI
            description = {compseg Raman phantom, spot \(spot.id)}
            samples = \(n)
            lines = \(n)
            bands = \(b)
            header offset = 0
            file type = ENVI Standard
            data type = 4
            interleave = bil
            byte order = 0
            wavelength units = Raman Shift
            pixel size = {2, 2, units=Micrometers}
            wavelength = {\(shifts.map { "\($0)" }.joined(separator: ", "))}

            """
        try writeDurably(Data(header.utf8), to: folder.appendingPathComponent("\(spot.id).hdr"))
    }

    private func writeText(_ spot: Spot, to url: URL) throws {
        let n = settings.size, b = settings.bands, plane = n * n
        var text = "#X\t#Y\t#Wave\t#Intensity\n"
        text.reserveCapacity(plane * b * 28)
        for y in 0..<n {
            for x in 0..<n {
                let prefix = "\(Double(x) * 2)\t\(Double(y) * 2)\t"
                for k in stride(from: b - 1, through: 0, by: -1) {
                    text += prefix + "\(shifts[k])\t\(spot.counts[k * plane + y * n + x])\n"
                }
            }
        }
        try writeDurably(Data(text.utf8), to: url)
    }
}
