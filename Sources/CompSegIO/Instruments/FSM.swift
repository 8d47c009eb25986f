import Foundation

extension SpectralCube {
    /// Reads a PerkinElmer Spotlight `.fsm` image whole (`FSMImage`).
    public static func readFSM(_ url: URL) throws -> SpectralCube { try FSMImage(url).cube() }
}

/// A PerkinElmer Spotlight `.fsm` image: the signature `PEPE`, a 40-byte description, then
/// blocks, each a uint16 id, an int32 size and that many bytes: 5100 (the image: a name, float64
/// x and y steps, the axis step, start and end, int32 sizes nx, ny and bands, then the labels of
/// y, x, the axis and the values, e.g. "cm-1" and "%T") and one 5105 block per spectrum
/// (float32), x fastest. Other blocks (5104, the acquisition's text) are skipped. Read whole
/// (`cube`) or a region at a time (`region`: a row's spectra read as one run of the file).
///
/// Values in transmittance (`%T`) become absorbance, A = 2 − log10(%T), as the spectral steps
/// and the tissue mask expect; a %T at or below 0 (noise where almost nothing passes) is taken as
/// its spectrum's smallest positive %T. Values in absorbance are read as they are; in another
/// unit, or none named, too, with a warning. An unfinished acquisition keeps its complete rows (noted).
public struct FSMImage: SpectralRegionFile {
    public let url: URL
    public let height: Int, width: Int, bands: Int
    public let axis: [Double]
    public let axisUnit: String
    public var format: String { "PerkinElmer FSM" }
    public let notes: [String]
    /// Whether the values are %T, turned into absorbance as they are read.
    let transmittance: Bool
    /// What is doubtful about the units (named in the commands' warnings), or nil.
    private let doubt: String?
    /// Where each pixel's spectrum starts, row by row.
    private let spectra: [Int]

    /// Reads the blocks' headers, the image block and the text, and checks every spectrum's size.
    /// - Throws: `IOError`: no `PEPE` signature; a block running past the end of the file; no image
    ///   block (5100), or two; sizes below 1; an axis whose end disagrees with its start, step and
    ///   bands; a spectrum of another length; more spectra than nx × ny, or not one row.
    public init(_ url: URL) throws {
        self.url = url
        let file = try BoundedFile(url)
        let path = file.path
        guard file.length >= 44, try file.bytes(at: 0, count: 4, "signature").ascii(at: 0, length: 4) == "PEPE" else {
            throw IOError(file: path, "is not a PerkinElmer FSM file: it does not start with PEPE and a 40-byte description")
        }
        var image: FSMImageBlock?, spectra: [Int] = []
        var offset = 44
        while offset < file.length {
            guard file.length - offset >= 6 else {
                throw IOError(file: path, "ends with \(file.length - offset) bytes after its last block (at offset \(offset)), too few for a "
                              + "block's header: the file is cut short")
            }
            let head = try file.bytes(at: offset, count: 6, "the header of the block at offset \(offset)")
            let id = try head.integer(UInt16.self, at: 0, "block id"), size = Int(try head.int32(at: 2, "block size"))
            guard size >= 0, size <= file.length - offset - 6 else {
                throw IOError(file: path, "block \(id) at offset \(offset) declares \(size) bytes, but the file holds \(file.length - offset - 6) after its header")
            }
            switch id {
            case 5100:
                guard image == nil else { throw IOError(file: path, "holds two image blocks (5100); expected one") }
                image = try FSMImageBlock(try file.bytes(at: offset + 6, count: size, "block 5100"), path: path, fileLength: file.length)
            case 5105:
                guard let image else { throw IOError(file: path, "a spectrum (block 5105 at offset \(offset)) comes before the image block (5100)") }
                guard size == image.bands * 4 else {
                    throw IOError(file: path, "spectrum \(spectra.count) (block 5105 at offset \(offset)) holds \(size) bytes; expected \(image.bands) "
                                  + "float32 values (\(image.bands * 4) bytes), as block 5100 says")
                }
                guard spectra.count < image.height * image.width else {
                    throw IOError(file: path, "holds more spectra than the \(image.width)×\(image.height) of its image block (5100)")
                }
                spectra.append(offset + 6)
            default: break
            }
            offset += 6 + size
        }
        guard let image else { throw IOError(file: path, "holds no image block (5100): it is not a map") }
        (width, bands, axis) = (image.width, image.bands, image.axis)
        height = spectra.count / width
        guard height > 0 else {
            throw IOError(file: path, "holds \(spectra.count) spectr\(spectra.count == 1 ? "um" : "a"), fewer than one row of \(width): "
                          + "an acquisition stopped at its start")
        }
        self.spectra = Array(spectra.prefix(height * width))
        var notes: [String] = []
        if height < image.height {
            notes.append("an unfinished acquisition: \(spectra.count) of its \(image.height * width) spectra (\(image.height) rows × \(width) "
                         + "columns); its \(height) complete rows are read")
        }
        var doubts: [String] = []
        let unit = image.axisLabel.map(SpectralCube.unit(written:))
        if let unit, !unit.isEmpty { axisUnit = unit } else {
            axisUnit = "cm⁻¹"
            doubts.append(image.axisLabel.map { "its axis label '\($0)' is no unit: read as cm⁻¹" } ?? "it names no axis unit: read as cm⁻¹")
        }
        let values = image.valueLabel.map { $0.trimmingCharacters(in: .whitespaces) }
        transmittance = values == "%T"
        if transmittance {
            notes.append("values in transmittance (%T) read as absorbance, A = 2 − log10(%T), a %T at or below 0 as its spectrum's "
                         + "smallest positive one")
        } else if let values, ["a", "abs", "absorbance", "au"].contains(values.lowercased()) {
            notes.append("values in absorbance ('\(values)')")
        } else {
            doubts.append(values.map { "its values are in '\($0)', neither %T nor absorbance: read as they are" }
                          ?? "it names no unit for its values: read as absorbance")
        }
        doubt = doubts.isEmpty ? nil : doubts.joined(separator: "; ")
        self.notes = notes
    }

