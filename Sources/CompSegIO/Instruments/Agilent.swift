import Foundation

extension SpectralCube {
    /// Reads one Agilent Resolutions Pro FPA tile: `name.dat` (little-endian float32: a 255-value
    /// preamble, then the spectra band by band, each band a side × side image row by row) with the
    /// spectral axis from `name.bsp` beside it. Either file may be given.
    ///
    /// Orientation is agilent-format's default (`MAT=False`): rows as stored, which is Cartesian order
    /// (row 0 at the bottom of the field of view; agilent-format's `MAT=True` flips it).
    /// The side is √((values − 255) / Npts) and must be a power of two from 2 to 128.
    /// - Throws: `IOError`: a `.seq` (interferograms, not spectra), a missing `.bsp`/`.dat`, a header too
    ///   short or with an invalid Npts/PtSep, or a data size that is no square FPA of Npts-point spectra.
    public static func readAgilentTile(_ url: URL) throws -> SpectralCube {
        let (dat, bsp) = try agilentTileFiles(url)
        let axis = try AgilentAxis(bsp)
        let file = try BoundedFile(dat)
        let side = try axis.fpaSide(byteCount: file.length, file: dat.path)
        let values = try file.samples(at: AgilentAxis.preamble, count: side * side * axis.points, .float32, order: .little, "spectra") { $0 }
        return SpectralCube(height: side, width: side, bands: axis.points, values: values, axis: axis.wavenumbers,
                            axisUnit: "cm⁻¹", format: "Agilent FPA tile")
    }

    /// Reads an Agilent Resolutions Pro FPA mosaic (`AgilentMosaic`): `name.dmt` (the spectral axis, as in a `.bsp`) and its
    /// tiles `name_XXXX_YYYY.dmd` beside it, each laid out as a tile `.dat`, stitched into one image. A
    /// `.dmd` tile may be given instead of the `.dmt`.
    ///
    /// Orientation is agilent-format's default (`MAT=False`): tiles are numbered left to right and top to
    /// bottom, each tile's rows run bottom to top, so tile row Y lands at image rows (rows − Y − 1)·side
    /// and the image is in Cartesian order (row 0 at the bottom). The grid is (highest X + 1) × (highest
    /// Y + 1) tiles; missing tiles are NaN (noted), refused when more are missing than present.
    /// - Throws: `IOError`: no `.dmt` or no `_0000_0000.dmd`, tiles of different sizes, or a tile size that
    ///   is no square FPA of Npts-point spectra.
    public static func readAgilentMosaic(_ url: URL) throws -> SpectralCube { try AgilentMosaic(url).cube() }

    /// The files an Agilent tile or mosaic in `url` is read from: a tile's `.dat` and `.bsp`, or a
    /// mosaic's `.dmt` and its tiles row by row.
    /// - Throws: `IOError` as the readers do when a file is missing.
    static func agilentFiles(_ url: URL) throws -> [URL] {
        if ["dmt", "dmd"].contains(stemAndExtension(url).1) {
            let (dmt, tiles) = try agilentMosaicFiles(url)
            return [dmt] + tiles.keys.sorted().flatMap { y in tiles[y]!.sorted { $0.key < $1.key }.map(\.value) }
        }
        let (dat, bsp) = try agilentTileFiles(url)
        return [dat, bsp]
    }

    /// A tile's spectra (`.dat`) and axis (`.bsp`), whichever of the two `url` names.
    private static func agilentTileFiles(_ url: URL) throws -> (dat: URL, bsp: URL) {
        let folder = url.deletingLastPathComponent()
        let (stem, ext) = stemAndExtension(url)
        switch ext {
        case "dat", "bsp": break
        case "seq": throw IOError(file: url.path, "holds interferograms (Resolutions Pro .seq), not spectra: read \(stem).dat")
        default: throw IOError(file: url.path, "is not an Agilent FPA tile: expected a .dat or its .bsp")
        }
        guard let dat = ext == "dat" ? url : sibling("\(stem).dat", in: folder) else {
            throw IOError(file: url.path, "no \(stem).dat beside it: the spectra are there")
        }
        guard let bsp = ext == "bsp" ? url : sibling("\(stem).bsp", in: folder) else {
            throw IOError(file: url.path, "no \(stem).bsp beside it: the spectral axis is there")
        }
        return (dat, bsp)
    }

