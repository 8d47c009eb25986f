import Foundation

extension SpectralCube {
    /// Reads a Renishaw WiRE `.wdf` area map whole (`WiREMap`).
    public static func readWiRE(_ url: URL) throws -> SpectralCube { try WiREMap(url).cube() }
}

/// A Renishaw WiRE `.wdf` area map: a chain of blocks, each a 16-byte header (4-character id,
/// uint32 uid, uint64 size including the header) — `WDF1` (512 bytes: points per spectrum at 0x3C,
/// capacity at 0x40, spectra collected at 0x48), `DATA` (float32 spectra), `XLST` (the spectral
/// axis and its unit), `WMAP` (the map area: flags, start, step, sizes) and `ORGN` (each spectrum's
/// stage position). Read whole (`cube`) or a region at a time (`region`: a row's spectra, or a
/// column's in a column-major map, are one run of the file).
///
/// The image is WMAP's width × height, X fastest, or Y fastest with the column-major flag. Where
/// ORGN holds X and Y, every spectrum's position is checked against that raster. An unfinished
/// acquisition (collected < capacity) keeps its complete lines (noted).
public struct WiREMap: SpectralRegionFile {
    public let url: URL
    public let height: Int, width: Int, bands: Int
    public let axis: [Double]
    public let axisUnit: String
    public var format: String { "Renishaw WiRE" }
    public let notes: [String]
    /// Where spectrum 0 begins, and whether spectra run down columns (Y fastest).
    private let dataOffset: Int, columnMajor: Bool

    /// Reads the blocks' headers, the axis and the map area, and checks the positions.
    /// - Throws: `IOError`: not a WDF file, a block running past the end of the file, a single spectrum
    ///   or series (no WMAP: not an image), a snake, random-point or line map (naming the WMAP flag), a
    ///   volume, sizes that disagree, or positions that are no raster.
    public init(_ url: URL) throws {
        self.url = url
        let file = try BoundedFile(url)
        let path = file.path
        guard file.length >= 512, try file.bytes(at: 0, count: 4, "magic").ascii(at: 0, length: 4) == "WDF1" else {
            throw IOError(file: path, "is not a Renishaw WiRE file: it does not start with a 512-byte WDF1 block")
        }
        let blocks = try wdfBlocks(file)
        guard let first = blocks["WDF1"], first.offset == 0, first.size == 512 else {
            throw IOError(file: path, "block WDF1: expected 512 bytes at offset 0, found \(blocks["WDF1"]?.size ?? 0)")
        }
        let header = try file.bytes(at: 0, count: 512, "block WDF1")
        let points = Int(try header.uint32(at: 0x3C, "WDF1 points per spectrum (byte 0x3C)"))
        let capacity = try header.count64(at: 0x40, "WDF1 capacity (byte 0x40)")
        let collected = try header.count64(at: 0x48, "WDF1 spectra collected (byte 0x48)")
        let xlistLength = Int(try header.uint32(at: 0x58, "WDF1 x-list length (byte 0x58)"))
        let measurement = try header.uint32(at: 0x84, "WDF1 measurement type (byte 0x84)")

        guard let wmap = blocks["WMAP"] else {
            let kind = [1: "a single spectrum", 2: "a series of spectra", 3: "a map"][measurement] ?? "measurement type \(measurement)"
            throw IOError(file: path, "is not an image: \(kind) with no WMAP (map area) block")
        }
        guard points > 0, xlistLength == points else {
            throw IOError(file: path, "WDF1: \(points) points per spectrum (byte 0x3C) and an x-list of \(xlistLength) (byte 0x58); expected the same positive number")
        }
        guard collected > 0, collected <= capacity else {
            throw IOError(file: path, "WDF1: \(collected) spectra collected (byte 0x48) of a capacity of \(capacity) (byte 0x40); expected 1 to capacity")
        }
        let map = try WDFMapArea(file, wmap, capacity: capacity)
        var notes: [String] = []
        var (width, height) = (map.width, map.height)
        if collected < capacity {
            if map.columnMajor { width = collected / height } else { height = collected / width }
            guard width > 0, height > 0 else {
                throw IOError(file: path, "unfinished acquisition: \(collected) of \(capacity) spectra, not one complete \(map.columnMajor ? "column" : "line")")
            }
            notes.append("unfinished acquisition: \(collected) of \(capacity) spectra collected; kept \(map.columnMajor ? width : height) complete \(map.columnMajor ? "columns" : "lines")")
        }
        if map.flags & 8 != 0 { notes.append("line-focus (StreamLine) map read as a raster") }
        if map.step.x < 0 || map.step.y < 0 { notes.append("negative WMAP step: pixels in acquisition order, mirrored against stage coordinates") }
        let used = width * height  // ≤ capacity, which matched width × height

        let axis = try wdfAxis(file, blocks["XLST"], points: points)
        guard let data = blocks["DATA"], let bytes = checkedProduct(used, points, 4), bytes <= data.size - 16 else {
            throw IOError(file: path, "block DATA: \(blocks["DATA"].map { "holds \($0.size - 16) bytes" } ?? "missing"); expected \(used) spectra × \(points) points × 4 bytes")
        }
        let columnMajor = map.columnMajor
        if let origin = blocks["ORGN"] {
            try map.checkPositions(file, origin, capacity: capacity, count: used,
                                   place: columnMajor ? { ($0 / height, $0 % height) } : { ($0 % width, $0 / width) })
        } else {
            notes.append("no ORGN block: spectra placed by WMAP alone")
        }
        (self.height, self.width, bands, self.axis, axisUnit) = (height, width, points, axis.values, axis.unit)
        (self.notes, dataOffset, self.columnMajor) = (notes, data.offset + 16, columnMajor)
    }

