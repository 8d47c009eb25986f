import Foundation

extension SpectralCube {
    /// Reads a map exported as text, tab, comma or whitespace separated, after optional header lines
    /// (lines starting with `#`, and lines before the first all-numeric one). Two layouts, told apart by
    /// content:
    /// - long, `X Y Wave Intensity` one row per point, as WiRE and LabSpec export (any row order);
    /// - wide, a first row of wavenumbers (optionally after two empty cells), then `X Y I₁ … Iₙ` per
    ///   pixel, as Orange's `.xyz` and LabSpec's map export.
    ///
    /// The pixel grid is rebuilt from the distinct X (columns, ascending) and Y (rows, ascending) values;
    /// the axis is the first pixel's waves (long) or the first row (wide), in the file's order.
    /// - Throws: `IOError` naming the first offending line (1-based): text that is no number, a row of
    ///   the wrong length, a duplicated point or pixel, spectra on different axes, X or Y values not
    ///   evenly spaced, or a missing pixel.
    public static func readTextMap(_ url: URL) throws -> SpectralCube {
        let file = try BoundedFile(url)
        let table = try TextTable(try file.all("text").raw, file: file.path)
        let pixels = table.wide ? try table.wideSpectra() : try table.longSpectra()
        return try pixels.cube(file: file.path, format: table.wide ? "text map (wide)" : "text map (long)")
    }
}

/// The numeric rows of a text map, with their line numbers, read from the bytes (any ASCII-compatible
/// encoding: only the numbers matter).
private struct TextTable {
    let file: String
    private var lines: [Int] = []  // the line number of each row
    private var starts: [Int] = [0]  // row r holds numbers[starts[r]..<starts[r + 1]]
    private var numbers: [Double] = []
    /// Whether the first row holds the wavenumbers (wide) rather than a point (long).
    private(set) var wide = false

    var count: Int { lines.count }
    func line(_ row: Int) -> Int { lines[row] }
    func values(_ row: Int) -> ArraySlice<Double> { numbers[starts[row]..<starts[row + 1]] }

