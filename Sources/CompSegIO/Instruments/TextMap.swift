import Foundation

extension SpectralCube {
    /// Reads a map exported as text (UTF-8, or UTF-16), tab, semicolon, comma or whitespace separated
    /// (a decimal comma where commas do not separate), after optional header lines (lines starting with
    /// `#`, and lines before the first all-numeric one of two values or more) and before optional
    /// footer lines of text. Two layouts, told apart by content:
    /// - long, `X Y Wave Intensity` one row per point, as WiRE and LabSpec export (any row order);
    /// - wide, a first row of wavenumbers (optionally after two empty cells), then `X Y I₁ … Iₙ` per
    ///   pixel, as Orange's `.xyz` and LabSpec's map export.
    ///
    /// The pixel grid is rebuilt from the distinct X (columns, ascending) and Y (rows, ascending) values,
    /// a stage's jitter within a column or row taken as one position; the axis is the first pixel's
    /// waves (long) or the first row (wide), in the file's order.
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
    /// What separates fields: the first row's tab, `;` or `,`, or nil for runs of blanks.
    private var separator: UInt8? = nil

    var count: Int { lines.count }
    func line(_ row: Int) -> Int { lines[row] }
    func values(_ row: Int) -> ArraySlice<Double> { numbers[starts[row]..<starts[row + 1]] }

