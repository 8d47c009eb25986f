import Foundation
import Testing
@testable import CompSegIO

/// Text maps as exports in other locales and from real stages write them: each is read to the
/// values written (a 2 × 3 map of 2 waves, value 100·k + 10·row + column), or refused naming the line.
@Suite struct TextMapTests {
    /// The map's long rows, `X Y Wave Intensity`, with `x`/`y` giving each pixel's written position.
    static func rows(separator: String = "\t", decimal: String = ".", x: (Int, Int) -> Double = { Double(2 * $1) },
                     y: (Int, Int) -> Double = { r, _ in Double(2 * r) }) -> [String] {
        var lines: [String] = []
        for r in 0..<2 {
            for c in 0..<3 {
                for (k, wave) in [1800.5, 1000.25].enumerated() {
                    let fields = [x(r, c), y(r, c), wave, Double(100 * k + 10 * r + c) + 0.5]
                        .map { "\($0)".replacingOccurrences(of: ".", with: decimal) }
                    lines.append(fields.joined(separator: separator))
                }
            }
        }
        return lines
    }

    static func read(_ text: String, encoding: String.Encoding = .utf8) throws -> SpectralCube {
        let (dir, remove) = try temporaryFolder("text")
        defer { remove() }
        let url = dir.appendingPathComponent("map.txt")
        try #require(text.data(using: encoding)).write(to: url)
        return try SpectralCube.readTextMap(url)
    }

    static func expectTheMap(_ cube: SpectralCube, _ label: String) {
        #expect(cube.height == 2 && cube.width == 3 && cube.bands == 2, "\(label)")
        #expect(cube.axis == [1800.5, 1000.25], "\(label)")
        for k in 0..<2 { for r in 0..<2 { for c in 0..<3 {
            #expect(cube[band: k, y: r, x: c] == Float(100 * k + 10 * r + c) + 0.5, "\(label) band \(k) (\(r), \(c))")
        } } }
    }

