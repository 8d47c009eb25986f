import CompSegCore

/// Readable text for figures: the 5×7 glyphs of `Text` enlarged to any size with smoothed diagonals
/// and antialiased edges.
///
/// Each glyph is refined three times by the EPX rule (one pixel becomes four; a corner quarter
/// takes its two neighbours' value where they agree and the other two differ), which joins
/// diagonal steps and rounds convex corners: a 5×9 cell (line and descent) becomes 40×72 sub-pixels. A string is then drawn
/// at `size` output pixels per font pixel by coverage: every output pixel samples 4×4 points of
/// the refined glyphs and is covered by the fraction that fall on ink.
extension Text {
    /// The size (pixels per font pixel) figures use for tick labels, axis labels and titles:
    /// capitals 14 px high at 2.
    public static let tickSize = 1.75, labelSize = 2.0, titleSize = 2.25

    /// Sub-pixels per font pixel in the refined glyphs (three EPX doublings).
    static let refinement = 8

    /// The refined glyphs, 40×72 row-major, for every character of the font and the hollow box.
    static let refined: [Character: [Bool]] = {
        var out: [Character: [Bool]] = [:]
        for (ch, rows) in font { out[ch] = refine(rows) }
        return out
    }()
    static let refinedUnknown = refine(glyph("\u{0}"))

    /// `rows` (9 rows, bit 4 = leftmost) refined by three EPX doublings.
    static func refine(_ rows: [UInt8]) -> [Bool] {
        var (w, h) = (glyphWidth, glyphHeight + descent)
        var bits = (0..<h * w).map { rows[$0 / w] & (1 << (w - 1 - $0 % w)) != 0 }
        for _ in 0..<3 {
            bits = epx(bits, width: w, height: h)
            w *= 2; h *= 2
        }
        return bits
    }

    /// One EPX (Scale2x) doubling of a binary picture; outside it counts as background.
    static func epx(_ bits: [Bool], width w: Int, height h: Int) -> [Bool] {
        func at(_ x: Int, _ y: Int) -> Bool { x >= 0 && y >= 0 && x < w && y < h && bits[y * w + x] }
        var out = [Bool](repeating: false, count: 4 * w * h)
        for y in 0..<h {
            for x in 0..<w {
                let p = at(x, y), a = at(x, y - 1), b = at(x + 1, y), c = at(x - 1, y), d = at(x, y + 1)
                let e0 = (c == a && c != d && a != b) ? a : p
                let e1 = (a == b && a != c && b != d) ? b : p
                let e2 = (d == c && d != b && c != a) ? c : p
                let e3 = (b == d && b != a && d != c) ? d : p
                out[(2 * y) * 2 * w + 2 * x] = e0
                out[(2 * y) * 2 * w + 2 * x + 1] = e1
                out[(2 * y + 1) * 2 * w + 2 * x] = e2
                out[(2 * y + 1) * 2 * w + 2 * x + 1] = e3
            }
        }
        return out
    }

    /// Width in pixels of `string` drawn smooth at `size`: (6·n − 1)·size, rounded up.
    public static func width(_ string: String, size: Double) -> Int {
        Int((Double(width(string)) * size).rounded(.up))
    }

    /// Height in pixels of a smooth line at `size`: 7·size, rounded up; descenders hang below it, into
    /// the gap a layout leaves under the line.
    public static func height(size: Double) -> Int { Int((Double(glyphHeight) * size).rounded(.up)) }

    /// The coverage of `string` at `size`: `width(string, size:)` wide, the line and its descent high.
    public static func coverage(_ string: String, size: Double) -> Coverage {
        precondition(size >= 1, "Text size must be at least 1, got \(size)")
        let rows = glyphHeight + descent
        var out = Coverage(width: width(string, size: size), height: Int((Double(rows) * size).rounded(.up)))
        let k = 4, subW = glyphWidth * refinement, subH = rows * refinement
        for (i, ch) in string.enumerated() where ch != " " {
            let bits = refined[ch] ?? refinedUnknown
            let origin = Double(i * advance)  // in font pixels
            let xLow = max(0, Int((origin * size).rounded(.down)))
            let xHigh = min(out.width - 1, Int(((origin + Double(glyphWidth)) * size).rounded(.up)))
            guard xLow <= xHigh else { continue }
            for py in 0..<out.height {
                for px in xLow...xHigh {
                    var hits = 0
                    for sy in 0..<k {
                        let fy = (Double(py) + (Double(sy) + 0.5) / Double(k)) / size
                        let gy = Int(fy * Double(refinement))
                        guard gy >= 0, gy < subH else { continue }
                        for sx in 0..<k {
                            let fx = (Double(px) + (Double(sx) + 0.5) / Double(k)) / size - origin
                            let gx = Int((fx * Double(refinement)).rounded(.down))
                            if gx >= 0, gx < subW, bits[gy * subW + gx] { hits += 1 }
                        }
                    }
                    if hits > 0 { out.cover(x: px, y: py, Float(hits) / Float(k * k)) }
                }
            }
        }
        return out
    }

    /// Draws `string` smooth at `size` with its top-left corner at (`x`, `y`), or, `vertical`, turned
    /// a quarter counter-clockwise (reading upwards) with the top-left of the turned box at (`x`, `y`).
    public static func drawSmooth(_ string: String, into image: inout RGBImage, x: Int, y: Int, colour: RGB = (0, 0, 0),
                                  size: Double = labelSize, vertical: Bool = false) {
        let c = coverage(string, size: size)
        image.blend(vertical ? c.rotatedCounterClockwise() : c, x: x, y: y, colour: colour)
    }
}
