import Foundation

extension SpectralCube {
    /// Reads an ENVI image: a text header (`.hdr`) beside a raw binary file (`.img`, `.dat`, `.raw`,
    /// `.bsq`/`.bil`/`.bip`, `.seq` or no extension). Either file may be given; the other is found beside
    /// it (also as `name.img.hdr`, and ignoring case).
    ///
    /// Supports interleave bsq/bil/bip, byte order 0/1, data types 1, 2, 3, 4, 5, 12, 13, 14 and 15,
    /// `header offset`, `wavelength` with `wavelength units` (wavenumber/cm-1 → "cm⁻¹", nanometers/nm →
    /// "nm", otherwise as written) and `data ignore value` (→ NaN). Without `wavelength` the axis is the
    /// band index (noted).
    /// - Throws: `IOError` naming the file and key: no header or data file, a missing or invalid key,
    ///   an unsupported interleave or data type, or a data file shorter than the header says.
    public static func readENVI(_ url: URL) throws -> SpectralCube { try ENVIImage(url).cube() }
}

/// An ENVI image (`SpectralCube.readENVI`), its header read and checked against its data file,
/// read whole (`cube`) or a region at a time (`region`).
public struct ENVIImage: SpectralRegionFile {
    public let url: URL
    public let height: Int, width: Int, bands: Int
    public let axis: [Double], axisUnit: String
    public let notes: [String]
    public var format: String { "ENVI" }
    /// The header's `pixel size` ({x, y, units=…}, metres where no unit is named), where it has one.
    public let pixelSize: PixelSize?
    let headerURL: URL, dataURL: URL
    let offset: Int, type: SampleType, order: ByteOrder, interleave: String, ignore: Double?

    public init(_ url: URL) throws {
        self.url = url
        (headerURL, dataURL) = try ENVIHeader.locate(url)
        let header = try ENVIHeader(headerURL)
        pixelSize = header.pixelSize()
        let samples = try header.positiveInt("samples"), lines = try header.positiveInt("lines")
        let bands = try header.positiveInt("bands")
        let offset = try header.int("header offset", default: 0)
        guard offset >= 0 else { throw header.error("header offset", "expected 0 or more, found \(offset)") }
        let type = try header.sampleType()
        let byteOrder = try header.int("byte order", default: 0)
        guard byteOrder == 0 || byteOrder == 1 else {
            throw header.error("byte order", "expected 0 (little-endian) or 1 (big-endian), found \(byteOrder)")
        }
        if let compression = header["file compression"], compression != "0" {
            throw header.error("file compression", "is \(compression): the data file is compressed, which is not read; "
                               + "decompress it (gunzip) and set 'file compression = 0' or remove the key")
        }
        let interleave = (header["interleave"] ?? (bands == 1 ? "bsq" : "")).lowercased()
        guard ["bsq", "bil", "bip"].contains(interleave) else {
            throw header.error("interleave", header["interleave"] == nil ? "missing (needed for \(bands) bands)"
                : "expected bsq, bil or bip, found '\(header["interleave"] ?? "")'")
        }
        ignore = try header["data ignore value"].map { text in
            guard let value = Double(text) else { throw header.error("data ignore value", "expected a number, found '\(text)'") }
            return value
        }
        let data = try BoundedFile(dataURL)
        guard let count = checkedProduct(samples, lines, bands), let size = checkedProduct(count, type.size),
              offset <= data.length, size <= data.length - offset else {
            throw IOError(file: dataURL.path, "holds \(data.length) bytes, but \(headerURL.lastPathComponent) says samples \(samples) × lines \(lines) × bands \(bands) × \(type.size) bytes after a header offset of \(offset)")
        }
        var notes: [String] = []
        let others = ENVIHeader.otherDataFiles(header: headerURL, data: dataURL)
        if !others.isEmpty {
            notes.append("\(others.joined(separator: ", ")) also \(others.count == 1 ? "lies" : "lie") beside the header; \(dataURL.lastPathComponent) "
                         + "is read as its data (the first of: \(ENVIHeader.dataNames(stemAndExtension(headerURL).stem).joined(separator: ", ")))")
        }
        (axis, axisUnit) = try header.spectralAxis(bands: bands, notes: &notes)  // after the size check: bands is bounded
        if data.length > offset + size {
            try ENVIHeader.refuseWholeMultiple(held: data.length - offset, image: size, type: type, offset: offset, dataURL: dataURL,
                                               headerName: headerURL.lastPathComponent)
            notes.append("\(data.length - offset - size) bytes after the image ignored")
        }
        self.notes = notes
        (height, width, self.bands, self.offset, self.type, order) = (lines, samples, bands, offset, type, byteOrder == 0 ? .little : .big)
        self.interleave = interleave
    }

