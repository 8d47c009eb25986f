import Foundation

extension SpectralCube {
    /// Reads a Galactic (Thermo GRAMS) `.spc` map in the new format with the least significant byte
    /// first (version byte 0x4B): a 512-byte header; the spectral axis, spaced evenly from the first
    /// to the last x, or a float32 array (flag TXVALS); then one subfile a spectrum, each a 32-byte
    /// header and its values: float32, or int32 (int16 with flag TSPREC) scaled by 2^(exponent − 32)
    /// (− 16). With flag TXYXYS each subfile carries its own axis, which must be the first one's.
    ///
    /// A map's spectra carry their stage position in their subfile headers, Z (`subtime`) and W
    /// (`subwlevel`): the image's columns are the distinct Z values and its rows the distinct W
    /// values, both ascending (`SPCPositions`: jitter merged, the positions a step apart). Every
    /// position holds one spectrum; a last row or column left short (an unfinished acquisition) is
    /// dropped and noted.
    /// - Throws: `IOError`: not a new-format, least-significant-byte-first SPC file; a single
    ///   spectrum; spectra at one position or on one line; positions not evenly spaced; two spectra
    ///   at one position, or a position with none elsewhere; subfile axes that differ; flags or
    ///   exponents that leave the subfiles' size unknown; a file shorter than its header says.
    public static func readSPC(_ url: URL) throws -> SpectralCube {
        let file = try BoundedFile(url)
        let path = file.path
        let header = try SPCHeader(file)
        guard header.subfiles > 1 else {
            throw IOError(file: path, "holds one spectrum (\(header.multifile ? "fnsub = 1" : "no multifile flag, TMULTI")), not a map")
        }
        let axis = try header.axis(file)
        let spectra = try (0..<header.subfiles).map { try header.subfile($0, file) }
        if header.ownAxes {
            for (i, spectrum) in spectra.enumerated().dropFirst() where try header.axis(of: spectrum, file) != axis {
                throw IOError(file: path, "subfile \(i) has its own x values (flag TXYXYS), unlike subfile 0's: spectra on different "
                              + "axes are not one image")
            }
        }
        let grid = try SPCGrid(spectra, path: path)
        let bands = axis.count, plane = grid.height * grid.width
        var values = [Float](repeating: 0, count: plane * bands)
        for (spectrum, cell) in zip(spectra, grid.cells) {
            guard let cell else { continue }
            let y = try header.values(of: spectrum, file)
            for k in 0..<bands { values[k * plane + cell] = y[k] }
        }
        return SpectralCube(height: grid.height, width: grid.width, bands: bands, values: values, axis: axis,
                            axisUnit: header.axisUnit, format: "Galactic SPC", notes: grid.notes, dataType: header.dataType)
    }
}

/// The 512-byte header of a new-format SPC file, and where its subfiles lie.
private struct SPCHeader {
    let path: String
    let flags: UInt8, exponent: Int8, points: Int, first: Double, last: Double, subfiles: Int, xType: UInt8
    var multifile: Bool { flags & 0x04 != 0 }
    var halfPrecision: Bool { flags & 0x01 != 0 }
    var ownAxes: Bool { flags & 0xC0 == 0xC0 }  // TXVALS and TXYXYS
    var sharedArray: Bool { flags & 0xC0 == 0x80 }  // TXVALS alone: one float32 axis after the header
    /// Where subfile 0 starts, and the size of each (all alike: the first one's point count).
    let start: Int, subfileSize: Int