    @Test func localesEncodingsHeadersAndFooters() throws {
        let tab = Self.rows().joined(separator: "\n")
        Self.expectTheMap(try Self.read("Laser wavelength:\t785\nExposure\t1.5\ts\n785\n" + tab + "\nEnd of data\nTotal points: 12\n"),
                          "header lines with numbers, a footer")
        Self.expectTheMap(try Self.read(Self.rows(separator: ";", decimal: ",").joined(separator: "\r\n")), "semicolons, decimal commas")
        Self.expectTheMap(try Self.read(Self.rows(separator: "\t", decimal: ",").joined(separator: "\n")), "tabs, decimal commas")
        Self.expectTheMap(try Self.read(Self.rows(separator: "  ", decimal: ",").joined(separator: "\n")), "blanks, decimal commas")
        Self.expectTheMap(try Self.read("#X\t#Y\t#Wave\t#Intensity\n" + tab, encoding: .utf16), "UTF-16 with a byte order mark")
        Self.expectTheMap(try Self.read(tab, encoding: .utf16LittleEndian), "UTF-16 without a mark")
        // Text between rows is still an error, naming its line.
        let broken = Self.rows()
        let text = (broken[..<5] + ["End of data"] + broken[5...]).joined(separator: "\n")
        #expect { _ = try Self.read(text) } throws: { "\($0)".contains("line 6: expected numbers, found 'End of data'") }
        // A last row with a field that is not a number is that row's error, not a footer.
        let lastBad = Self.rows().dropLast() + ["2.0\t2.0\t1000.25\tn/a"]
        #expect { _ = try Self.read(lastBad.joined(separator: "\n")) } throws: { "\($0)".contains("line 12: expected numbers, found 'n/a'") }
        // So is the first row's: a line that starts as a row (X and Y numbers) is no header line.
        let firstBad = ["0.0\t0.0\t1800.5\tN/A"] + Self.rows().dropFirst()
        #expect { _ = try Self.read("#X\t#Y\t#Wave\t#Intensity\n" + firstBad.joined(separator: "\n")) } throws: {
            "\($0)".contains("line 2: expected numbers, found 'N/A'")
        }
        let thousands = Self.rows().map { $0.replacingOccurrences(of: "1800.5", with: "1,800.5") }
        #expect { _ = try Self.read(thousands.joined(separator: "\n")) } throws: { "\($0)".contains("line 1: expected numbers, found '1,800.5'") }
        // A wide map whose axis row starts with two labels, as spreadsheets head their columns.
        let labelled = try Self.read("X\tY\t1800.5\t1000.25\t900\n0\t0\t1\t2\t3\n2\t0\t4\t5\t6\n")
        #expect(labelled.axis == [1800.5, 1000.25, 900] && labelled.width == 2 && labelled[band: 2, y: 0, x: 1] == 6)
        // No row of numbers: the first line with a digit is quoted.
        #expect { _ = try Self.read("X: 1 µm\nno data\n") } throws: {
            "\($0)".contains("holds 0 rows of numbers") && "\($0)".contains("line 1, reads 'X: 1 µm'")
        }
    }

    /// Measured stage positions jitter around their grid: each column (row) is one position.
    @Test func jitteringStagePositions() throws {
        let wobble = [0.0013, -0.0021, 0.0008, -0.0004, 0.0017, -0.0011]
        let jittered = Self.rows(x: { r, c in Double(2 * c) + wobble[r * 3 + c] }, y: { r, c in 10 + Double(2 * r) - wobble[5 - r * 3 - c] })
        Self.expectTheMap(try Self.read(jittered.joined(separator: "\n")), "jitter")
        // Two spectra on one grid place (a jittered repeat) are named, as is a real gap.
        let twice = Self.rows(x: { r, c in Double(2 * c) + (r == 1 && c == 1 ? 0.001 : 0) }, y: { r, c in r == 1 && c == 1 ? 0 : Double(2 * r) })
        #expect { _ = try Self.read(twice.joined(separator: "\n")) } throws: {
            "\($0)".contains("line 9: the pixel X=2.001, Y=0.0 falls on the grid place of line 3's")
        }
        // A wide stage: 60 columns, every position off by up to ±0.05 of a step of 1 (4 decimals), as
        // measured positions are: the means of jittered columns sit a little closer than the step.
        var state: UInt64 = 7
        func jitter() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return Double(state >> 11) / Double(1 << 53) * 0.1 - 0.05 }
        var wideLines: [String] = []
        for r in 0..<3 { for c in 0..<60 {
            let (x, y) = (Double(c) + jitter(), Double(r) + jitter())
            for wave in [1000.0, 1100.0] { wideLines.append(String(format: "%.4f\t%.4f\t%.1f\t%d", x, y, wave, r * 60 + c)) }
        } }
        let wide = try Self.read(wideLines.joined(separator: "\n"))
        #expect(wide.width == 60 && wide.height == 3 && wide[band: 1, y: 2, x: 59] == 179)
        // One pixel's X far off the grid (a damaged line) is named, not taken to make the others one column.
        var moved = wideLines
        for k in [130, 131] { moved[k] = "2000000000.0" + moved[k].drop { $0 != "\t" } }
        #expect { _ = try Self.read(moved.joined(separator: "\n")) } throws: {
            "\($0)".contains("line 131: X=2000000000.0 lies far off the other X values (X=-0.") && "\($0)".contains("a position off the grid")
        }
        // Whole columns beyond a gap (X 0–19, then 25–27: two areas, or columns skipped) are named as
        // missing columns, not as one position off the grid, nor merged as a jittering stage's.
        var gapped: [String] = []
        for r in 0..<3 { for x in Array(0..<20) + [25, 26, 27] { gapped.append("\(x).0\t\(r).0\t1000.0\t\(r * 30 + x)") } }
        #expect { _ = try Self.read(gapped.joined(separator: "\n")) } throws: {
            "\($0)".contains("X jumps from X=19.0 to X=25.0, 6 steps of 1: the columns between are missing")
        }
        var far: [String] = []
        for r in 0..<3 { for x in Array(0..<8) + [50] { far.append("\(x).0\t\(r).0\t1000.0\t\(r * 60 + x)") } }
        #expect { _ = try Self.read(far.joined(separator: "\n")) } throws: {
            "\($0)".contains("X jumps from X=7.0 to X=50.0, 43 steps of 1: the columns between are missing")
        }
        var stacked: [String] = []
        for y in [0, 1, 2, 3, 4, 12, 13, 14] { for x in 0..<6 { stacked.append("\(x).0\t\(y).0\t1000.0\t\(y * 6 + x)") } }
        #expect { _ = try Self.read(stacked.joined(separator: "\n")) } throws: { "\($0)".contains("the rows between are missing") }
        // A jittering stage's positions rounded to a tenth of the step (gaps of 0.1, 0.8, 0.9: all whole
        // tenths) are columns of a jittering stage, not a grid of tenths with columns missing.
        var rounded: [String] = []
        let offsets = [-0.1, 0, 0.1]
        for r in 0..<6 { for c in 0..<8 {
            let (x, y) = (Double(c) + offsets[(r + c) % 3], Double(r) + offsets[(r * 2 + c) % 3])
            rounded.append(String(format: "%.1f\t%.1f\t1000.0\t%d", x, y, r * 8 + c))
        } }
        let roundedMap = try Self.read(rounded.joined(separator: "\n"))
        #expect(roundedMap.width == 8 && roundedMap.height == 6 && roundedMap[band: 0, y: 5, x: 7] == 47)
        // A header line starting with two numbers, most of it words, is a header, not a damaged row.
        let dated = try Self.read("05 12 2023 acquired with stage A\n" + Self.rows().joined(separator: "\n"))
        #expect(dated.width == 3 && dated.height == 2)
        #expect(try Self.read("05\t12\t2023\tRenishaw\n" + Self.rows().joined(separator: "\n")).width == 3)
        // A first row whose values are words, above a row of its pixel, is damaged, not a header.
        #expect { _ = try Self.read("0.0\t0.0\tx\ty\n" + Self.rows().joined(separator: "\n")) } throws: {
            "\($0)".contains("line 1: expected numbers, found 'x'")
        }
        // A position that is not a number is named (its spectrum was dropped without a word).
        let lost = Self.rows(x: { r, c in r == 1 && c == 2 ? .nan : Double(2 * c) })
        #expect { _ = try Self.read(lost.joined(separator: "\n")) } throws: {
            "\($0)".contains("line 11: X, Y and the wave must be finite numbers, found nan, 2.0, 1800.5")
        }
        let uneven = Self.rows(x: { _, c in [0, 1, 3][c] })
        #expect { _ = try Self.read(uneven.joined(separator: "\n")) } throws: {
            "\($0)".contains("X values are not evenly spaced: X=3.0 where X=2.0 was expected")
        }
        // A column whose positions spread over more than a quarter of the step is named for that
        // (its mean, 2.0, lies on the grid).
        var spreadLines: [String] = []
        for r in 0..<3 { for c in 0..<4 {
            let x = c == 1 ? [1.7, 2.0, 2.3][r] : Double(2 * c)
            for wave in [1000.0, 1100.0] { spreadLines.append("\(x)\t\(Double(r))\t\(wave)\t\(r * 4 + c)") }
        } }
        #expect { _ = try Self.read(spreadLines.joined(separator: "\n")) } throws: {
            "\($0)".contains("line 3: 3 X values from X=1.7 to X=2.3 spread over 0.6") && "\($0)".contains("more than a quarter of the step (2)")
        }
    }

    /// A long map's rows may come in any order (here by wave, then pixel, as some exports write
    /// them): the map is the same; a point given twice is named at its first repeat in file order,
    /// with the line it repeats, and a pixel on another axis is named at its first line.
    @Test func longRowsInAnyOrderDuplicatesAndAxes() throws {
        let rows = Self.rows()
        let byWave = stride(from: 0, to: rows.count, by: 2).map { rows[$0] } + stride(from: 1, to: rows.count, by: 2).map { rows[$0] }
        Self.expectTheMap(try Self.read(byWave.joined(separator: "\n")), "rows by wave")
        // The first pixel's waves in order, every other pixel's reversed and the pixels last first.
        let pixels = stride(from: 0, to: rows.count, by: 2).map { [rows[$0], rows[$0 + 1]] }
        let shuffled = pixels[0] + pixels.dropFirst().reversed().flatMap { $0.reversed() }
        Self.expectTheMap(try Self.read(shuffled.joined(separator: "\n")), "waves in another order per pixel")
        // Pixel (2, 0)'s first point (line 2) again on line 13, pixel (0, 0)'s (line 1) on line 11.
        let twice = byWave + [byWave[1]]
        var text = twice
        text[10] = byWave[0]
        #expect { _ = try Self.read(text.joined(separator: "\n")) } throws: {
            "\($0)".contains("line 11: duplicate point X=0.0, Y=0.0, wave 1800.5 (already on line 1)")
        }
        var thrice = byWave
        thrice.insert(byWave[1], at: 8)
        thrice.insert(byWave[1], at: 4)
        #expect { _ = try Self.read(thrice.joined(separator: "\n")) } throws: {
            "\($0)".contains("line 5: duplicate point X=2.0, Y=0.0, wave 1800.5 (already on line 2)")
        }
        var moved = byWave
        moved[9] = moved[9].replacingOccurrences(of: "1000.25", with: "1000.5")
        #expect { _ = try Self.read(moved.joined(separator: "\n")) } throws: {
            "\($0)".contains("line 4: pixel X=0.0, Y=2.0 has 2 points on a different axis from the first pixel's 2 (line 1)")
        }
        // An export stopped part-way through its last pixel is said to be cut short; one that lacks a point elsewhere is not.
        #expect { _ = try Self.read(rows.dropLast().joined(separator: "\n")) } throws: {
            "\($0)".contains("line 11: the file ends part-way through pixel X=4.0, Y=2.0, after 1 of the 2 points each pixel has: it is cut short")
        }
        var midLine = rows
        midLine[11] = String(midLine[11].prefix(10))  // "4.0\t2.0\t10": the last line cut inside its wave
        #expect { _ = try Self.read(midLine.joined(separator: "\n")) } throws: {
            "\($0)".contains("line 12: 3 values; expected 4 (X, Y, wave, intensity): the file ends part-way through it, cut short")
        }
        #expect { _ = try Self.read((rows.prefix(8) + rows.suffix(3)).joined(separator: "\n")) } throws: {
            "\($0)".contains("line 9: pixel X=2.0, Y=2.0 has 1 point on a different axis")
        }
    }

    /// Three waves, the first pixel's out of order and each other pixel's in another: every
    /// intensity lands in its wave's band (the axis in the first pixel's order); a permuted pixel
    /// with one wave off the axis is named.
    @Test func permutedWavesLandInTheirBands() throws {
        let orders: [[Double]] = [[1000, 1800, 1400], [1400, 1000, 1800], [1800, 1400, 1000]]
        func text(_ orders: [[Double]]) -> String {
            orders.enumerated().flatMap { c, waves in waves.map { "\(2 * c)\t0\t\($0)\t\($0 / 100 + Double(c))" } }
                .joined(separator: "\n")
        }
        let cube = try Self.read(text(orders))
        #expect(cube.axis == [1000, 1800, 1400] && cube.width == 3 && cube.height == 1)
        for k in 0..<3 { for c in 0..<3 {
            #expect(cube[band: k, y: 0, x: c] == Float(cube.axis[k] / 100 + Double(c)), "band \(k), column \(c)")
        } }
        var off = orders
        off[2][1] = 1401
        #expect { _ = try Self.read(text(off)) } throws: {
            "\($0)".contains("line 7: pixel X=4.0, Y=0.0 has 3 points on a different axis from the first pixel's 3 (line 1)")
        }
    }
}