    /// A mosaic's axis file (`.dmt`) and its tiles by [y][x] (tile (0, 0) among them), whether `url`
    /// names the `.dmt` or a tile.
    static func agilentMosaicFiles(_ url: URL) throws -> (dmt: URL, tiles: [Int: [Int: URL]]) {
        let folder = url.deletingLastPathComponent()
        var (stem, ext) = stemAndExtension(url)
        if ext == "dmd", let tile = AgilentTileName(stem + ".dmd", base: nil) {
            stem = tile.base
        } else if ext != "dmt" {
            throw IOError(file: url.path, "is not an Agilent FPA mosaic: expected a .dmt or one of its _XXXX_YYYY.dmd tiles")
        }
        guard let dmt = ext == "dmt" ? url : sibling("\(stem).dmt", in: folder) else {
            throw IOError(file: url.path, "no \(stem).dmt beside it: the spectral axis is there")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.sorted() ?? []
        guard let first = names.first(where: { $0.lowercased() == "\(stem)_0000_0000.dmd".lowercased() }) else {
            throw IOError(file: dmt.path, "no tile \(stem)_0000_0000.dmd beside it")
        }
        let base = String(first.dropLast("_0000_0000.dmd".count))
        var tiles: [Int: [Int: URL]] = [:]
        for name in names {
            guard let tile = AgilentTileName(name, base: base), tiles[tile.y]?[tile.x] == nil else { continue }
            tiles[tile.y, default: [:]][tile.x] = folder.appendingPathComponent(name)
        }
        return (dmt, tiles)
    }
}

/// The spectral axis an Agilent `.bsp` or `.dmt` holds at fixed offsets: float64 PtSep at byte 2216,
/// int32 StartPt at 2228, int32 Npts at 2236; wavenumbers are PtSep·(StartPt + i).
struct AgilentAxis: Sendable {
    /// Bytes before the spectra in a `.dat` or `.dmd`: 255 float32 values.
    static let preamble = 1020
    let path: String
    let points: Int, separation: Double, start: Int

    init(_ url: URL) throws {
        path = url.path
        let bytes = try BoundedFile(url).bytes(at: 2216, count: 24, "spectral axis (PtSep at byte 2216, StartPt at 2228, Npts at 2236)")
        separation = try bytes.float64(at: 0, "PtSep")
        start = Int(try bytes.int32(at: 12, "StartPt"))
        points = Int(try bytes.int32(at: 20, "Npts"))
        guard points > 0 else { throw IOError(file: path, "Npts (byte 2236): expected a positive point count, found \(points)") }
        guard separation.isFinite, separation > 0 else {
            throw IOError(file: path, "PtSep (byte 2216): expected a positive point spacing, found \(separation)")
        }
    }

    var wavenumbers: [Double] { (0..<points).map { separation * Double(start + $0) } }

    /// The side of the square FPA whose spectra fill a `.dat`/`.dmd` of `byteCount` bytes.
    func fpaSide(byteCount: Int, file: String) throws -> Int {
        let spectra = byteCount / 4 - 255
        let pixels = spectra > 0 && spectra % points == 0 ? spectra / points : 0
        let side = Int(Double(pixels).squareRoot().rounded())
        guard byteCount % 4 == 0, side * side == pixels, (2...128).contains(side), side & (side - 1) == 0 else {
            throw IOError(file: file, "holds \(byteCount) bytes: expected a 1020-byte preamble, then float32 spectra of Npts = \(points) points (from \((path as NSString).lastPathComponent)) for a square FPA of side 2, 4, …, 128")
        }
        return side
    }
}

/// A mosaic tile's name, `base_XXXX_YYYY.dmd`.
private struct AgilentTileName {
    let base: String, x: Int, y: Int

    /// Parses `name`; with `base` given, only names that start with it exactly.
    init?(_ name: String, base expected: String?) {
        let characters = Array(name)
        guard characters.count > 14, name.lowercased().hasSuffix(".dmd") else { return nil }
        let tail = characters.suffix(14)  // _XXXX_YYYY.dmd
        let digits = Array(tail.dropFirst().prefix(4)) + Array(tail.dropFirst(6).prefix(4))
        guard tail.first == "_", tail[tail.startIndex + 5] == "_", digits.allSatisfy({ ("0"..."9").contains($0) }),
              let x = Int(String(digits.prefix(4))), let y = Int(String(digits.suffix(4))) else { return nil }
        base = String(characters.dropLast(14))
        guard expected == nil || base == expected else { return nil }
        (self.x, self.y) = (x, y)
    }
}

/// An Agilent FPA mosaic (`SpectralCube.readAgilentMosaic`), its axis and tile grid read and
/// checked, read whole (`cube`) or a region at a time (`region`: only the tiles it touches, each
/// band's rows of them as one run).
public struct AgilentMosaic: SpectralRegionFile {
    public let url: URL
    public let height: Int, width: Int
    public var bands: Int { axisFile.points }
    public var axis: [Double] { axisFile.wavenumbers }
    public var axisUnit: String { "cm⁻¹" }
    public var format: String { "Agilent FPA mosaic" }
    public let notes: [String]
    let axisFile: AgilentAxis
    /// The tiles by [y][x] as numbered (tile row y lies at image rows (rows − y − 1)·side), their side and size in bytes.
    let tiles: [Int: [Int: URL]]
    let rows: Int, columns: Int, side: Int, tileBytes: Int
    let first: URL