    init(_ file: BoundedFile) throws {
        path = file.path
        guard file.length >= 512 else {
            throw IOError(file: path, "holds \(file.length) bytes: too few for an SPC header (512)")
        }
        let head = try file.bytes(at: 0, count: 512, "the SPC header")
        let version = head.raw[1]
        switch version {
        case 0x4B: break
        case 0x4C: throw IOError(file: path, "is an SPC file with the most significant byte first (version byte 0x4C): not supported; "
                                 + "save it again with the least significant byte first")
        case 0x4D: throw IOError(file: path, "is an old-format SPC file (version byte 0x4D, written before GRAMS 4): not supported; "
                                 + "save it again in the new format")
        default: throw IOError(file: path, "is not an SPC file: its version byte (byte 1) is 0x\(String(version, radix: 16, uppercase: true)); "
                               + "expected 0x4B")
        }
        flags = head.raw[0]
        exponent = Int8(bitPattern: head.raw[3])
        let declared = Int(try head.int32(at: 4, "fnpts (byte 4)"))
        first = try head.float64(at: 8, "ffirst (byte 8)")
        last = try head.float64(at: 16, "flast (byte 16)")
        let count = Int(try head.int32(at: 24, "fnsub (byte 24)"))
        subfiles = flags & 0x04 != 0 ? count : 1
        xType = head.raw[28]
        let sampleSize = flags & 0x01 != 0 && exponent != -128 ? 2 : 4
        guard flags & 0xC0 != 0x40 else {
            throw IOError(file: path, "flag TXYXYS (each subfile its own x values) is set without TXVALS (x values stored): "
                          + "no SPC writer makes that; the header is damaged")
        }
        guard subfiles > 0 else { throw IOError(file: path, "fnsub (byte 24) is \(count); expected at least one subfile") }
        if flags & 0xC0 == 0xC0 {
            // Each subfile's point count is its own (fnpts then holds a directory's offset): the first one's.
            start = 512
            let header0 = try file.bytes(at: start, count: 32, "subfile 0's header")
            points = Int(try header0.int32(at: 16, "subfile 0: subnpts"))
            subfileSize = 32 + points * (4 + sampleSize)
        } else {
            points = declared
            start = 512 + (flags & 0xC0 == 0x80 ? points * 4 : 0)
            subfileSize = 32 + points * sampleSize
        }
        guard points > 0 else {
            throw IOError(file: path, "holds spectra of \(points) points (\(flags & 0xC0 == 0xC0 ? "subfile 0's subnpts" : "fnpts, byte 4")); expected at least 1")
        }
        guard let total = checkedProduct(subfiles, subfileSize), total <= file.length - start else {
            throw IOError(file: path, "declares \(subfiles) subfiles of \(points) points (\(subfileSize) bytes each) from byte \(start), "
                          + "but the file holds \(file.length) bytes: it is truncated, or its header is damaged")
        }
    }

    /// The axis unit fxtype names: wavenumber and Raman shift (cm⁻¹), nm, µm, eV; "" for others.
    var axisUnit: String { [1: "cm⁻¹", 2: "µm", 3: "nm", 13: "Raman shift", 14: "eV"][Int(xType)] ?? "" }

    var dataType: String {
        exponent == -128 ? "float32" : halfPrecision ? "int16 (scaled)" : "int32 (scaled)"
    }

    /// The shared axis: the float32 array after the header, or evenly from `first` to `last`.
    func axis(_ file: BoundedFile) throws -> [Double] {
        if sharedArray {
            return try file.bytes(at: 512, count: points * 4, "the x values (flag TXVALS)")
                .samples(.float32, at: 0, count: points, order: .little, "the x values").map(Double.init)
        }
        if ownAxes { return try axis(of: try subfile(0, file), file) }
        guard first.isFinite, last.isFinite else {
            throw IOError(file: path, "its axis runs from ffirst = \(first) to flast = \(last) (bytes 8 and 16); expected finite numbers")
        }
        guard points > 1 else { return [first] }
        let step = (last - first) / Double(points - 1)
        return (0..<points).map { $0 == points - 1 ? last : first + Double($0) * step }
    }

    /// Subfile `i`'s header fields: its offset, Z, W and exponent.
    func subfile(_ i: Int, _ file: BoundedFile) throws -> SPCSubfile {
        let offset = start + i * subfileSize
        let head = try file.bytes(at: offset, count: 32, "subfile \(i)'s header")
        if ownAxes {
            let count = Int(try head.uint32(at: 16, "subfile \(i): subnpts"))
            guard count == points else {
                throw IOError(file: path, "subfile \(i) holds \(count) points (subnpts) and subfile 0 \(points): spectra of different lengths are not one image")
            }
        }
        return SPCSubfile(index: i, offset: offset, z: Double(try head.float32(at: 4, "subfile \(i): subtime (Z)")),
                          w: Double(try head.float32(at: 24, "subfile \(i): subwlevel (W)")), exponent: Int8(bitPattern: head.raw[1]))
    }

    /// A subfile's own axis (flag TXYXYS).
    func axis(of subfile: SPCSubfile, _ file: BoundedFile) throws -> [Double] {
        try file.bytes(at: subfile.offset + 32, count: points * 4, "subfile \(subfile.index)'s x values")
            .samples(.float32, at: 0, count: points, order: .little, "subfile \(subfile.index)'s x values").map(Double.init)
    }

    /// A subfile's values: float32, or integers scaled by its exponent.
    func values(of subfile: SPCSubfile, _ file: BoundedFile) throws -> [Float] {
        let what = "subfile \(subfile.index)'s values"
        let at = subfile.offset + 32 + (ownAxes ? points * 4 : 0)
        if halfPrecision, exponent != -128, subfile.exponent == -128 {  // float32 values in subfiles sized for 16-bit ones
            throw IOError(file: path, "subfile \(subfile.index) holds float32 values (exponent 0x80) though the header declares 16-bit "
                          + "ones (flag TSPREC, exponent \(exponent)): its size cannot be told")
        }
        if exponent == -128 || subfile.exponent == -128 {
            return try file.bytes(at: at, count: points * 4, what).samples(.float32, at: 0, count: points, order: .little, what)
        }
        let scale = Float(sign: .plus, exponent: Int(subfile.exponent) - (halfPrecision ? 16 : 32), significand: 1)
        let type: SampleType = halfPrecision ? .int16 : .int32
        return try file.bytes(at: at, count: points * type.size, what)
            .samples(type, at: 0, count: points, order: .little, what).map { $0 * scale }
    }
}

/// One spectrum of an SPC file: where it lies and its stage position.
private struct SPCSubfile { let index: Int, offset: Int, z: Double, w: Double, exponent: Int8 }

/// Where each spectrum goes: columns from the Z values, rows from the W values.
private struct SPCGrid {
    let width: Int, height: Int
    /// Each spectrum's pixel (row-major), nil for one in a dropped, unfinished last row or column.
    let cells: [Int?]
    let notes: [String]