    /// The whole map: spectrum i's point k, read 4 MB at a time, at band k of its pixel.
    public func cube() throws -> SpectralCube {
        let (plane, points, h, w) = (width * height, bands, height, width)
        let values = try BoundedFile(url).samples(at: dataOffset, count: plane * points, .float32, order: .little, "block DATA") { [columnMajor] e in
            let i = e / points
            return (e % points) * plane + (columnMajor ? (i % h) * w + i / h : i)
        }
        return SpectralCube(height: height, width: width, bands: bands, values: values, axis: axis,
                            axisUnit: axisUnit, format: format, notes: notes)
    }

    /// A map stored column by column holds every row of a column together: a reading of whole
    /// rows takes them all where they fit, rather than a few spectra of each column at a time.
    public var rowsStoredTogether: Int { columnMajor ? height : 1 }

    /// Rows `y ..< y + h`, columns `x ..< x + w` of every band, B×h×w channels first: a row's
    /// spectra (a column's, Y fastest) read as one run.
    public func region(y: Int, x: Int, height h: Int, width w: Int) throws -> [Float] {
        try requireInside(y: y, x: x, height: h, width: w)
        let file = try BoundedFile(url), b = bands
        var out = [Float](repeating: 0, count: b * h * w)
        // Run j: `count` spectra from spectrum `first`, a row of the region (a column, Y fastest).
        let (runs, count) = columnMajor ? (w, h) : (h, w)
        for j in 0..<runs {
            let first = columnMajor ? (x + j) * height + y : (y + j) * width + x
            let values = try file.bytes(at: dataOffset + first * b * 4, count: count * b * 4, "block DATA")
                .samples(.float32, at: 0, count: count * b, order: .little, "block DATA")
            guard columnMajor else { placeSpectra(values, fromPixel: j * w, bands: b, plane: h * w, into: &out); continue }
            for s in 0..<count { for k in 0..<b { out[k * h * w + s * w + j] = values[s * b + k] } }  // down column j
        }
        return out
    }
}

/// A block of a WDF file: where it starts and its size, header included.
private struct WDFBlock { let offset: Int, size: Int }

/// The file's blocks by id (the first of each), every one checked to lie within the file.
private func wdfBlocks(_ file: BoundedFile) throws -> [String: WDFBlock] {
    var blocks: [String: WDFBlock] = [:]
    var offset = 0
    while offset < file.length {
        guard file.length - offset >= 16 else {
            throw IOError(file: file.path, "\(file.length - offset) bytes at offset \(offset) are too few for a block header (16): the file is truncated")
        }
        let head = try file.bytes(at: offset, count: 16, "block header at offset \(offset)")
        let id = head.ascii(at: 0, length: 4)
        let size = try head.count64(at: 8, "block '\(id)' at offset \(offset): size")
        guard size >= 16, size <= file.length - offset else {
            throw IOError(file: file.path, "block '\(id)' at offset \(offset) declares \(size) bytes, but \(size < 16 ? "a block holds at least its 16-byte header" : "only \(file.length - offset) remain in the file")")
        }
        if blocks[id] == nil { blocks[id] = WDFBlock(offset: offset, size: size) }
        offset += size
    }
    return blocks
}

/// The spectral axis from the XLST block: uint32 type, uint32 unit code, then `points` float32.
private func wdfAxis(_ file: BoundedFile, _ block: WDFBlock?, points: Int) throws -> (values: [Double], unit: String) {
    guard let block, let bytes = checkedProduct(points, 4), bytes <= block.size - 24 else {
        throw IOError(file: file.path, "block XLST: \(block.map { "holds \($0.size - 16) bytes" } ?? "missing"); expected 8 + \(points) points × 4 bytes")
    }
    let list = try file.bytes(at: block.offset + 16, count: 8 + bytes, "block XLST")
    // WiRE's unit codes: 1 Raman shift (cm⁻¹ from the laser line), 2 "wavenumber" (nm, as WiRE
    // writes it), 3 nanometre, 4 electronvolt, 5 micron.
    let units = [1: "Raman shift", 2: "nm", 3: "nm", 4: "eV", 5: "µm"]
    let unit = units[Int(try list.uint32(at: 4, "XLST unit"))] ?? ""
    return (try list.samples(.float32, at: 8, count: points, order: .little, "XLST").map(Double.init), unit)
}