    init(_ bytes: [UInt8], file: String) throws {
        self.file = file
        var separator: UInt8? = nil  // nil: runs of blanks
        var leadingEmpty = 0, lineNumber = 0
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0  // a UTF-8 byte order mark
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
            lineNumber += 1
            let line = bytes[start..<end]
            start = end + (end + 1 < bytes.count && bytes[end] == 0x0D && bytes[end + 1] == 0x0A ? 2 : 1)
            guard let first = line.first(where: { !TextTable.isBlank($0) }), first != UInt8(ascii: "#") else { continue }
            if lines.isEmpty {  // lines before the first all-numeric one are a header
                let candidate: UInt8? = line.contains(0x09) ? 0x09 : line.contains(UInt8(ascii: ",")) ? UInt8(ascii: ",") : nil
                let fields = TextTable.fields(line, candidate)
                let empties = fields.prefix { $0.isEmpty }.count
                guard empties < fields.count, append(fields.dropFirst(empties)) else { continue }
                (separator, leadingEmpty) = (candidate, empties)
                lines.append(lineNumber)
                continue
            }
            let fields = TextTable.fields(line, separator)
            guard append(fields[...]) else {
                let bad = fields.first { TextTable.number($0) == nil }.map { String(decoding: $0, as: UTF8.self) } ?? ""
                throw IOError(file: file, "line \(lineNumber): expected numbers, found '\(bad)'")
            }
            lines.append(lineNumber)
        }
        guard count >= 2 else { throw IOError(file: file, "holds \(count) rows of numbers; a map needs a row per pixel") }
        wide = leadingEmpty > 0 || values(0).count != values(1).count
        if !wide, values(0).count != 4 {
            throw IOError(file: file, "line \(line(0)): \(values(0).count) values; expected 4 (X, Y, wave, intensity) in a long map, or a first row of wavenumbers in a wide map")
        }
    }

    /// Appends `fields` as a row of numbers; false, appending nothing, when one is not a number.
    private mutating func append(_ fields: ArraySlice<ArraySlice<UInt8>>) -> Bool {
        let before = numbers.count
        for field in fields {
            guard let value = TextTable.number(field) else { numbers.removeSubrange(before...); return false }
            numbers.append(value)
        }
        starts.append(numbers.count)
        return true
    }

    static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    static func number(_ field: ArraySlice<UInt8>) -> Double? {
        field.isEmpty ? nil : Double(String(decoding: field, as: UTF8.self))
    }

    /// The fields of `line`, split at `separator` (trimmed, trailing empty ones dropped) or at runs of blanks.
    static func fields(_ line: ArraySlice<UInt8>, _ separator: UInt8?) -> [ArraySlice<UInt8>] {
        guard let separator else { return line.split(whereSeparator: isBlank) }
        var fields = line.split(separator: separator, omittingEmptySubsequences: false).map(trimmed)
        while fields.last?.isEmpty == true { fields.removeLast() }
        return fields
    }

    static func trimmed(_ field: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var field = field.drop(while: isBlank)
        while let last = field.last, isBlank(last) { field = field.dropLast() }
        return field
    }

    /// Wide: the first row is the axis, each further row X, Y and one intensity per wavenumber.
    func wideSpectra() throws -> PixelSpectra {
        var pixels = PixelSpectra(axis: Array(values(0)), axisLine: line(0))
        let bands = pixels.axis.count
        for index in 1..<count {
            let row = (line: line(index), values: values(index))
            guard row.values.count == bands + 2 else {
                throw IOError(file: file, "line \(row.line): \(row.values.count) values; expected \(bands + 2) (X, Y and \(bands) intensities)")
            }
            let i = row.values.startIndex
            try pixels.add(x: row.values[i], y: row.values[i + 1], line: row.line, spectrum: row.values.dropFirst(2).map(Float.init), file: file)
        }
        return pixels
    }

    /// Long: rows of X, Y, wave, intensity, gathered per pixel; every pixel must have the first one's waves.
    func longSpectra() throws -> PixelSpectra {
        var points: [Point: Int] = [:]  // (X, Y, wave) → line, to find duplicates
        var order: [XY] = []
        var gathered: [XY: (line: Int, waves: [Double], intensities: [Float])] = [:]
        for row in 0..<count {
            let (line, values) = (self.line(row), self.values(row))
            guard values.count == 4 else {
                throw IOError(file: file, "line \(line): \(values.count) values; expected 4 (X, Y, wave, intensity)")
            }
            let i = values.startIndex
            let key = XY(x: values[i], y: values[i + 1]), wave = values[i + 2]
            if let earlier = points.updateValue(line, forKey: Point(xy: key, wave: wave)) {
                throw IOError(file: file, "line \(line): duplicate point X=\(key.x), Y=\(key.y), wave \(wave) (already on line \(earlier))")
            }
            if gathered[key] == nil { order.append(key); gathered[key] = (line, [], []) }
            gathered[key]?.waves.append(wave)
            gathered[key]?.intensities.append(Float(values[i + 3]))
        }
        guard let first = order.first, let axis = gathered[first] else { throw IOError(file: file, "holds no points") }
        var pixels = PixelSpectra(axis: axis.waves, axisLine: axis.line)
        for key in order {
            guard let pixel = gathered[key] else { continue }
            let same = pixel.waves.count == axis.waves.count
                && zip(pixel.waves, axis.waves).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) }
            guard same else {
                throw IOError(file: file, "line \(pixel.line): pixel X=\(key.x), Y=\(key.y) has \(pixel.waves.count) points on a different axis from the first pixel's \(axis.waves.count) (line \(axis.line))")
            }
            try pixels.add(x: key.x, y: key.y, line: pixel.line, spectrum: pixel.intensities, file: file)
        }
        return pixels
    }
}

private struct XY: Hashable { let x: Double, y: Double }
private struct Point: Hashable { let xy: XY, wave: Double }