    init(_ spectra: [SPCSubfile], path: String) throws {
        if let bad = spectra.first(where: { !$0.z.isFinite || !$0.w.isFinite }) {
            throw IOError(file: path, "subfile \(bad.index) lies at Z = \(bad.z), W = \(bad.w); expected finite positions")
        }
        let n = spectra.count
        let columns = try SPCPositions(spectra.map(\.z), axis: "Z", path: path), rows = try SPCPositions(spectra.map(\.w), axis: "W", path: path)
        var (width, height) = (columns.centres.count, rows.centres.count)
        guard width > 1, height > 1 else {
            if width == 1, height == 1 {
                throw IOError(file: path, "its \(n) spectra all lie at one position (Z = \(spectra[0].z), W = \(spectra[0].w)): the file records "
                              + "no map positions (an exporter that writes none leaves them 0); an SPC map gives each spectrum's "
                              + "position as its Z (subtime) and W (subwlevel)")
            }
            let (one, other, count) = width > 1 ? ("W", "Z", width) : ("Z", "W", height)
            throw IOError(file: path, "its \(n) spectra lie on a line (one \(one) value and \(count) \(other) values in the subfile headers), "
                          + "not an area map; an SPC map gives each spectrum's position as its Z (subtime) and W (subwlevel)")
        }
        guard let places = checkedProduct(height, width), places <= n + max(width, height) else {
            throw IOError(file: path, "its \(n) spectra lie at \(width) Z and \(height) W values: too few to fill a raster of "
                          + "\(height) × \(width); the positions are no raster")
        }
        var cells = [Int?](repeating: nil, count: n)
        var owner = [Int?](repeating: nil, count: places)
        for (i, spectrum) in spectra.enumerated() {
            let cell = rows.index(spectrum.w) * width + columns.index(spectrum.z)
            if let earlier = owner[cell] {
                throw IOError(file: path, "subfiles \(earlier) and \(i) lie at one position (Z = \(spectrum.z), W = \(spectrum.w)): "
                              + "the positions are no raster")
            }
            (owner[cell], cells[i]) = (i, cell)
        }
        var notes: [String] = []
        let empty = owner.indices.filter { owner[$0] == nil }
        if !empty.isEmpty {
            // An unfinished acquisition: the empty places all lie in the last spectrum's row (acquired row by row) or
            // column (column by column), the first or the last; that line is dropped.
            let last = cells[n - 1]!
            let (row, column) = (last / width, last % width)
            if empty.allSatisfy({ $0 / width == row }), row == 0 || row == height - 1, height > 2 {
                cells = cells.map { $0.flatMap { $0 / width == row ? nil : $0 - (row == 0 ? width : 0) } }
                height -= 1
                notes.append("unfinished acquisition: \(n) of \(places) spectra; kept the \(height) complete rows, without the row at W = \(rows.centres[row])")
            } else if empty.allSatisfy({ $0 % width == column }), column == 0 || column == width - 1, width > 2 {
                cells = cells.map { $0.flatMap { $0 % width == column ? nil : ($0 / width) * (width - 1) + $0 % width - (column == 0 ? 1 : 0) } }
                width -= 1
                notes.append("unfinished acquisition: \(n) of \(places) spectra; kept the \(width) complete columns, without the column at Z = \(columns.centres[column])")
            } else {
                let cell = empty[0]
                throw IOError(file: path, "no spectrum lies at Z = \(columns.centres[cell % width]), W = \(rows.centres[cell / width]) "
                              + "(\(empty.count) of \(height) × \(width) positions are empty, not one unfinished last row or column "
                              + "of a map that keeps two or more): the positions are no raster")
            }
        }
        (self.width, self.height, self.cells, self.notes) = (width, height, cells, notes)
    }
}

/// The distinct, evenly spaced positions among some values (a map's columns or rows), ascending.
/// Values closer than a quarter of the largest step between them are one position (stage
/// jitter), unless a position so made spans more than the step to its neighbour (a line left out
/// made that largest step): then each distinct value is one. The positions must lie a step apart
/// (the median step, within a quarter), so that a line left out is refused rather than closed up.
private struct SPCPositions {
    /// Each position's mean value, ascending.
    let centres: [Double]