    /// The whole image.
    public func cube() throws -> SpectralCube {
        // Read 4 MB at a time into band-major order: band-sequential as stored, by line (y, k, x) or by pixel (y, x, k) rearranged.
        let (samples, bands, plane) = (width, self.bands, height * width)
        let place: (Int) -> Int = switch interleave {
        case "bil": { e in (e / samples % bands) * plane + e / (samples * bands) * samples + e % samples }
        case "bip": { e in (e % bands) * plane + e / bands }
        default: { $0 }
        }
        let values = try BoundedFile(dataURL).samples(at: offset, count: plane * bands, type, order: order, ignore: ignore,
                                                      "image data", place: place)
        var cube = SpectralCube(height: height, width: width, bands: bands, values: values, axis: axis, axisUnit: axisUnit,
                                format: format, notes: notes, dataType: "\(type)")
        cube.pixelSize = pixelSize
        return cube
    }

    /// Rows `y ..< y + h`, columns `x ..< x + w` of every band, B×h×w channels first: each run the
    /// file holds contiguously read once (a band's rows, or a row's bands or pixels; whole rows
    /// read as one run where the region spans the width).
    public func region(y: Int, x: Int, height h: Int, width w: Int) throws -> [Float] {
        try requireInside(y: y, x: x, height: h, width: w)
        let file = try BoundedFile(dataURL), b = bands, full = w == width
        var out = [Float](repeating: 0, count: b * h * w)
        /// `count` values from value `first` of the file (counted as stored).
        func run(_ first: Int, _ count: Int) throws -> [Float] {
            try file.bytes(at: offset + first * type.size, count: count * type.size, "image data")
                .samples(type, at: 0, count: count, order: order, ignore: ignore, "image data")
        }
        switch interleave {
        case "bsq":  // [k][y][x]
            for k in 0..<b {
                if full {
                    let values = try run(k * height * width + y * width, h * w)
                    out.replaceSubrange((k * h * w)..<((k + 1) * h * w), with: values)
                    continue
                }
                for r in 0..<h {
                    let values = try run((k * height + y + r) * width + x, w)
                    out.replaceSubrange(((k * h + r) * w)..<((k * h + r + 1) * w), with: values)
                }
            }
        case "bil":  // [y][k][x]
            for r in 0..<h {
                if full {
                    let values = try run((y + r) * b * width, b * w)
                    for k in 0..<b { out.replaceSubrange(((k * h + r) * w)..<((k * h + r + 1) * w), with: values[(k * w)..<((k + 1) * w)]) }
                    continue
                }
                for k in 0..<b {
                    let values = try run(((y + r) * b + k) * width + x, w)
                    out.replaceSubrange(((k * h + r) * w)..<((k * h + r + 1) * w), with: values)
                }
            }
        default:  // bip: [y][x][k]
            for r in 0..<h {
                placeSpectra(try run(((y + r) * width + x) * b, w * b), fromPixel: r * w, bands: b, plane: h * w, into: &out)
            }
        }
        return out
    }
}

/// The other file of an ENVI pair that `url` belongs to (the data beside a header, or the header
/// beside data), nil for a file of no pair: what a sample in `url` is read from besides it.
public func enviCompanion(of url: URL) -> URL? {
    guard let (header, data) = try? ENVIHeader.locate(url) else { return nil }
    return header.standardizedFileURL == url.standardizedFileURL ? data : header
}

/// An ENVI header: `key = value` lines after a first line `ENVI`; keys are case-insensitive, `{…}`
/// values may span lines, lines starting with `;` and lines without `=` are skipped (as `spectral` does).
struct ENVIHeader {
    let path: String
    private var fields: [String: String] = [:]

    /// The data files ENVI headers sit beside, in the order they are looked for.
    static let dataExtensions = ["img", "dat", "raw", "bsq", "bil", "bip", "seq", ""]