    public func warning(maskFound: Bool) throws -> String? { doubt }

    /// The whole image, each spectrum read where it lies.
    public func cube() throws -> SpectralCube {
        var cube = SpectralCube(height: height, width: width, bands: bands, values: try region(y: 0, x: 0, height: height, width: width),
                                axis: axis, axisUnit: axisUnit, format: format, notes: notes)
        cube.warning = doubt
        return cube
    }

    /// Rows `y ..< y + h`, columns `x ..< x + w` of every band, B×h×w channels first: a row's
    /// spectra read as one run of the file (their blocks lie one after another).
    public func region(y: Int, x: Int, height h: Int, width w: Int) throws -> [Float] {
        try requireInside(y: y, x: x, height: h, width: w)
        let file = try BoundedFile(url), b = bands, plane = h * w
        var out = [Float](repeating: 0, count: b * plane), row = [Float](repeating: 0, count: w * b)
        for r in 0..<h {
            let first = (y + r) * width + x, from = spectra[first], to = spectra[first + w - 1] + b * 4
            // Other blocks between them (rare, and any size) are not read: then each spectrum is read alone.
            let run = to - from <= w * (b * 4 + 6) + 4096 ? try file.bytes(at: from, count: to - from, "spectra \(first)–\(first + w - 1)") : nil
            for c in 0..<w {
                let at = spectra[first + c], what = "spectrum \(first + c)"
                var spectrum = try run.map { try $0.samples(.float32, at: at - from, count: b, order: .little, what) }
                    ?? file.bytes(at: at, count: b * 4, what).samples(.float32, at: 0, count: b, order: .little, what)
                if transmittance { Self.absorbance(fromTransmittance: &spectrum) }
                row.replaceSubrange((c * b)..<((c + 1) * b), with: spectrum)
            }
            placeSpectra(row, fromPixel: r * w, bands: b, plane: plane, into: &out)
        }
        return out
    }

    /// Turns a spectrum's %T into absorbance in place (in Double: the same float32 as any careful
    /// reader), a %T at or below 0 taken as its smallest positive one (none: NaN).
    static func absorbance(fromTransmittance spectrum: inout [Float]) {
        let floor = spectrum.lazy.filter { $0 > 0 && $0.isFinite }.min()
        for i in spectrum.indices where spectrum[i].isFinite {
            let t = spectrum[i] > 0 ? spectrum[i] : floor
            spectrum[i] = t.map { Float(2 - log10(Double($0))) } ?? .nan
        }
    }
}

/// Block 5100 of an FSM file: the image's sizes, its evenly spaced axis, and the labels of the
/// axis and the values where it has them (nil where absent or empty).
private struct FSMImageBlock {
    let width: Int, height: Int, bands: Int
    let axis: [Double]
    let axisLabel: String?, valueLabel: String?

    init(_ block: Bytes, path: String, fileLength: Int) throws {
        let nameLength = Int(try block.integer(Int16.self, at: 0, "block 5100's name length"))
        guard nameLength >= 0, nameLength <= block.count - 94 else {
            throw IOError(file: path, "block 5100: a name of \(nameLength) bytes, where the block of \(block.count) holds at most "
                          + "\(max(0, block.count - 94)) besides its sizes")
        }
        let base = 2 + nameLength
        func double(_ i: Int, _ name: String) throws -> Double { try block.float64(at: base + 8 * i, "block 5100's \(name)") }
        let step = try double(2, "axis step"), start = try double(3, "axis start"), end = try double(4, "axis end")
        width = Int(try block.int32(at: base + 80, "block 5100's nx"))
        height = Int(try block.int32(at: base + 84, "block 5100's ny"))
        bands = Int(try block.int32(at: base + 88, "block 5100's band count"))
        guard width >= 1, height >= 1, bands >= 1 else {
            throw IOError(file: path, "block 5100: an image of \(width)×\(height) pixels and \(bands) bands; expected sizes of 1 or more")
        }
        guard bands <= (fileLength - 50) / 4 else {  // before the axis is made: one spectrum must fit in the file
            throw IOError(file: path, "block 5100: \(bands) bands, more than one spectrum the file's \(fileLength) bytes can hold")
        }
        guard start.isFinite, step.isFinite, end.isFinite, step != 0 || bands == 1,
              abs(start + Double(bands - 1) * step - end) <= abs(step) / 100 else {
            throw IOError(file: path, "block 5100: an axis from \(start) by \(step) over \(bands) bands does not end at \(end), as the block says")
        }
        axis = (0..<bands).map { start + Double($0) * step }
        // Then four labels, each an int16 length and its text: y's, x's, the axis's, the values'.
        var labels: [String] = [], at = base + 92
        while labels.count < 4, let length = try? Int(block.integer(Int16.self, at: at, "a label")), length >= 0,
              at + 2 + length <= block.count {
            labels.append(String(decoding: block.raw[(at + 2)..<(at + 2 + length)], as: UTF8.self).trimmingCharacters(in: .whitespaces))
            at += 2 + length
        }
        func label(_ i: Int) -> String? { labels.count == 4 && !labels[i].isEmpty ? labels[i] : nil }
        (axisLabel, valueLabel) = (label(2), label(3))
    }
}