    public init(_ url: URL) throws {
        self.url = url
        let (dmt, tiles) = try SpectralCube.agilentMosaicFiles(url)
        axisFile = try AgilentAxis(dmt)
        guard let first = tiles[0]?[0] else { throw IOError(file: dmt.path, "no tile (0, 0) beside it") }
        let columns = (tiles.values.flatMap(\.keys).max() ?? 0) + 1, rows = (tiles.keys.max() ?? 0) + 1
        let present = tiles.values.map(\.count).reduce(0, +), missing = columns * rows - present
        guard missing <= present else {
            throw IOError(file: dmt.path, "tiles name a grid of \(columns) × \(rows), but only \(present) of its \(columns * rows) tiles are there")
        }
        tileBytes = try BoundedFile(first).length
        side = try axisFile.fpaSide(byteCount: tileBytes, file: first.path)
        guard checkedProduct(rows * side, columns * side, axisFile.points) != nil else {
            throw IOError(file: dmt.path, "a mosaic of \(columns) × \(rows) tiles of \(side) × \(side) × \(axisFile.points) is too large")
        }
        var absent: [String] = []
        for y in 0..<rows { for x in 0..<columns where tiles[y]?[x] == nil { absent.append("(\(x), \(y))") } }
        notes = absent.isEmpty ? [] : ["\(absent.count) missing tiles (x, y) left as NaN: \(absent.prefix(10).joined(separator: ", "))\(absent.count > 10 ? ", …" : "")"]
        (self.tiles, self.rows, self.columns, self.first) = (tiles, rows, columns, first)
        (height, width) = (rows * side, columns * side)
    }

    /// The whole mosaic, missing tiles NaN.
    public func cube() throws -> SpectralCube {
        SpectralCube(height: height, width: width, bands: bands, values: try region(y: 0, x: 0, height: height, width: width),
                     axis: axis, axisUnit: axisUnit, format: format, notes: notes)
    }

    /// Rows `y ..< y + h`, columns `x ..< x + w` of every band, B×h×w channels first; NaN where a tile is missing.
    public func region(y: Int, x: Int, height h: Int, width w: Int) throws -> [Float] {
        try requireInside(y: y, x: x, height: h, width: w)
        let b = bands
        var out = [Float](repeating: .nan, count: b * h * w)
        for gridRow in (y / side)...((y + h - 1) / side) {
            let top = gridRow * side, tileY = rows - gridRow - 1  // image rows top ..< top + side
            let (r0, r1) = (max(y, top) - top, min(y + h, top + side) - top)  // the tile's rows the region takes
            for tileX in (x / side)...((x + w - 1) / side) {
                guard let url = tiles[tileY]?[tileX] else { continue }
                let left = tileX * side
                let (c0, c1) = (max(x, left) - left, min(x + w, left + side) - left)
                let file = try BoundedFile(url)
                guard file.length == tileBytes else {
                    throw IOError(file: url.path, "holds \(file.length) bytes, but tile \(first.lastPathComponent) holds \(tileBytes): tiles differ in size")
                }
                for k in 0..<b {  // the tile's (k, r, c), band-major: band k's rows r0 ..< r1 as one run
                    let run = try file.bytes(at: AgilentAxis.preamble + (k * side + r0) * side * 4, count: (r1 - r0) * side * 4, "spectra")
                        .samples(.float32, at: 0, count: (r1 - r0) * side, order: .little, "spectra")
                    for r in r0..<r1 {
                        let target = (k * h + top + r - y) * w + left - x
                        for c in c0..<c1 { out[target + c] = run[(r - r0) * side + c] }
                    }
                }
            }
        }
        return out
    }
}
