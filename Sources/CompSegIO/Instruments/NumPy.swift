import Foundation

extension SpectralCube {
    /// Reads a NumPy array file (`.npy`, format versions 1 to 3, as `numpy.save` writes it): a
    /// height × width × bands array (the spectrum last, as Python's spectral libraries hold a
    /// cube) or height × width (one band), in C or Fortran order, of float32, float64 or 8- to
    /// 64-bit integers in either byte order. The axis comes from a 1-D array file beside it,
    /// `STEM_wavenumbers.npy`, else `wavenumbers.npy` (one for a folder of images), with one
    /// value per band; without one it is the band index (noted). Like a text map's, the axis
    /// carries no unit: it is taken as the modality's.
    /// - Throws: `IOError` naming the file: not an `.npy`, a header without `descr`, `fortran_order`
    ///   or `shape`, an unsupported type or shape, an array longer than the file, or an axis file
    ///   of another length.
    public static func readNumPy(_ url: URL) throws -> SpectralCube { try NumPyImage(url).cube() }
}

/// A NumPy array file (`SpectralCube.readNumPy`), its header and axis read and its size checked
/// against the file, read whole (`cube`) or a region at a time (`region`).
public struct NumPyImage: SpectralRegionFile {
    public let url: URL
    public let height: Int, width: Int, bands: Int
    public let axis: [Double]
    public var axisUnit: String { "" }
    public var format: String { "NumPy array" }
    public let notes: [String]
    let array: NumPyHeader

    public init(_ url: URL) throws {
        self.url = url
        let file = try BoundedFile(url)
        array = try NumPyHeader(file)
        let shape = array.shape
        guard shape.count == 3 || shape.count == 2, shape.allSatisfy({ $0 > 0 }) else {
            throw IOError(file: url.path, "holds an array of shape \(array.shapeText); expected height × width × bands (3-D, the "
                          + "spectrum last) or height × width, every side at least 1")
        }
        let (h, w, b) = (shape[0], shape[1], shape.count == 3 ? shape[2] : 1)
        try array.requireData(file, count: checkedProduct([h, w, b]))
        var notes: [String] = []
        let extra = file.length - array.dataOffset - h * w * b * array.type.size
        if extra > 0 { notes.append("\(extra) bytes after the array ignored") }  // as ENVI's
        let folder = url.deletingLastPathComponent(), stem = url.deletingPathExtension().lastPathComponent
        if let axisURL = [sibling("\(stem)_wavenumbers.npy", in: folder), sibling("wavenumbers.npy", in: folder)]
            .compactMap({ $0 }).first(where: { $0.standardizedFileURL != url.standardizedFileURL }) {
            let axisFile = try BoundedFile(axisURL)
            let header = try NumPyHeader(axisFile)
            guard header.shape.count == 1 || header.shape.count == 2 && header.shape.contains(1), checkedProduct(header.shape) == b else {
                // A table of pixels × bands (a spectrum a row), which reads as one band of an image.
                let table = shape.count == 2 && checkedProduct(header.shape) == w
                    ? "; this file's 2-D array (\(h)×\(w)) reads as one band of \(h)×\(w) pixels: if its rows are spectra, save it "
                        + "as height × width × \(w) (numpy: a.reshape(height, width, \(w)))" : ""
                throw IOError(file: url.path, "its axis, \(axisURL.path), holds an array of shape \(header.shapeText); "
                              + "expected \(b) values, one per band" + table)
            }
            axis = try header.doubles(axisFile, count: b, "the axis")
            notes.append("axis from \(axisURL.lastPathComponent)")
        } else {
            axis = (0..<b).map(Double.init)
            notes.append("no \(stem)_wavenumbers.npy or wavenumbers.npy beside it: the axis is the band index")
        }
        self.notes = notes
        (height, width, bands) = (h, w, b)
    }

    /// The whole array.
    public func cube() throws -> SpectralCube {
        SpectralCube(height: height, width: width, bands: bands, values: try array.bandMajor(BoundedFile(url), height: height, width: width,
                                                                                            bands: bands),
                     axis: axis, axisUnit: axisUnit, format: format, notes: notes, dataType: array.typeName)
    }

    /// Rows `y ..< y + h`, columns `x ..< x + w` of every band, B×h×w channels first: in C order a
    /// row's pixels (their spectra) as one run, in Fortran order a column's rows of each band.
    public func region(y: Int, x: Int, height h: Int, width w: Int) throws -> [Float] {
        try requireInside(y: y, x: x, height: h, width: w)
        let file = try BoundedFile(url), b = bands, size = array.type.size
        func run(_ first: Int, _ count: Int) throws -> [Float] {
            try file.bytes(at: array.dataOffset + first * size, count: count * size, "the array")
                .samples(array.type, at: 0, count: count, order: array.order, "the array")
        }
        var out = [Float](repeating: 0, count: b * h * w)
        if array.fortranOrder {  // (y, x, k) at y + H·x + H·W·k
            for k in 0..<b { for c in 0..<w {
                let values = try run(y + height * (x + c) + height * width * k, h)
                for r in 0..<h { out[(k * h + r) * w + c] = values[r] }
            } }
        } else {  // (y, x, k) at (y·W + x)·B + k
            for r in 0..<h {
                placeSpectra(try run(((y + r) * width + x) * b, w * b), fromPixel: r * w, bands: b, plane: h * w, into: &out)
            }
        }
        return out
    }
}

/// The header of an `.npy` file: its element type, order and shape, and where the data starts.
struct NumPyHeader {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    let path: String
    let type: SampleType, order: ByteOrder, typeName: String
    let fortranOrder: Bool
    let shape: [Int]
    let dataOffset: Int

    var shapeText: String { "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")") }