/// Spectra with their stage positions, in file order, before the grid is rebuilt.
private struct PixelSpectra {
    let axis: [Double]
    let axisLine: Int
    var positions: [XY] = []
    var lines: [Int] = []
    var intensities: [Float] = []
    var seen: [XY: Int] = [:]

    init(axis: [Double], axisLine: Int) { (self.axis, self.axisLine) = (axis, axisLine) }

    mutating func add(x: Double, y: Double, line: Int, spectrum: [Float], file: String) throws {
        guard x.isFinite, y.isFinite else { throw IOError(file: file, "line \(line): X and Y must be finite, found \(x), \(y)") }
        let key = XY(x: x, y: y)
        if let earlier = seen.updateValue(line, forKey: key) {
            throw IOError(file: file, "line \(line): duplicate pixel X=\(x), Y=\(y) (already on line \(earlier))")
        }
        positions.append(key)
        lines.append(line)
        intensities += spectrum
    }

    /// The grid positions of `values` (X or Y): origin, step and count, checked to be evenly spaced.
    func grid(_ values: [Double], _ name: String, file: String) throws -> (origin: Double, step: Double, count: Int, values: [Double]) {
        var firstLine: [Double: Int] = [:]
        for (value, line) in zip(values, lines) where firstLine[value] == nil { firstLine[value] = line }
        let sorted = firstLine.keys.sorted()
        guard sorted.count > 1 else { return (sorted[0], 1, 1, sorted) }
        let step = zip(sorted.dropFirst(), sorted).map { $0 - $1 }.min() ?? 1
        for (i, value) in sorted.enumerated() {
            let expected = sorted[0] + Double(i) * step
            guard abs(value - expected) <= 0.01 * step else {
                throw IOError(file: file, "line \(firstLine[value] ?? 0): \(name) values are not evenly spaced: \(name)=\(value) where \(name)=\(expected) was expected (step \(step) from \(name)=\(sorted[0]))")
            }
        }
        return (sorted[0], step, sorted.count, sorted)
    }

    func cube(file: String, format: String) throws -> SpectralCube {
        guard !axis.isEmpty, axis.allSatisfy(\.isFinite) else {
            throw IOError(file: file, "line \(axisLine): the spectral axis must be finite numbers")
        }
        let xs = try grid(positions.map(\.x), "X", file: file), ys = try grid(positions.map(\.y), "Y", file: file)
        let index = { (p: XY) in (x: Int(((p.x - xs.origin) / xs.step).rounded()), y: Int(((p.y - ys.origin) / ys.step).rounded())) }
        if checkedProduct(xs.count, ys.count) != positions.count {  // fewer: duplicates were refused before
            var rows: [Int: Set<Int>] = [:]
            var rowLine: [Int: Int] = [:]
            for (p, line) in zip(positions, lines) {
                let (x, y) = index(p)
                rows[y, default: []].insert(x)
                rowLine[y] = min(rowLine[y] ?? line, line)
            }
            let y = (0..<ys.count).first { (rows[$0]?.count ?? 0) < xs.count } ?? 0
            let x = (0..<xs.count).first { !(rows[y]?.contains($0) ?? false) } ?? 0
            throw IOError(file: file, "line \(rowLine[y] ?? 0): missing pixel: the row Y=\(ys.values[y]) has no spectrum at X=\(xs.values[x]) (\(positions.count) pixels for a grid of \(xs.count) × \(ys.count))")
        }
        let (width, height, bands) = (xs.count, ys.count, axis.count)
        var values = [Float](repeating: 0, count: width * height * bands)
        for (i, p) in positions.enumerated() {
            let (x, y) = index(p)
            for k in 0..<bands { values[(k * height + y) * width + x] = intensities[i * bands + k] }
        }
        return SpectralCube(height: height, width: width, bands: bands, values: values, axis: axis, axisUnit: "",
                            format: format, dataType: "text")
    }
}