    init(_ raw: [UInt8], file: String) throws {
        self.file = file
        let bytes = TextTable.utf8(raw)
        var leadingEmpty = 0, lineNumber = 0
        var footer: (line: Int, field: String)? = nil  // text after the rows: skipped unless more rows follow
        var firstWithDigit: (line: Int, text: String)? = nil
        var lastHeader: (line: ArraySlice<UInt8>, number: Int)? = nil  // the header line just before the first row
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0  // a UTF-8 byte order mark
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
            lineNumber += 1
            let line = bytes[start..<end]
            start = end + (end + 1 < bytes.count && bytes[end] == 0x0D && bytes[end + 1] == 0x0A ? 2 : 1)
            guard let first = line.first(where: { !TextTable.isBlank($0) }), first != UInt8(ascii: "#") else { continue }
            if lines.isEmpty {  // lines before the first all-numeric one of two values or more are a header
                if firstWithDigit == nil, line.contains(where: { (0x30...0x39).contains($0) }) {
                    firstWithDigit = (lineNumber, String(decoding: line.prefix(80), as: UTF8.self))
                }
                for candidate in TextTable.separators(line) {
                    let fields = TextTable.fields(line, candidate)
                    separator = candidate
                    // A wide map's axis row may start with two empty cells, or two labels ("X", "Y") before
                    // three or more wavenumbers that run one way.
                    var skip = fields.prefix { $0.isEmpty }.count
                    if skip == 0, fields.prefix(while: { number($0) == nil }).count == 2 {
                        let axis = fields.dropFirst(2).compactMap(number)
                        if axis.count == fields.count - 2, axis.count >= 3,
                           zip(axis, axis.dropFirst()).allSatisfy({ $0 < $1 }) || zip(axis, axis.dropFirst()).allSatisfy({ $0 > $1 }) {
                            skip = 2
                        }
                    }
                    guard fields.count - skip >= 2 else { continue }
                    guard append(fields.dropFirst(skip)) else { continue }
                    if let header = lastHeader { try refuseAsDamagedRow(header.line, header.number, before: Array(fields)) }
                    leadingEmpty = skip
                    lines.append(lineNumber)
                    break
                }
                if lines.isEmpty { lastHeader = (line, lineNumber) }
                continue
            }
            let fields = TextTable.fields(line, separator)
            guard append(fields[...]) else {
                // Text after the rows is a footer; a row that starts with a number is a row, and its bad field an error.
                if let first = fields.first, number(first) != nil {
                    let bad = fields.first { number($0) == nil }.map { String(decoding: $0, as: UTF8.self) } ?? ""
                    throw IOError(file: file, "line \(lineNumber): expected numbers, found '\(bad)'")
                }
                if footer == nil {
                    footer = (lineNumber, fields.first { number($0) == nil }.map { String(decoding: $0, as: UTF8.self) } ?? "")
                }
                continue
            }
            if let footer {
                throw IOError(file: file, "line \(footer.line): expected numbers, found '\(footer.field)' (text is taken only "
                              + "before the rows of numbers and after them)")
            }
            lines.append(lineNumber)
            if lines.count == 4096 { reserveForTheRest(after: start, of: bytes.count) }
        }
        guard count >= 2 else {
            let seen = firstWithDigit.map { "; the first line with a digit, line \($0.line), reads '\($0.text)'" } ?? ""
            throw IOError(file: file, "holds \(count) rows of numbers; a map needs a row per pixel: X, Y, wave and intensity, "
                          + "or X, Y and the intensities, separated by tabs, commas, semicolons or blanks\(seen)")
        }
        wide = leadingEmpty > 0 || values(0).count != values(1).count
        if !wide, values(0).count != 4 {
            throw IOError(file: file, "line \(line(0)): \(values(0).count) values; expected 4 (X, Y, wave, intensity) in a long map, or a first row of wavenumbers in a wide map")
        }
    }

    /// The line just before the first row, where it is a row with a field that is no number rather
    /// than a header line: as many fields as the first `row`, and its first two (X and Y) numbers,
    /// one of them the row's (a long map's next line is the same pixel; a wide map's, the same
    /// scan line). It is named, not dropped. (`05 12 2023 Renishaw` above `0.5 3 1800 120` is a header.)
    private func refuseAsDamagedRow(_ line: ArraySlice<UInt8>, _ lineNumber: Int, before row: [ArraySlice<UInt8>]) throws {
        let fields = TextTable.fields(line, separator)
        guard fields.count == row.count, fields.count >= 3, let x = number(fields[0]), let y = number(fields[1]),
              number(row[0]) == x || number(row[1]) == y, let bad = fields.first(where: { number($0) == nil }) else { return }
        throw IOError(file: file, "line \(lineNumber): expected numbers, found '\(String(decoding: bad.prefix(40), as: UTF8.self))' "
                      + "(the line starts as a row of X, Y and values do; lines before the rows are a header only where they do not)")
    }

    /// Room for the rows still to come, estimated from the bytes the rows so far took (growing by
    /// doubling would hold up to twice the numbers while they are copied).
    private mutating func reserveForTheRest(after read: Int, of total: Int) {
        let rows = Int((Double(total) / Double(max(read, 1)) * Double(count) * 1.02).rounded(.up)) + 16
        lines.reserveCapacity(rows)
        starts.reserveCapacity(rows + 1)
        numbers.reserveCapacity(rows * numbers.count / count)
    }

    /// UTF-16 text (with a byte order mark, or ASCII with every other byte zero) as UTF-8; other bytes as they are.
    static func utf8(_ bytes: [UInt8]) -> [UInt8] {
        let marked = bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF])
        let zeros = bytes.count >= 4 && (bytes[1] == 0 && bytes[3] == 0 && bytes[0] != 0 || bytes[0] == 0 && bytes[2] == 0 && bytes[1] != 0)
        guard marked || zeros else { return bytes }
        let encoding: String.Encoding = marked ? .utf16 : bytes[1] == 0 ? .utf16LittleEndian : .utf16BigEndian
        guard let text = String(data: Data(bytes), encoding: encoding) else { return bytes }
        return Array(text.utf8)
    }

    /// The separators a line's fields may have, to try in order: tab, else `;`, else `,`, and
    /// runs of blanks (nil) after a comma. With any but `,`, a comma within a number is its
    /// decimal mark (`1800,25`), as exports in many locales write it.
    static func separators(_ line: ArraySlice<UInt8>) -> [UInt8?] {
        for candidate in [0x09, UInt8(ascii: ";")] where line.contains(candidate) { return [candidate] }
        return line.contains(UInt8(ascii: ",")) ? [UInt8(ascii: ","), nil] : [nil]
    }

    /// Appends `fields` as a row of numbers; false, appending nothing, when one is not a number.
    private mutating func append(_ fields: ArraySlice<ArraySlice<UInt8>>) -> Bool {
        let before = numbers.count
        for field in fields {
            guard let value = number(field) else { numbers.removeSubrange(before...); return false }
            numbers.append(value)
        }
        starts.append(numbers.count)
        return true
    }

    static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// The field as a number; where commas do not separate fields, one comma may be the decimal mark.
    private func number(_ field: ArraySlice<UInt8>) -> Double? {
        // Decimal only: Swift would read "0x10" as 16, which no export means.
        guard !field.isEmpty, !field.contains(UInt8(ascii: "x")), !field.contains(UInt8(ascii: "X")) else { return nil }
        let comma = UInt8(ascii: ",")
        if separator != comma, field.contains(comma) {
            guard field.firstIndex(of: comma) == field.lastIndex(of: comma), !field.contains(UInt8(ascii: ".")) else { return nil }
            return Double(String(decoding: field.map { $0 == comma ? UInt8(ascii: ".") : $0 }, as: UTF8.self))
        }
        return Double(String(decoding: field, as: UTF8.self))
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

    /// Long: rows of X, Y, wave, intensity, gathered per pixel; every pixel must have the first one's
    /// waves, in any order (the axis is the first pixel's order). Rows are grouped by pixel as
    /// indices into the table (4 bytes a row), not copied. A row that is not 4 finite values is
    /// named before any point given twice.
    func longSpectra() throws -> PixelSpectra {
        guard count < Int(Int32.max) else { throw IOError(file: file, "holds \(count) rows; a text map may hold at most \(Int32.max)") }
        // Each row's pixel, numbered in order of first appearance.
        var pixelOf = [Int32](repeating: 0, count: count)
        var numbered: [XY: Int32] = [:]
        for row in 0..<count {
            let (line, values) = (self.line(row), self.values(row))
            guard values.count == 4 else {
                let cut = row == count - 1 && values.count < 4 ? ": the file ends part-way through it, cut short" : ""
                throw IOError(file: file, "line \(line): \(values.count) values; expected 4 (X, Y, wave, intensity)\(cut)")
            }
            let i = values.startIndex
            guard values[i].isFinite, values[i + 1].isFinite, values[i + 2].isFinite else {  // NaN keys would be lost
                throw IOError(file: file, "line \(line): X, Y and the wave must be finite numbers, found \(values[i]), "
                              + "\(values[i + 1]), \(values[i + 2])")
            }
            let key = XY(x: values[i], y: values[i + 1]), next = Int32(numbered.count)
            pixelOf[row] = numbered[key, default: next]
            if pixelOf[row] == next { numbered[key] = next }
        }
        // The rows of pixel p, in file order: grouped[offsets[p] ..< offsets[p + 1]] (a counting sort).
        var offsets = [Int](repeating: 0, count: numbered.count + 1)
        for p in pixelOf { offsets[Int(p) + 1] += 1 }
        for p in 0..<numbered.count { offsets[p + 1] += offsets[p] }
        var grouped = [Int32](repeating: 0, count: count), fill = offsets
        for (row, p) in pixelOf.enumerated() {
            grouped[fill[Int(p)]] = Int32(row)
            fill[Int(p)] += 1
        }
        pixelOf = []
        func rows(_ p: Int) -> ArraySlice<Int32> { grouped[offsets[p]..<offsets[p + 1]] }
        func field(_ row: Int32, _ k: Int) -> Double { let v = values(Int(row)); return v[v.startIndex + k] }
        // Each pixel's rows by wave. A point given twice: the first line, in file order, that
        // repeats an earlier one.
        func byWave(_ p: Int) -> [Int32] { rows(p).sorted { (field($0, 2), $0) < (field($1, 2), $1) } }
        var repeated: (row: Int32, earlier: Int32)?
        for p in 0..<numbered.count {
            let pixel = rows(p)
            guard !zip(pixel, pixel.dropFirst()).allSatisfy({ field($0, 2) < field($1, 2) }) else { continue }  // ascending: no repeat
            let sorted = byWave(p)
            for (a, b) in zip(sorted, sorted.dropFirst()) where field(a, 2) == field(b, 2) && b < (repeated?.row ?? .max) {
                repeated = (b, a)
            }
        }
        if let (row, earlier) = repeated {
            throw IOError(file: file, "line \(line(Int(row))): duplicate point X=\(field(row, 0)), Y=\(field(row, 1)), wave "
                          + "\(field(row, 2)) (already on line \(line(Int(earlier))))")
        }
        guard !numbered.isEmpty, let firstRow = rows(0).first else { throw IOError(file: file, "holds no points") }
        // The axis is the first pixel's waves in file order; another pixel's may come in any order.
        let axis = rows(0).map { field($0, 2) }
        let axisByWave = axis.indices.sorted { (axis[$0], $0) < (axis[$1], $1) }
        var pixels = PixelSpectra(axis: axis, axisLine: line(Int(firstRow)))
        var spectrum = [Float](repeating: 0, count: axis.count)
        for p in 0..<numbered.count {
            let pixel = rows(p), first = pixel[pixel.startIndex]
            func near(_ row: Int32, _ wave: Double) -> Bool { abs(field(row, 2) - wave) <= 1e-6 * max(1, abs(wave)) }
            if pixel.count == axis.count && zip(pixel, axis).allSatisfy(near) {  // the first pixel's order
                for (k, row) in pixel.enumerated() { spectrum[k] = Float(field(row, 3)) }
            } else {
                // The file's last pixel, its points the first of the axis, and the file's last: an export stopped early.
                if p == numbered.count - 1, pixel.count < axis.count, Int(pixel[pixel.endIndex - 1]) == count - 1, zip(pixel, axis).allSatisfy(near) {
                    throw IOError(file: file, "line \(line(Int(first))): the file ends part-way through pixel X=\(field(first, 0)), "
                                  + "Y=\(field(first, 1)), after \(pixel.count) of the \(axis.count) points each pixel has: it is cut short")
                }
                let sorted = byWave(p)
                guard sorted.count == axis.count, zip(sorted, axisByWave).allSatisfy({ near($0, axis[$1]) }) else {
                    throw IOError(file: file, "line \(line(Int(first))): pixel X=\(field(first, 0)), Y=\(field(first, 1)) has "
                                  + "\(pixel.count) point\(pixel.count == 1 ? "" : "s") on a different axis from the first pixel's \(axis.count) "
                                  + "(line \(line(Int(firstRow))))")
                }
                for (row, k) in zip(sorted, axisByWave) { spectrum[k] = Float(field(row, 3)) }
            }
            try pixels.add(x: field(first, 0), y: field(first, 1), line: line(Int(first)), spectrum: spectrum, file: file)
        }
        return pixels
    }
}

