import Foundation

extension SpectralCube {
    /// Reads a PerkinElmer Spotlight `.fsm` image: the signature `PEPE`, a 40-byte description,
    /// then blocks, each a uint16 id, an int32 size and that many bytes: 5100 (the image: a name,
    /// then float64 x and y steps, the axis step, start and end, and int32 sizes nx, ny and
    /// bands), 5104 (the acquisition's text: among it the axis unit and the values' unit) and one
    /// 5105 block per spectrum (float32), x fastest. Other blocks are skipped.
    ///
    /// Values in transmittance (`%T`) become absorbance, A = 2 − log10(%T), as the spectral steps
    /// and the tissue mask expect; a %T at or below 0 (noise where almost nothing passes) is taken
    /// as the file's smallest positive %T, and noted. An unfinished acquisition keeps its complete
    /// rows (noted).
    /// - Throws: `IOError`: no `PEPE` signature; a block running past the end of the file; no
    ///   image block (5100), or two; sizes below 1; an axis whose end disagrees with its start,
    ///   step and bands; a spectrum of another length; more spectra than nx × ny, or not one row.
    public static func readFSM(_ url: URL) throws -> SpectralCube {
        let file = try BoundedFile(url)
        let path = file.path
        guard file.length >= 44, try file.bytes(at: 0, count: 4, "signature").ascii(at: 0, length: 4) == "PEPE" else {
            throw IOError(file: path, "is not a PerkinElmer FSM file: it does not start with PEPE and a 40-byte description")
        }
        var image: FSMImage?, texts: [String] = [], spectra: [Int] = []
        var offset = 44
        while offset < file.length {
            let head = try file.bytes(at: offset, count: 6, "the header of the block at offset \(offset)")
            let id = try head.integer(UInt16.self, at: 0, "block id"), size = Int(try head.int32(at: 2, "block size"))
            guard size >= 0, size <= file.length - offset - 6 else {
                throw IOError(file: path, "block \(id) at offset \(offset) declares \(size) bytes, but the file holds \(file.length - offset - 6) after its header")
            }
            switch id {
            case 5100:
                guard image == nil else { throw IOError(file: path, "holds two image blocks (5100); expected one") }
                image = try FSMImage(try file.bytes(at: offset + 6, count: size, "block 5100"), path: path)
            case 5104: texts += fsmTexts(try file.bytes(at: offset + 6, count: size, "block 5104").raw)
            case 5105: spectra.append(offset + 6)
                guard let image, size == image.bands * 4 else {
                    throw IOError(file: path, image == nil ? "a spectrum (block 5105 at offset \(offset)) comes before the image block (5100)"
                                  : "spectrum \(spectra.count - 1) (block 5105 at offset \(offset)) holds \(size) bytes; expected \(image!.bands) "
                                    + "float32 values (\(image!.bands * 4) bytes), as block 5100 says")
                }
            default: break
            }
            offset += 6 + size
        }
        guard let image else { throw IOError(file: path, "holds no image block (5100): it is not a map") }
        let (width, bands) = (image.width, image.bands)
        guard spectra.count <= image.height * width else {
            throw IOError(file: path, "holds \(spectra.count) spectra, more than the \(width)×\(image.height) of its image block (5100)")
        }
        let height = spectra.count / width
        guard height > 0 else {
            throw IOError(file: path, "holds \(spectra.count) spectra, fewer than one row of \(width): an acquisition stopped at its start")
        }
        var notes: [String] = []
        if height < image.height {
            notes.append("an unfinished acquisition: \(spectra.count) of \(width)×\(image.height) spectra; its \(height) complete rows are read")
        }
        let plane = height * width
        var values = [Float](repeating: 0, count: plane * bands)
        for (pixel, start) in spectra.prefix(plane).enumerated() {
            let spectrum = try file.bytes(at: start, count: bands * 4, "spectrum \(pixel)").samples(.float32, at: 0, count: bands, order: .little,
                                                                                                     "spectrum \(pixel)")
            for k in 0..<bands { values[k * plane + pixel] = spectrum[k] }
        }
        let unit = texts.lazy.map { (written: $0, unit: SpectralCube.unit(written: $0)) }
            .first { $0.written.count <= 16 && ["cm⁻¹", "nm", "µm", "Raman shift"].contains($0.unit) }?.unit
        if unit == nil { notes.append("the file names no axis unit: read as cm⁻¹, as Spotlight writes it") }
        if texts.contains(where: { $0 == "%T" || $0.contains("(%T)") }) {
            notes.append(absorbance(fromTransmittance: &values))
        }
        return SpectralCube(height: height, width: width, bands: bands, values: values, axis: image.axis, axisUnit: unit ?? "cm⁻¹",
                            format: "PerkinElmer FSM", notes: notes)
    }