    /// The header and the data file for `url`, whichever of the two it names (a header ends `.hdr` or
    /// starts `ENVI`).
    /// The names a header's data file may have, in the order they are looked for.
    static func dataNames(_ stem: String) -> [String] {
        let names = (stem.contains(".") ? [stem] : []) + dataExtensions.map { $0.isEmpty ? stem : "\(stem).\($0)" }  // name.img.hdr → name.img
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    /// The other files beside `header` that could be its data file (the one read is `data`).
    static func otherDataFiles(header: URL, data: URL) -> [String] {
        guard stemAndExtension(header).1 == "hdr" else { return [] }
        let folder = header.deletingLastPathComponent()
        // By the file found, not the name looked for: `spot.IMG` is found as `spot.img` too.
        var seen: Set<String> = [data.lastPathComponent]
        return dataNames(stemAndExtension(header).0).compactMap { sibling($0, in: folder)?.lastPathComponent }
            .filter { seen.insert($0).inserted }
    }

    static func locate(_ url: URL) throws -> (header: URL, data: URL) {
        let folder = url.deletingLastPathComponent()
        let (stem, ext) = stemAndExtension(url)
        let startsENVI = (try? BoundedFile(url).bytes(at: 0, count: 4, "signature").ascii(at: 0, length: 4)) == "ENVI"
        if ext == "hdr" || startsENVI {
            let names = dataNames(stem)
            for name in names {
                if let data = sibling(name, in: folder) { return (url, data) }
            }
            let folders = names.filter { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
            throw IOError(file: url.path, "no data file beside this ENVI header (looked for \(stem) with extension \(dataExtensions.filter { !$0.isEmpty }.joined(separator: ", ")) or none)"
                          + (folders.isEmpty ? "" : "; \(folders.joined(separator: ", ")) \(folders.count == 1 ? "is a folder" : "are folders"), not a file"))
        }
        for name in ["\(url.lastPathComponent).hdr", "\(stem).hdr"] {
            if let header = sibling(name, in: folder) { return (header, url) }
        }
        throw IOError(file: url.path, "no ENVI header beside it (looked for \(url.lastPathComponent).hdr and \(stem).hdr)")
    }

    init(_ url: URL) throws {
        path = url.path
        let file = try BoundedFile(url)
        guard file.length <= 64 << 20 else {
            throw IOError(file: path, "is \(file.length) bytes, too large for an ENVI header (at most 64 MiB)")
        }
        let raw = try file.all("header").raw
        if let nul = raw.firstIndex(of: 0) {  // invisible in any message that quoted the value
            throw IOError(file: path, "holds a NUL byte (byte \(nul), line \(raw[..<nul].filter { $0 == 10 }.count + 1)): "
                          + "not a text ENVI header, or a damaged one")
        }
        guard let text = String(bytes: raw, encoding: .utf8) ?? String(bytes: raw, encoding: .isoLatin1) else {
            throw IOError(file: path, "is not a text ENVI header")
        }
        var lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)[...]
        guard let first = lines.popFirst(), first.trimmingCharacters(in: .whitespaces).hasPrefix("ENVI") else {
            throw IOError(file: path, "is not an ENVI header: the first line must be 'ENVI'")
        }
        var lineNumber = 1
        while let line = lines.popFirst() {
            lineNumber += 1
            guard !line.hasPrefix(";"), let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("{") {
                let opened = lineNumber
                var closed = value.contains("}")
                while !closed {  // each line looked at once: a list of many lines reads in linear time
                    guard let next = lines.popFirst() else {
                        throw IOError(file: path, "key '\(key)': the '{' on line \(opened) is never closed")
                    }
                    lineNumber += 1
                    if !next.hasPrefix(";") { value += "\n" + next; closed = next.contains("}") }
                }
                value = String(value.dropFirst().prefix { $0 != "}" }).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            // A key given twice with two values: which one the instrument meant cannot be told.
            if let earlier = fields[key], earlier != value {
                throw IOError(file: path, "key '\(key)' is given twice, as '\(earlier.prefix(40))' and then '\(value.prefix(40))' "
                              + "(line \(lineNumber)); which one is meant cannot be told")
            }
            fields[key] = value
        }
    }

    subscript(key: String) -> String? { fields[key] }

    /// `pixel size = {x, y, units=Micrometers}` in µm (ENVI's unit is metres where none is named),
    /// where it is a microscope's pixel (at most 1 mm); nil without the key, or where it is no
    /// length (units=Degrees, Unknown), not two numbers above 0, or a map's metres (a satellite
    /// image's 30 m). Only areas depend on it: a file whose key is none of these reads as one without it.
    func pixelSize() -> PixelSize? {
        guard let text = fields["pixel size"] else { return nil }
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        var unit = parts.first { $0.lowercased().hasPrefix("units") }
            .map { $0.split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "" } ?? "meters"
        if unit.hasSuffix("s") && unit.count > 2 { unit.removeLast() }  // Meters and Meter alike
        let perUnit: [String: Double] = ["meter": 1e6, "metre": 1e6, "m": 1e6, "centimeter": 1e4, "centimetre": 1e4, "cm": 1e4,
                                         "millimeter": 1e3, "millimetre": 1e3, "mm": 1e3, "micrometer": 1, "micrometre": 1,
                                         "micron": 1, "um": 1, "µm": 1, "nanometer": 1e-3, "nanometre": 1e-3, "nm": 1e-3]
        let sides = parts.filter { !$0.lowercased().hasPrefix("units") }.map { Double($0) }
        guard sides.count == 2, let x = sides[0], let y = sides[1], let factor = perUnit[unit],
              let size = PixelSize(x: x * factor, y: y * factor), size.x <= 1000, size.y <= 1000 else { return nil }
        return size
    }

    func error(_ key: String, _ message: String) -> IOError { IOError(file: path, "key '\(key)': \(message)") }

    func int(_ key: String, default fallback: Int? = nil) throws -> Int {
        guard let text = fields[key] else {
            if let fallback { return fallback }
            throw error(key, "missing")
        }
        guard let value = Int(text) else { throw error(key, "expected an integer, found '\(text)'") }
        return value
    }

    func positiveInt(_ key: String) throws -> Int {
        let value = try int(key)
        guard value > 0 else { throw error(key, "expected a positive integer, found \(value)") }
        return value
    }

    static let sampleTypes: [Int: SampleType] = [1: .uint8, 2: .int16, 3: .int32, 4: .float32, 5: .float64, 12: .uint16,
                                                 13: .uint32, 14: .int64, 15: .uint64]

    func sampleType() throws -> SampleType {
        let code = try int("data type")
        guard let type = Self.sampleTypes[code] else {
            throw error("data type", "\(code) is not supported; expected one of 1, 2, 3, 4, 5, 12, 13, 14, 15")
        }
        return type
    }

    /// Refuses a data file that holds exactly 2, 4 or 8 times the image after its offset where
    /// values that many times wider exist: the header's data type is then most likely wrong (a
    /// float64 cube declared float32), and reading it would give values that mean nothing.
    static func refuseWholeMultiple(held: Int, image: Int, type: SampleType, offset: Int, dataURL: URL, headerName: String) throws {
        guard image > 0, held % image == 0, [2, 4, 8].contains(held / image) else { return }
        let wider = sampleTypes.filter { $0.value.size == type.size * (held / image) }.sorted { $0.key < $1.key }
        guard !wider.isEmpty else { return }
        throw IOError(file: dataURL.path, "holds \(held) bytes after a header offset of \(offset): exactly \(held / image) times the "
                      + "image \(headerName) describes with data type \(type) (\(type.size) bytes a value), so its 'data type' is most "
                      + "likely wrong: " + wider.map { "\($0.key) (\($0.value))" }.joined(separator: ", ") + " would fill the file exactly "
                      + "(or 'samples', 'lines' or 'bands' are); mend the header")
    }

    /// `wavelength` and its units, or the band index (noted) when there is no `wavelength`.
    func spectralAxis(bands: Int, notes: inout [String]) throws -> ([Double], String) {
        guard let list = fields["wavelength"] else {
            notes.append("no wavelength in the header: the axis is the band index")
            return ((0..<bands).map(Double.init), "")
        }
        let items = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard items.count == bands else {
            // Decimal commas split each value in two: "400,0, 404,5" reads as four values.
            let commas = !list.contains(".") && (list.contains(";") || items.count == 2 * bands && items.allSatisfy { Double($0) != nil })
                ? "; its values look written with decimal commas ('\(items.prefix(2).joined(separator: ",").prefix(40))'), which ENVI does not take: "
                    + "write decimal points" : ""
            throw error("wavelength", "\(items.count) values for \(bands) bands\(commas)")
        }
        let axis = try items.map { item in
            guard let value = Double(item) else { throw error("wavelength", "expected numbers, found '\(item)'") }
            return value
        }
        return (axis, SpectralCube.unit(written: fields["wavelength units"] ?? ""))
    }
}