    init(_ file: BoundedFile) throws {
        let path = file.path
        self.path = path
        let start = try file.bytes(at: 0, count: min(12, file.length), "the NumPy header")
        guard start.raw.starts(with: Self.magic), start.raw.count >= 10 else {
            throw IOError(file: path, "is not a NumPy array file (it does not start with \\x93NUMPY)")
        }
        let major = start.raw[6]
        guard (1...3).contains(major) else { throw IOError(file: path, "is a NumPy file of format version \(major); versions 1 to 3 are read") }
        let length = major == 1 ? Int(try start.integer(UInt16.self, at: 8, "header length"))
            : Int(try start.integer(UInt32.self, at: 8, "header length"))
        let headerStart = major == 1 ? 10 : 12
        let text = try file.bytes(at: headerStart, count: length, "the NumPy header").ascii(at: 0, length: length)
        dataOffset = headerStart + length

        func value(_ key: String) throws -> Substring {
            guard let range = text.range(of: "'\(key)':") else {
                throw IOError(file: path, "the NumPy header has no '\(key)': \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            return text[range.upperBound...].drop { $0 == " " }
        }
        let descrText = try value("descr")
        guard descrText.first == "'", let close = descrText.dropFirst().firstIndex(of: "'") else {
            throw IOError(file: path, "holds a structured array (descr \(descrText.prefix(40))…); expected numbers of one type")
        }
        let descr = String(descrText[descrText.index(after: descrText.startIndex)..<close])
        (type, order, typeName) = try Self.type(descr, file: path)
        let fortran = try value("fortran_order")
        guard fortran.hasPrefix("True") || fortran.hasPrefix("False") else {
            let given = fortran.prefix { $0 != "," && $0 != "}" }.trimmingCharacters(in: .whitespaces)
            throw IOError(file: path, "the NumPy header's fortran_order is \(given.prefix(20)); expected True or False")
        }
        fortranOrder = fortran.hasPrefix("True")
        let shapeText = try value("shape")
        guard shapeText.first == "(", let end = shapeText.firstIndex(of: ")") else {
            throw IOError(file: path, "the NumPy header's shape is \(shapeText.prefix(40)); expected a tuple such as (64, 64, 450)")
        }
        let parts = shapeText[shapeText.index(after: shapeText.startIndex)..<end].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        shape = try parts.map { part in
            guard let n = Int(part), n >= 0 else { throw IOError(file: path, "the NumPy header's shape holds '\(part)'; expected sizes") }
            return n
        }
    }

    /// The sample type of a `descr` such as `<f4`, `>i2` or `|u1`.
    static func type(_ descr: String, file: String) throws -> (SampleType, ByteOrder, String) {
        let types: [String: (SampleType, String)] = [
            "f4": (.float32, "float32"), "f8": (.float64, "float64"), "i1": (.int8, "int8"), "u1": (.uint8, "uint8"), "i2": (.int16, "int16"),
            "u2": (.uint16, "uint16"), "i4": (.int32, "int32"), "u4": (.uint32, "uint32"), "i8": (.int64, "int64"), "u8": (.uint64, "uint64"),
        ]
        guard descr.count >= 3, let orderMark = descr.first, "<>|=".contains(orderMark), let (type, name) = types[String(descr.dropFirst())] else {
            throw IOError(file: file, "holds numbers of type '\(descr)'; expected float32, float64 or an integer type of 8 "
                          + "to 64 bits (save the array as float32: array.astype('float32'))")
        }
        return (type, orderMark == ">" ? .big : .little, name)
    }

    /// The height × width × bands array, read a few megabytes at a time straight into band-major
    /// order (`SpectralCube.values`), so that the file is never held whole: C order keeps element
    /// (y, x, k) at (y·W + x)·B + k, Fortran order at y + H·x + H·W·k.
    func bandMajor(_ file: BoundedFile, height h: Int, width w: Int, bands b: Int) throws -> [Float] {
        // The file holds it all (and the size does not overflow): checked before any allocation.
        let (_, total) = try data(file, count: checkedProduct([h, w, b]), "the array", reading: false)
        let plane = h * w
        return try file.samples(at: dataOffset, count: total, type, order: order, "the array") { e in
            fortranOrder ? (e / plane) * plane + (e % h) * w + (e / h) % w : (e % b) * plane + e / b
        }
    }

    /// The first `count` elements as Double (float64 kept exact).
    func doubles(_ file: BoundedFile, count: Int, _ what: String) throws -> [Double] {
        let (bytes, n) = try data(file, count: count, what)
        guard type == .float64 else { return try bytes.samples(type, at: 0, count: n, order: order, what).map(Double.init) }
        return try (0..<n).map { Double(bitPattern: try bytes.integer(UInt64.self, at: $0 * 8, what, order)) }
    }

    /// Throws unless the file holds `count` elements after the header.
    func requireData(_ file: BoundedFile, count: Int?) throws { _ = try data(file, count: count, "the array", reading: false) }

    /// The bytes of the first `count` elements, checked against the file's length before they are
    /// read (without `reading`, only checked: none are read).
    private func data(_ file: BoundedFile, count: Int?, _ what: String, reading: Bool = true) throws -> (Bytes, Int) {
        guard let count, let bytes = checkedProduct(count, type.size), dataOffset <= file.length, bytes <= file.length - dataOffset else {
            throw IOError(file: path, "\(what) of shape \(shapeText) needs \(count.flatMap { checkedProduct($0, type.size) }.map(String.init) ?? "more") "
                          + "bytes of \(typeName) after its header, but the file holds \(max(0, file.length - dataOffset))")
        }
        return (try file.bytes(at: dataOffset, count: reading ? bytes : 0, what), count)
    }
}