    /// Turns %T into absorbance in place, a %T at or below 0 taken as the smallest positive one;
    /// returns the note saying so.
    private static func absorbance(fromTransmittance values: inout [Float]) -> String {
        let floor = values.lazy.filter { $0 > 0 && $0.isFinite }.min()
        var clipped = 0
        for i in values.indices where values[i].isFinite {
            if values[i] <= 0 { clipped += 1; if let floor { values[i] = floor } else { values[i] = .nan; continue } }
            values[i] = Float(2 - log10(Double(values[i])))  // in Double: the same float32 as any careful reader
        }
        var note = "values in transmittance (%T) read as absorbance, A = 2 − log10(%T)"
        if clipped > 0 {
            note += "; \(clipped) value\(clipped == 1 ? "" : "s") at or below 0 %T "
                + (floor.map { "read as the file's smallest positive %T, \($0)" } ?? "left as NaN: the file holds no positive %T")
        }
        return note
    }
}

/// Block 5100 of an FSM file: the image's sizes and its evenly spaced axis.
private struct FSMImage {
    let width: Int, height: Int, bands: Int
    let axis: [Double]

    init(_ block: Bytes, path: String) throws {
        let nameLength = Int(try block.integer(Int16.self, at: 0, "block 5100's name length"))
        guard nameLength >= 0 else { throw IOError(file: path, "block 5100: a name of \(nameLength) bytes") }
        let base = 2 + nameLength
        func double(_ i: Int, _ name: String) throws -> Double { try block.float64(at: base + 8 * i, "block 5100's \(name)") }
        let step = try double(2, "axis step"), start = try double(3, "axis start"), end = try double(4, "axis end")
        width = Int(try block.int32(at: base + 80, "block 5100's nx"))
        height = Int(try block.int32(at: base + 84, "block 5100's ny"))
        bands = Int(try block.int32(at: base + 88, "block 5100's band count"))
        guard width >= 1, height >= 1, bands >= 1 else {
            throw IOError(file: path, "block 5100: an image of \(width)×\(height) pixels and \(bands) bands; expected sizes of 1 or more")
        }
        guard start.isFinite, step.isFinite, end.isFinite, step != 0 || bands == 1,
              abs(start + Double(bands - 1) * step - end) <= abs(step) / 100 else {
            throw IOError(file: path, "block 5100: an axis from \(start) by \(step) over \(bands) bands does not end at \(end), as the block says")
        }
        axis = (0..<bands).map { start + Double($0) * step }
    }
}

/// The strings of an FSM text block (5104): each stored as `#u`, an int16 length and its bytes.
private func fsmTexts(_ raw: [UInt8]) -> [String] {
    var texts: [String] = [], i = 0
    while i + 4 <= raw.count {
        guard raw[i] == UInt8(ascii: "#"), raw[i + 1] == UInt8(ascii: "u") else { i += 1; continue }
        let length = Int(Int16(bitPattern: UInt16(raw[i + 2]) | UInt16(raw[i + 3]) << 8))
        guard length >= 0, i + 4 + length <= raw.count else { i += 1; continue }
        texts.append(String(decoding: raw[(i + 4)..<(i + 4 + length)], as: UTF8.self))
        i += 4 + length
    }
    return texts
}