    init(_ all: [Double], axis: String, path: String) throws {
        let sorted = Array(Set(all)).sorted()
        func groups(splittingAbove limit: Double) -> [[Double]] {
            var groups: [[Double]] = sorted.isEmpty ? [] : [[sorted[0]]]
            for (value, previous) in zip(sorted.dropFirst(), sorted) {
                if value - previous > limit { groups.append([value]) } else { groups[groups.count - 1].append(value) }
            }
            return groups
        }
        var positions = groups(splittingAbove: (zip(sorted.dropFirst(), sorted).map { $0 - $1 }.max() ?? 0) / 4)
        let spans = positions.map { $0.last! - $0.first! }, steps = zip(positions.dropFirst(), positions).map { $0.first! - $1.last! }
        if let widest = spans.max(), let narrowest = steps.min(), widest >= narrowest { positions = sorted.map { [$0] } }
        centres = positions.map { $0.reduce(0, +) / Double($0.count) }
        let differences = zip(centres.dropFirst(), centres).map { $0 - $1 }.sorted()
        guard !differences.isEmpty else { return }
        let step = differences[differences.count / 2]
        for (next, previous) in zip(centres.dropFirst(), centres) where abs(next - previous - step) > step / 4 {
            throw IOError(file: path, "its \(axis) positions are not evenly spaced: \(axis) = \(previous) is followed by \(axis) = \(next), "
                          + "where the step is \(step) elsewhere; a map with a line left out, or positions that are no raster, "
                          + "cannot be placed as an image")
        }
    }

    /// The position `value` belongs to: the nearest.
    func index(_ value: Double) -> Int {
        var (low, high) = (0, centres.count - 1)  // the first centre at or above value, by bisection
        while low < high {
            let middle = (low + high) / 2
            if centres[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low > 0 && value - centres[low - 1] < centres[low] - value ? low - 1 : low
    }
}