extension SpectralCube {
    /// The pixel size of a map whose columns and rows lie at `xs` and `ys` (ascending stage
    /// positions, taken as µm as mapping software exports them): each axis's mean step, the other's
    /// for a line of one row or column; nil for a single spectrum.
    static func stageStep(_ xs: [Double], _ ys: [Double]) -> PixelSize? {
        func step(_ p: [Double]) -> Double? { p.count > 1 ? (p[p.count - 1] - p[0]) / Double(p.count - 1) : nil }
        guard let x = step(xs) ?? step(ys), let y = step(ys) ?? step(xs) else { return nil }
        return PixelSize(x: (x * 1e6).rounded() / 1e6, y: (y * 1e6).rounded() / 1e6)
    }
}

private struct XY: Hashable { let x: Double, y: Double }

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

    /// The grid of `values` (X or Y): each distinct value's column (or row) index and the columns'
    /// positions. Values whose gaps are at most a quarter of the largest gap (a stage's jitter)
    /// are one column, at their mean, spread over at most a quarter of the step; the columns must
    /// be evenly spaced.
    func grid(_ values: [Double], _ name: String, file: String) throws -> (index: [Double: Int], positions: [Double]) {
        var firstLine: [Double: Int] = [:]
        for (value, line) in zip(values, lines) where firstLine[value] == nil { firstLine[value] = line }
        let sorted = firstLine.keys.sorted()
        let gaps = zip(sorted.dropFirst(), sorted).map { $0 - $1 }
        // A few values far beyond all the others (one gap over 4 times any other, with at most a fifth
        // of the values on its far side) are positions off the grid, which would make the rest one
        // column below: named. (Two columns of a jittering stage hold as many values each.)
        if gaps.count >= 2 {
            let order = gaps.indices.sorted { gaps[$0] > gaps[$1] }
            let (widest, below) = (order[0], order[0] + 1), above = sorted.count - order[0] - 1
            let off = below < above ? Array(sorted[..<below]) : Array(sorted[below...])
            let rest = below < above ? Array(sorted[below...]) : Array(sorted[..<below])
            // Values holding as many rows as the others' are whole columns beyond a gap, said below.
            var rows: [Double: Int] = [:]
            for value in values { rows[value, default: 0] += 1 }
            let typical = rest.map { rows[$0] ?? 0 }.sorted()[rest.count / 2], fewest = off.map { rows[$0] ?? 0 }.min() ?? 0
            if gaps[widest] > 4 * gaps[order[1]], 5 * min(below, above) <= max(below, above), fewest <= 1 || 2 * fewest < typical {
                let far = off.max { abs($0 - rest.first!) < abs($1 - rest.first!) }!
                throw IOError(file: file, "line \(firstLine[far] ?? 0): \(name)=\(far) lies far off the other \(name) values (\(name)=\(rest.first!) "
                              + "to \(name)=\(rest.last!), their largest gap \(String(format: "%.6g", gaps[order[1]]))): a position off the grid"
                              + (off.count > 1 ? " (with \(off.count - 1) more beside it)" : ""))
            }
        }
        // Gaps of at most a quarter of the largest lie within a column (a stage's jitter); on a grid
        // without jitter every gap is the step, so every value is a column of its own.
        let within = (gaps.max() ?? 0) / 4
        var members: [[Double]] = [[sorted[0]]]
        for (value, gap) in zip(sorted.dropFirst(), gaps) {
            if gap <= within { members[members.count - 1].append(value) } else { members.append([value]) }
        }
        var index: [Double: Int] = [:]
        for (i, column) in members.enumerated() { for value in column { index[value] = i } }
        // Columns of a jittering stage hold as many rows each; one holding many times another's is
        // several columns taken for one (a wide gap made every step look like jitter).
        var rows = [Int](repeating: 0, count: members.count)
        for value in values { if let i = index[value] { rows[i] += 1 } }
        if let most = rows.max(), let least = rows.min(), 2 * most > 3 * least {
            try missingLines(sorted, gaps, name, firstLine: firstLine, file: file)
        }
        let positions = members.map { $0.reduce(0, +) / Double($0.count) }
        guard positions.count > 1 else { return (index, positions) }
        // The step: the span over the gaps where every gap is near it (jittered means make the
        // smallest gap a little short of the step), else the smallest gap, so a missing or moved
        // column shows as one off the grid.
        let gapsBetween = zip(positions.dropFirst(), positions).map { $0 - $1 }
        let even = (positions[positions.count - 1] - positions[0]) / Double(positions.count - 1)
        let step = gapsBetween.allSatisfy { abs($0 - even) <= 0.25 * even } ? even : (gapsBetween.min() ?? 1)
        for (i, column) in members.enumerated() {
            let expected = positions[0] + Double(i) * step
            let spread = column[column.count - 1] - column[0]
            let value = column.count == 1 ? column[0] : positions[i]
            // On a jittering stage a column's mean may sit well off the grid; exact positions must be within 1%.
            let tolerance = members.allSatisfy { $0.count == 1 } ? 0.01 * step : 0.25 * step
            let line = column.compactMap { firstLine[$0] }.min() ?? 0, unit = name == "X" ? "column" : "row"
            guard spread <= step / 4 else {
                try missingLines(sorted, gaps, name, firstLine: firstLine, file: file)
                throw IOError(file: file, "line \(line): \(column.count) \(name) values from \(name)=\(column[0]) to \(name)=\(column[column.count - 1]) "
                              + "spread over \(String(format: "%.6g", spread)), more than a quarter of the step (\(String(format: "%.6g", step))): too far apart for one \(unit) of a "
                              + "jittering stage, too close for two")
            }
            guard abs(value - expected) <= tolerance else {
                try missingLines(sorted, gaps, name, firstLine: firstLine, file: file)
                let around = column.count == 1 ? "" : " (the mean of \(column.count) values within \(spread), one \(unit) of a jittering stage)"
                throw IOError(file: file, "line \(line): \(name) values are not evenly spaced: \(name)=\(value)\(around) where \(name)=\(expected) was expected (step \(step) from \(name)=\(positions[0]))")
            }
        }
        return (index, positions)
    }

    /// Where `sorted` values (`gaps` apart) that make no grid of jittering columns are one grid
    /// without jitter, every gap a whole number of steps, with wider gaps (two areas mapped in one
    /// file, or an acquisition that skipped some): the columns (rows) missing there, named.
    private func missingLines(_ sorted: [Double], _ gaps: [Double], _ name: String, firstLine: [Double: Int], file: String) throws {
        guard gaps.count >= 2 else { return }
        let step = gaps.sorted()[gaps.count / 2]
        guard step > 0, gaps.allSatisfy({ abs($0 - ($0 / step).rounded() * step) <= step / 50 && $0 > step / 2 }),
              let jump = gaps.firstIndex(where: { $0 > 1.5 * step }) else { return }
        let (from, to) = (sorted[jump], sorted[jump + 1]), lines = name == "X" ? "columns" : "rows"
        throw IOError(file: file, "line \(firstLine[to] ?? 0): \(name) jumps from \(name)=\(from) to \(name)=\(to), "
                      + "\(String(format: "%.3g", gaps[jump] / step)) steps of \(String(format: "%.6g", step)): the \(lines) between are "
                      + "missing (a map must cover its grid; two areas mapped in one file are two maps)")
    }

    func cube(file: String, format: String) throws -> SpectralCube {
        guard !axis.isEmpty, axis.allSatisfy(\.isFinite) else {
            throw IOError(file: file, "line \(axisLine): the spectral axis must be finite numbers")
        }
        let xs = try grid(positions.map(\.x), "X", file: file), ys = try grid(positions.map(\.y), "Y", file: file)
        let (width, height, bands) = (xs.positions.count, ys.positions.count, axis.count)
        let index = { (p: XY) in (x: xs.index[p.x] ?? 0, y: ys.index[p.y] ?? 0) }
        if let cells = checkedProduct(width, height), cells <= positions.count {  // more spectra than places: two share one
            var taken = [Int?](repeating: nil, count: cells)  // the line of each grid place's spectrum
            for (p, line) in zip(positions, lines) {
                let (x, y) = index(p)
                if let earlier = taken[y * width + x] {
                    throw IOError(file: file, "line \(line): the pixel X=\(p.x), Y=\(p.y) falls on the grid place of line "
                                  + "\(earlier)'s (X≈\(xs.positions[x]), Y≈\(ys.positions[y])): two spectra for one pixel")
                }
                taken[y * width + x] = line
            }
        } else {  // fewer spectra than places: name the first place without one
            var rows: [Int: Set<Int>] = [:]
            var rowLine: [Int: Int] = [:]
            for (p, line) in zip(positions, lines) {
                let (x, y) = index(p)
                rows[y, default: []].insert(x)
                rowLine[y] = min(rowLine[y] ?? line, line)
            }
            let y = (0..<height).first { (rows[$0]?.count ?? 0) < width } ?? 0
            let x = (0..<width).first { !(rows[y]?.contains($0) ?? false) } ?? 0
            throw IOError(file: file, "line \(rowLine[y] ?? 0): missing pixel: the row Y=\(ys.positions[y]) has no spectrum at X=\(xs.positions[x]) (\(positions.count) pixels for a grid of \(width) × \(height))")
        }
        var values = [Float](repeating: 0, count: width * height * bands)
        for (i, p) in positions.enumerated() {
            let (x, y) = index(p)
            for k in 0..<bands { values[(k * height + y) * width + x] = intensities[i * bands + k] }
        }
        var cube = SpectralCube(height: height, width: width, bands: bands, values: values, axis: axis, axisUnit: "",
                                format: format, dataType: "text")
        cube.pixelSize = SpectralCube.stageStep(xs.positions, ys.positions)
        return cube
    }
}