/// The WMAP block: uint32 flags, uint32 unused, float32 start X, Y, Z, float32 step X, Y, Z, uint32
/// sizes X, Y, Z, uint32 line-focus size. Flags: 1 random points, 2 column major (Y fastest),
/// 4 alternating (snake), 8 line focus, 64 surface profile, 128 XY line.
private struct WDFMapArea {
    let flags: UInt32, width: Int, height: Int
    let start: (x: Double, y: Double), step: (x: Double, y: Double)
    var columnMajor: Bool { flags & 2 != 0 }

    init(_ file: BoundedFile, _ block: WDFBlock, capacity: Int) throws {
        guard block.size >= 64 else { throw IOError(file: file.path, "block WMAP holds \(block.size) bytes; expected 64") }
        let area = try file.bytes(at: block.offset + 16, count: 48, "block WMAP")
        flags = try area.uint32(at: 0, "WMAP flags")
        let hex = "WMAP flags 0x\(String(flags, radix: 16))"
        if flags & 1 != 0 { throw IOError(file: file.path, "\(hex): random points (flag 1), not a raster: not supported") }
        if flags & 4 != 0 { throw IOError(file: file.path, "\(hex): a snake scan (alternating, flag 4): not supported") }
        if flags & 128 != 0 { throw IOError(file: file.path, "\(hex): a line (XY line, flag 128), not an area: not an image") }
        start = (Double(try area.float32(at: 8, "WMAP start X")), Double(try area.float32(at: 12, "WMAP start Y")))
        step = (Double(try area.float32(at: 20, "WMAP step X")), Double(try area.float32(at: 24, "WMAP step Y")))
        width = Int(try area.uint32(at: 32, "WMAP size X"))
        height = Int(try area.uint32(at: 36, "WMAP size Y"))
        let depth = try area.uint32(at: 40, "WMAP size Z")
        guard depth <= 1 else { throw IOError(file: file.path, "WMAP size Z \(depth): a volume map, not supported") }
        guard width > 0, height > 0, checkedProduct(width, height) == capacity else {
            throw IOError(file: file.path, "WMAP sizes \(width) × \(height) do not match the WDF1 capacity of \(capacity) spectra")
        }
    }

    /// Checks that ORGN's X and Y positions of the first `count` spectra lie on the raster that `place`
    /// puts them on (within half a step). ORGN: uint32 list count, then lists of uint32 type (X 3, Y 4;
    /// top bit a flag), uint32 unit, 16-byte label and `capacity` float64 values.
    func checkPositions(_ file: BoundedFile, _ block: WDFBlock, capacity: Int, count: Int,
                        place: (Int) -> (x: Int, y: Int)) throws {
        let lists = Int(try file.bytes(at: block.offset + 16, count: min(4, block.size - 16), "block ORGN").uint32(at: 0, "ORGN list count"))
        guard let stride = checkedProduct(capacity, 8).map({ $0 + 24 }), let total = checkedProduct(lists, stride),
              total <= block.size - 20 else {
            throw IOError(file: file.path, "block ORGN holds \(block.size - 20) bytes of lists; expected \(lists) lists of 24 + \(capacity) × 8 bytes")
        }
        var positions: [UInt32: [Double]] = [:]
        for list in 0..<lists {
            let offset = block.offset + 20 + list * stride
            let type = try file.bytes(at: offset, count: 4, "ORGN list \(list)").uint32(at: 0, "ORGN list \(list) type") & 0x7fff_ffff
            guard type == 3 || type == 4, positions[type] == nil else { continue }
            let values = try file.bytes(at: offset + 24, count: count * 8, "ORGN list \(list)")
            positions[type] = try (0..<count).map { try values.float64(at: $0 * 8, "ORGN list \(list)") }
        }
        guard let xs = positions[3], let ys = positions[4] else { return }
        for i in 0..<count {
            let (x, y) = place(i)
            let expected = (x: start.x + step.x * Double(x), y: start.y + step.y * Double(y))
            let off = (x: abs(xs[i] - expected.x), y: abs(ys[i] - expected.y))
            guard off.x <= max(abs(step.x) / 2, 1e-6), off.y <= max(abs(step.y) / 2, 1e-6) else {
                throw IOError(file: file.path, "spectrum \(i) lies at X = \(xs[i]), Y = \(ys[i]) (ORGN), but WMAP (flags 0x\(String(flags, radix: 16)), \(columnMajor ? "Y" : "X") fastest) puts it at column \(x), row \(y) (X = \(expected.x), Y = \(expected.y)): the acquisition order is no plain raster")
            }
        }
    }
}
