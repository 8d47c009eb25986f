import Foundation
import Testing
import CompSegCore
@testable import CompSegFigures
#if canImport(FoundationXML)
import FoundationXML
#endif

private func same(_ a: RGB, _ b: RGB) -> Bool { a.0 == b.0 && a.1 == b.1 && a.2 == b.2 }

/// Pixels of `image` that are not `background`.
private func inked(_ image: RGBImage, background: RGB = Palette.white) -> Int {
    var n = 0
    for y in 0..<image.height { for x in 0..<image.width where !same(image.pixel(x: x, y: y), background) { n += 1 } }
    return n
}

@Suite struct OverlayTests {
    @Test func blendTintsMaskPixelsOnly() throws {
        let preview = try RGBImage(height: 2, width: 2, bytes: [100, 40, 200, 1, 2, 3, 4, 5, 6, 0, 0, 0])
        let mask = try Mask(height: 2, width: 2, pixels: [true, false, false, true])
        let out = Overlay.blend(preview: preview, mask: mask)
        // 0.65·100 + 0.35·255 = 154.25; 0.65·40 = 26; 0.65·200 = 130; 0.35·255 = 89.25.
        #expect(out.bytes == [154, 26, 130, 1, 2, 3, 4, 5, 6, 89, 0, 0])
        let green = Overlay.blend(preview: preview, mask: mask, colour: (0, 255, 0), alpha: 0.5)
        #expect(green.pixel(x: 1, y: 1) == (0, 128, 0))  // 127.5 rounds up
        #expect(Overlay.blend(preview: preview, mask: mask, alpha: 1).pixel(x: 0, y: 0) == (255, 0, 0))
        #expect(Overlay.blend(preview: preview, mask: mask, alpha: 0) == preview)
    }

    @Test func contourOfA5x5SquareIsItsRing() throws {
        let grey: RGB = (10, 10, 10)
        let preview = RGBImage(height: 9, width: 9, fill: grey)
        var pixels = [Bool](repeating: false, count: 81)
        for y in 2...6 { for x in 2...6 { pixels[y * 9 + x] = true } }
        let out = Overlay.contour(preview: preview, mask: try Mask(height: 9, width: 9, pixels: pixels), colour: (255, 0, 0))
        var ring: [[Int]] = [], halo: [[Int]] = []
        for y in 0..<9 {
            for x in 0..<9 {
                let p = out.pixel(x: x, y: y)
                if same(p, (255, 0, 0)) { ring.append([x, y]) } else if same(p, (0, 0, 0)) { halo.append([x, y]) } else { #expect(same(p, grey)) }
            }
        }
        var expected: [[Int]] = []
        for y in 2...6 { for x in 2...6 where x == 2 || x == 6 || y == 2 || y == 6 { expected.append([x, y]) } }
        #expect(ring == expected)
        #expect(ring.count == 16)
        // Just outside it, black (red is darker than white is bright): the 4-neighbours of the square, corners aside.
        var outside: [[Int]] = []
        for y in 1...7 { for x in 1...7 where (x == 1 || x == 7) != (y == 1 || y == 7) { outside.append([x, y]) } }
        #expect(halo == outside && halo.count == 20)
        #expect(same(Overlay.halo(for: (0, 51, 255)), (255, 255, 255)), "a dark blue line is edged in white")
        #expect(same(Palette.legibleOnWhite((0, 255, 0)), (0, 0, 0)) && same(Palette.legibleOnWhite((213, 94, 0)), (213, 94, 0)))
    }

    @Test func maskPixelsAtTheImageEdgeAreBoundary() {
        let out = Overlay.contour(preview: RGBImage(height: 3, width: 3, fill: (0, 0, 0)),
                                  mask: Mask(height: 3, width: 3, filled: true), colour: (0, 0, 255))
        for y in 0..<3 { for x in 0..<3 { #expect(same(out.pixel(x: x, y: y), x == 1 && y == 1 ? (0, 0, 0) : (0, 0, 255))) } }
    }
}

@Suite struct ColormapTests {
    @Test func viridisMatchesThePublishedTable() {
        #expect(Colormap.viridis.count == 256)
        #expect(same(Colormap.viridis[0], (68, 1, 84)))
        #expect(same(Colormap.viridis[128], (33, 145, 140)))
        #expect(same(Colormap.viridis[255], (253, 231, 37)))
        #expect(same(Colormap.viridis(0.5), (33, 145, 140)))
        #expect(same(Colormap.viridis(-3), (68, 1, 84)))
        #expect(same(Colormap.viridis(7), (253, 231, 37)))
        #expect(same(Colormap.viridis(.nan), (128, 128, 128)))
    }

    @Test func viridisRisesInLightness() {
        // Perceived lightness (Rec. 601 luma) increases monotonically along viridis.
        let luma = Colormap.viridis.map { 0.299 * Double($0.0) + 0.587 * Double($0.1) + 0.114 * Double($0.2) }
        for (a, b) in zip(luma, luma.dropFirst()) { #expect(b >= a - 0.5) }
    }
}

@Suite struct HeatmapTests {
    @Test func withoutColourBarThePictureIsTheMap() {
        let values: [Float] = (0..<20).map { Float($0) / 19 }
        let out = Heatmap.render(values: values, height: 4, width: 5, colorBar: false)
        #expect(out.height == 4 && out.width == 5)
        #expect(same(out.pixel(x: 0, y: 0), (68, 1, 84)))
        #expect(same(out.pixel(x: 4, y: 3), (253, 231, 37)))
        let big = Heatmap.render(values: values, height: 4, width: 5, colorBar: false, scale: 3)
        #expect(big.height == 12 && big.width == 15)
        #expect(same(big.pixel(x: 14, y: 11), (253, 231, 37)))
    }

    /// With the masks' threshold: the mask's outline on the map and a line across the bar, in
    /// the mask colour, so that a faint map (dark everywhere) still shows what its mask takes.
    @Test func thresholdOutlinesTheMaskAndMarksTheBar() throws {
        let (h, w) = (6, 6), red: RGB = (255, 0, 0)
        let values: [Float] = (0..<(h * w)).map { ($0 / w) >= 2 && ($0 / w) < 5 && ($0 % w) >= 1 && ($0 % w) < 5 ? 0.02 : 0.001 }
        let mask = try Mask(height: h, width: w, pixels: values.map { $0 > 0.014 })
        let out = Heatmap.render(values: values, height: h, width: w, colorBar: false, threshold: (0.014, mask, red))
        #expect(same(out.pixel(x: 1, y: 2), red) && same(out.pixel(x: 4, y: 4), red), "the outline")
        #expect(!same(out.pixel(x: 0, y: 0), red) && !same(out.pixel(x: 2, y: 3), red), "outside and inside it")
        let barred = Heatmap.render(values: values, height: h, width: w, threshold: (0.5, mask, red))
        let barX = Heatmap.margin + w + Heatmap.gap, barH = barred.height - 2 * Heatmap.margin
        let row = Heatmap.margin + Int((0.5 * Double(barH - 1)).rounded())
        #expect(same(barred.pixel(x: barX + 5, y: row), red) && !same(barred.pixel(x: barX + 5, y: row - 4), red))
        let legend = Heatmap.colorBarLegend(threshold: (0.014, red))
        #expect((0..<legend.width).contains { same(legend.pixel(x: $0, y: 12), red) })

        // The threshold's number beside the bar's line, in its colour (reddish ink), where the
        // "0.5" tick label would be; the bar grows wide enough for it.
        func reddish(_ image: RGBImage, rows: Range<Int>, columns: Range<Int>) -> Bool {
            rows.contains { y in columns.contains { x in let p = image.pixel(x: x, y: y); return p.0 > 150 && p.1 < 120 && p.2 < 120 } }
        }
        let labelX = barX + Heatmap.barWidth + Heatmap.tickLength + Heatmap.labelGap
        #expect(reddish(barred, rows: (row - 4)..<(row + 5), columns: labelX..<(labelX + 20)))
        #expect(barred.width == Heatmap.size(height: h, width: w, colorBar: true, threshold: 0.5).width)
        let faint = Heatmap.render(values: values, height: h, width: w, threshold: (0.014, mask, red))
        #expect(faint.width == Heatmap.size(height: h, width: w, colorBar: true, threshold: 0.014).width
                && faint.width > Heatmap.size(height: h, width: w, colorBar: true).width, "room for \"0.014\"")
        let bottom = faint.height - Heatmap.margin
        #expect(reddish(faint, rows: (bottom - 14)..<bottom, columns: labelX..<(labelX + 40)), "the number near 0, in place of \"0\"")
        #expect(!reddish(faint, rows: Heatmap.margin..<(Heatmap.margin + 14), columns: labelX..<faint.width), "\"1\" stays black")
        #expect(reddish(legend, rows: 24..<legend.height, columns: 0..<40), "the legend's number under its line")
    }

    /// Pixels outside the tissue are light grey, whatever their value; inside, viridis; the mask's
    /// outline is drawn over both.
    @Test func outsideTheTissueIsGrey() throws {
        let (h, w) = (4, 5)
        let values = (0..<(h * w)).map { Float($0) / Float(h * w) }
        let tissue = try Mask(height: h, width: w, pixels: (0..<(h * w)).map { $0 % w < 3 })
        let out = Heatmap.render(values: values, height: h, width: w, colorBar: false, scale: 2, tissue: tissue)
        #expect(same(out.pixel(x: 9, y: 7), Heatmap.outsideTissue) && same(out.pixel(x: 6, y: 0), Heatmap.outsideTissue))
        #expect(same(out.pixel(x: 5, y: 7), Colormap.viridis(Double(values[3 * w + 2]))))
    }

    @Test func colourBarAddsAStripWithLabelsAndTitle() {
        let values = [Float](repeating: 0.5, count: 20)
        let out = Heatmap.render(values: values, height: 4, width: 5)
        // Width: 6 + 5 + 8 + 14 + 4 + 3 + label ("0.5": 17·1.75 → 30) + 8 + title (7·1.75 → 13) + 6;
        // height: 6 + bar + 6, the bar as long as "activation" written upwards (59·1.75 → 104 > 96, the minimum).
        let titleLength = Text.width("activation", size: Text.tickSize)
        #expect(titleLength == 104)
        #expect(out.height == 6 + 104 + 6 && out.width == 6 + 5 + 8 + 14 + 4 + 3 + 30 + 8 + 13 + 6)
        #expect(Heatmap.size(height: 4, width: 5, colorBar: true) == (out.height, out.width))
        #expect(same(out.pixel(x: 6, y: 6), (33, 145, 140)))
        let barX = 6 + 5 + 8, barH = out.height - 12
        #expect(same(out.pixel(x: barX + 5, y: 6), (253, 231, 37)))  // top of the bar: 1
        #expect(same(out.pixel(x: barX + 5, y: 6 + barH - 1), (68, 1, 84)))  // bottom: 0
        #expect(same(out.pixel(x: barX - 1, y: 20), (0, 0, 0)))  // outline
        // Tick labels: dark, antialiased ink right of the bar (grey levels between white and black).
        let labelsX = barX + 14 + 4 + 3, titleX = labelsX + 30 + 8
        var labelInk = 0, greys = Set<UInt8>()
        for y in 0..<out.height {
            for x in labelsX..<(labelsX + 30) {
                let p = out.pixel(x: x, y: y)
                if p.0 < 128 { labelInk += 1 }
                if p.0 > 0 && p.0 < 255 { greys.insert(p.0) }
            }
        }
        #expect(labelInk > 60 && greys.count > 5, "ink \(labelInk), grey levels \(greys.count)")
        // No label reaches into the margins, which a report's panel crops off ("1" was cut in half).
        for y in Array(0..<6) + Array((out.height - 6)..<out.height) {
            for x in labelsX..<(labelsX + 30) { #expect(same(out.pixel(x: x, y: y), Palette.white), "ink at (\(x), \(y))") }
        }
        // The title "activation" reads upwards: its ink spans far more rows than columns.
        var rows = Set<Int>(), columns = Set<Int>()
        for y in 0..<out.height { for x in titleX..<out.width where out.pixel(x: x, y: y).0 < 128 { rows.insert(y); columns.insert(x) } }
        #expect(rows.count > 70 && columns.count <= 13, "title ink over \(rows.count) rows, \(columns.count) columns")

        let tall = Heatmap.render(values: [Float](repeating: 0, count: 40 * 30), height: 40, width: 30, scale: 2)
        #expect(tall.height == 6 + 104 + 6 && tall.width == 6 + 60 + 8 + 14 + 4 + 3 + 30 + 8 + 13 + 6)
        let taller = Heatmap.render(values: [Float](repeating: 0, count: 80 * 30), height: 80, width: 30, scale: 2)
        #expect(taller.height == 6 + 160 + 6)
    }

    @Test func colourBarLegendRunsFromZeroToOne() {
        let legend = Heatmap.colorBarLegend(length: 200)
        let side = Text.width("0.5", size: Text.tickSize) / 2 + 8
        #expect(legend.width == 200 + 2 * side)
        #expect(same(legend.pixel(x: side, y: 10), (68, 1, 84)) && same(legend.pixel(x: side + 199, y: 10), (253, 231, 37)))
        var ink = 0
        for y in (8 + 16)..<legend.height { for x in 0..<legend.width where legend.pixel(x: x, y: y).0 < 128 { ink += 1 } }
        #expect(ink > 150)  // ticks, three labels and "activation"
    }
}

@Suite struct TextTests {
    @Test func widthsFollowTheSixPixelAdvance() {
        #expect(Text.width("") == 0)
        #expect(Text.width("A") == 5)
        #expect(Text.width("12.5") == 23)
        #expect(Text.width("12.5", scale: 2) == 46)
        #expect(Text.height(scale: 3) == 21)
    }

    @Test func drawsTheGlyphPixels() {
        var image = RGBImage(height: 7, width: 5, fill: Palette.white)
        Text.draw("1", into: &image, x: 0, y: 0)
        #expect(inked(image) == 10)
        #expect(same(image.pixel(x: 2, y: 0), (0, 0, 0)) && same(image.pixel(x: 0, y: 0), Palette.white))
        var big = RGBImage(height: 20, width: 60, fill: Palette.white)
        Text.draw("Dice", into: &big, x: 1, y: 1, colour: (255, 0, 0), scale: 2)
        let ink = "Dice".map { Text.glyph($0).map { $0.nonzeroBitCount }.reduce(0, +) }.reduce(0, +)
        #expect(inked(big) == 4 * ink)
        // Clipped, not crashing, off the edge.
        Text.draw("±0.5", into: &big, x: 55, y: 17)
        #expect(inked(big) > 4 * ink)
    }

    @Test func fontCoversTheNeededCharactersWithDistinctGlyphs() {
        let needed = "0123456789.-± " + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abcdefghijklmnopqrstuvwxyz"
        for ch in needed { #expect(Text.supports(ch), "no glyph for \(ch)") }
        for ch in ".,-+±=:/()%_<>" { #expect(Text.supports(ch)) }
        #expect(!Text.supports("€"))
        var seen: [[UInt8]: Character] = [:]
        for ch in needed where ch != " " {
            let g = Text.glyph(ch)
            #expect(g.count == 9 && g.allSatisfy { $0 < 32 } && g.contains { $0 != 0 })
            #expect(seen[g] == nil, "\(ch) looks like \(seen[g].map(String.init) ?? "")")
            seen[g] = ch
        }
    }
}

@Suite struct SmoothTextTests {
    @Test func epxJoinsDiagonalSteps() {
        // A 2×2 diagonal: the two background pixels fill the corners that face each other.
        let out = Text.epx([true, false, false, true], width: 2, height: 2)
        #expect(out.map { $0 ? 1 : 0 } == [1, 1, 0, 0,
                                           1, 1, 1, 0,
                                           0, 1, 1, 1,
                                           0, 0, 1, 1])
        // A lone pixel and a full block stay as they are.
        #expect(Text.epx([true], width: 1, height: 1) == [true, true, true, true])
    }

    @Test func refinedDiagonalsAreConnectedEdgeToEdge() {
        // "/" in the 5×7 font touches only at corners; refined, each row's ink overlaps the next row's.
        // (EPX leaves a junction of three diagonals, as in "x" and "v", touching at corners only.)
        for ch in ["/", "7", "z", "2"].map(Character.init) {
            let bits = Text.refined[ch]!
            let w = Text.glyphWidth * Text.refinement
            var previous: Set<Int>?
            for y in 0..<((Text.glyphHeight + Text.descent) * Text.refinement) {
                let ink = Set((0..<w).filter { bits[y * w + $0] })
                if let p = previous, !p.isEmpty, !ink.isEmpty { #expect(!p.isDisjoint(with: ink), "\(ch): row \(y) does not touch row \(y - 1)") }
                previous = ink
            }
        }
    }

    @Test func sizesAndAntialiasing() {
        #expect(Text.width("AUC", size: 2) == 34 && Text.height(size: 2) == 14)
        #expect(Text.width("AUC", size: 1.75) == 30 && Text.height(size: 1.75) == 13)
        let c = Text.coverage("Dice 0.72", size: 2)
        #expect(c.width == Text.width("Dice 0.72", size: 2) && c.height == 18)
        #expect(c.values.allSatisfy { $0 >= 0 && $0 <= 1 })
        let partial = c.values.filter { $0 > 0 && $0 < 1 }.count, full = c.values.filter { $0 == 1 }.count
        #expect(partial > 20 && full > 50, "partial \(partial), full \(full)")
        // Ink grows with the square of the size (to within 15%: rounding of corners and edges).
        let glyphInk = Double(Text.glyph("H").map { $0.nonzeroBitCount }.reduce(0, +))
        for size in [2.0, 3.0, 4.0] {
            let area = Double(Text.coverage("H", size: size).values.reduce(0, +))
            #expect(abs(area / (glyphInk * size * size) - 1) < 0.15, "H at \(size): \(area)")
        }
    }

    @Test func descendersHangBelowTheLine() {
        // g j p q y and the comma reach below the line's 7 rows; letters without descenders do not.
        let line = Text.height(size: 2)
        func inkBelow(_ s: String) -> Float {
            let c = Text.coverage(s, size: 2)
            return (line..<c.height).flatMap { y in (0..<c.width).map { c[$0, y] } }.reduce(0, +)
        }
        for s in ["g", "j", "p", "q", "y", ","] { #expect(inkBelow(s) > 8, "\(s) has no descender") }
        #expect(inkBelow("abc 0.9 AUC") == 0)
        #expect(Text.glyph("g") != Text.glyph("9") && Text.glyph("q") != Text.glyph("g"))
    }

    @Test func drawsBlendedAndVertical() {
        var image = RGBImage(height: 20, width: 40, fill: Palette.white)
        Text.drawSmooth("T", into: &image, x: 2, y: 2, colour: (255, 0, 0), size: 2)
        // The top bar of T at font row 0, columns 1…3 (inner part): full red.
        #expect(same(image.pixel(x: 2 + 5, y: 2 + 1), (255, 0, 0)))
        #expect(same(image.pixel(x: 0, y: 0), Palette.white))
        let c = Text.coverage("ab", size: 2), r = c.rotatedCounterClockwise()
        #expect(r.width == c.height && r.height == c.width)
        for y in 0..<c.height { for x in 0..<c.width { #expect(r[y, c.width - 1 - x] == c[x, y]) } }
        var tall = RGBImage(height: 60, width: 20, fill: Palette.white)
        Text.drawSmooth("activation", into: &tall, x: 2, y: 2, size: 1, vertical: true)
        var rows = Set<Int>(), columns = Set<Int>()
        for y in 0..<60 { for x in 0..<20 where tall.pixel(x: x, y: y).0 < 128 { rows.insert(y); columns.insert(x) } }
        #expect(rows.count > 40 && columns.count <= 7, "\(rows.count) rows, \(columns.count) columns")
    }
}

@Suite struct CoverageTests {
    @Test func strokeCoversItsWidthWithRampedEdges() {
        var c = Coverage(width: 20, height: 10)
        c.stroke(x0: 2, y0: 5, x1: 18, y1: 5, lineWidth: 2)  // rows 4 and 5 fully, rows 3 and 6 not at all
        #expect(c[10, 4] == 1 && c[10, 5] == 1 && c[10, 3] == 0 && c[10, 6] == 0)
        var d = Coverage(width: 20, height: 10)
        d.stroke(x0: 2, y0: 5.5, x1: 18, y1: 5.5, lineWidth: 2)  // centre on a pixel centre: half pixels either side
        #expect(d[10, 5] == 1 && d[10, 4] == 0.5 && d[10, 6] == 0.5)
        var dashed = Coverage(width: 40, height: 4)
        dashed.stroke(x0: 0, y0: 2, x1: 40, y1: 2, lineWidth: 2, dash: 5)
        #expect(dashed[2, 1] == 1 && dashed[7, 1] == 0 && dashed[12, 1] == 1)
        var disc = Coverage(width: 21, height: 21)
        disc.disc(x: 10.5, y: 10.5, radius: 5)
        let area = disc.values.reduce(0, +)
        #expect(abs(Double(area) - Double.pi * 25) < 2, "disc area \(area)")
    }

    @Test func blendMixesByCoverage() {
        var image = RGBImage(height: 1, width: 3, fill: (200, 100, 0))
        var c = Coverage(width: 3, height: 1)
        c.values = [0, 0.5, 1]
        image.blend(c, colour: (0, 0, 255))
        #expect(image.bytes == [200, 100, 0, 100, 50, 128, 0, 0, 255])
    }
}

@Suite struct ShrinkTests {
    /// A picture larger than the side is shrunk by the smallest whole factor that fits, each pixel
    /// its block's mean (edge blocks of what they hold); a smaller one is left as it is.
    @Test func shrinksByBlockMeans() {
        var image = RGBImage(height: 7, width: 10, fill: Palette.white)
        image.fillRect(x: 0, y: 0, width: 3, height: 3, (0, 0, 0))
        image.fillRect(x: 9, y: 6, width: 1, height: 1, (0, 90, 30))
        let small = image.shrunk(toFit: 4)  // factor 3: 10×7 → 4×3
        #expect(small.width == 4 && small.height == 3)
        #expect(same(small.pixel(x: 0, y: 0), (0, 0, 0)) && same(small.pixel(x: 1, y: 0), Palette.white))
        #expect(same(small.pixel(x: 3, y: 2), (0, 90, 30)))  // the corner block holds that one pixel
        #expect(image.shrunk(toFit: 10).bytes == image.bytes)
        let slide = RGBImage(height: 2048, width: 3072, fill: Palette.white).shrunk(toFit: 480)
        #expect(slide.width == 439 && slide.height == 293)
    }
}

@Suite struct PanelTests {
    @Test func composesSideBySideWithTitles() {
        let a = RGBImage(height: 10, width: 40, fill: (255, 0, 0)), b = RGBImage(height: 12, width: 15, fill: (0, 0, 255))
        let plain = Panel.compose([("A", a), ("B", b)], caption: nil)
        // 8 + 40 + 8 + max(15, 10 for "B" + 2 × 8) + 8 wide; 8 + 14 (title at size 2) + 6 + 12 + 8 high.
        #expect(plain.width == 90 && plain.height == 48)
        #expect(same(plain.pixel(x: 8, y: 28), (255, 0, 0)) && same(plain.pixel(x: 47, y: 37), (255, 0, 0)))
        #expect(same(plain.pixel(x: 61, y: 28), (0, 0, 255)) && same(plain.pixel(x: 75, y: 39), (0, 0, 255)))  // centred: 56 + 5
        #expect(same(plain.pixel(x: 8, y: 38), Palette.white))  // below the shorter picture
        // Titles are smooth text: dark ink with grey edges above each picture.
        var ink = 0, greys = 0
        for y in 8..<22 { for x in 0..<90 { let p = plain.pixel(x: x, y: y); if p.0 < 100 { ink += 1 } else if p.0 < 250 { greys += 1 } } }
        #expect(ink > 30 && greys > 10)
        let captioned = Panel.compose([("A", a), ("B", b)], caption: "x")
        #expect(captioned.height == 48 + 6 + 14)
        #expect(Panel.size([("A", 10, 20), ("long title here", 12, 15)], caption: nil).width
                == 8 + Text.width("A", size: Text.labelSize) + 16 + 8 + Text.width("long title here", size: Text.labelSize) + 16 + 8)  // titles a gap apart beyond theirs
        // A title spanning the picture's left 20 px (a map beside its colour bar) is centred over them.
        func inkColumns(_ p: RGBImage) -> [Int] { (0..<p.width).filter { x in (8..<22).contains { p.pixel(x: x, y: $0).0 < 128 } } }
        let wide = RGBImage(height: 10, width: 80, fill: (255, 0, 0))
        let centred = inkColumns(Panel.compose([("A", wide)])), spanned = inkColumns(Panel.compose([("A", wide)], titleSpans: [0: 20]))
        #expect(abs(Double(centred.first! + centred.last!) / 2 - (8 + 40)) <= 1.5)
        #expect(abs(Double(spanned.first! + spanned.last!) / 2 - (8 + 10)) <= 1.5)
    }
}

@Suite struct ROCTests {
    @Test func pointsStepDiagonallyThroughTies() {
        let scores = [0.9, 0.8, 0.8, 0.7, 0.6, 0.5], labels = [true, true, false, false, true, false]
        let p = ROCCurve.points(scores: scores, labels: labels)
        let expected: [(Double, Double)] = [(0, 0), (0, 1.0 / 3), (1.0 / 3, 2.0 / 3), (2.0 / 3, 2.0 / 3), (2.0 / 3, 1), (1, 1)]
        #expect(p.count == expected.count)
        for (a, b) in zip(p, expected) { #expect(abs(a.fpr - b.0) < 1e-12 && abs(a.tpr - b.1) < 1e-12) }
        // Mann–Whitney: 6.5 of 9 positive–negative pairs ordered right (the tie counts one half).
        #expect(abs(ROCCurve.auc(p) - 13.0 / 18) < 1e-12)
        // Order of input does not matter.
        let q = ROCCurve.points(scores: scores.reversed(), labels: labels.reversed())
        #expect(zip(p, q).allSatisfy { $0.fpr == $1.fpr && $0.tpr == $1.tpr })
    }

    @Test func edgeCases() {
        let tied = ROCCurve.points(scores: [0.3, 0.3, 0.3, 0.3], labels: [true, false, true, false])
        #expect(tied.count == 2 && tied[1] == (1, 1) && ROCCurve.auc(tied) == 0.5)
        #expect(ROCCurve.points(scores: [0.1, 0.2], labels: [true, true]).isEmpty)
        #expect(ROCCurve.auc([]).isNaN)
        let perfect = ROCCurve.curve(name: "p", scores: [0.9, 0.8, 0.2, .nan], labels: [true, true, false, true])
        #expect(perfect.auc == 1 && ROCCurve.legend(perfect) == "p AUC 1.00")
    }

    static let curves: [ROCCurve.Curve] = [
        ROCCurve.curve(name: "CompSegNet", scores: [0.9, 0.8, 0.8, 0.7, 0.6, 0.5], labels: [true, true, false, false, true, false]),
        ROCCurve.curve(name: "GAP <baseline>", scores: [0.1, 0.4, 0.35, 0.8], labels: [false, false, true, true]),
    ]

    @Test func rasterHasAxesCurvesAndLegend() {
        let image = ROCCurve.render(curves: Self.curves, size: 400)
        #expect(image.height == 400 && image.width == 400)
        var colours = Set<[UInt8]>()
        for y in 0..<400 { for x in 0..<400 { let p = image.pixel(x: x, y: y); colours.insert([p.0, p.1, p.2]) } }
        for c in Palette.categorical.prefix(2) { #expect(colours.contains([c.0, c.1, c.2])) }
        #expect(colours.contains([200, 200, 200]))  // dashed diagonal
        let chart = ROCCurve.chart(curves: Self.curves, size: 400), a = chart.plotArea
        #expect(same(image.pixel(x: a.left, y: a.bottom - 1), Chart.frameColour))
        #expect(same(image.pixel(x: 0, y: 0), Palette.white))
    }

    /// Curves that coincide (three runs at AUC 1) each stay visible, nested, and the axes keep
    /// their range: the legend goes below the diagonal instead of raising the top above 1.
    @Test func coincidingCurvesStayVisible() {
        let same3 = ["transposed", "resize", "batch norm"].map {
            ROCCurve.curve(name: $0, scores: [0.9, 0.8, 0.2, 0.1], labels: [true, true, false, false])
        }
        let chart = ROCCurve.chart(curves: same3, size: 480)
        #expect(chart.legend == .lowerRight && chart.roomForLegend().yRange == -0.02...1.02)
        let image = ROCCurve.render(curves: same3, size: 480), a = chart.plotArea
        let column = Int(chart.px(0)) + 4  // across the bands up the left edge
        var seen = Set<[UInt8]>()
        for x in (column - 8)...(column + 8) { let p = image.pixel(x: x, y: (a.top + a.bottom) / 2); seen.insert([p.0, p.1, p.2]) }
        for c in Palette.categorical.prefix(3) { #expect(seen.contains([c.0, c.1, c.2]), "\(c) hidden") }
    }

    /// Vertical rules near both edges cross every corner at any y range: the legend goes below
    /// the plot rather than over them, in the PNG and the SVG alike.
    @Test func aLegendThatNoRaisingFreesGoesBelow() {
        var chart = Chart(width: 400, height: 300, xLabel: "threshold", yLabel: "value", xRange: 0...1, yRange: 0...1,
                          xTicks: [], yTicks: [])
        chart.series = [.init(name: "Youden's J", points: [(0, 1), (1, 1)], colour: Palette.categorical[0])]
        chart.rules = [.init(.vertical, at: 0.03, name: "chosen"), .init(.vertical, at: 0.97)]
        let placed = chart.roomForLegend()
        #expect(placed.legend == .below && placed.height == 300 + placed.legendBelowHeight)
        #expect(chart.render().height == placed.height)
        #expect(chart.svg().contains("height=\"\(placed.height)\""))
    }

    /// Many curves (a comparison over seeds): a legend in the lower right would cover curves
    /// and markers, so it goes below the plot, in columns, and the chart grows
    /// by its height while the plot keeps its size; PNG and SVG alike.
    @Test func manyCurvesPutTheLegendBelowThePlot() {
        let curves: [ROCCurve.Curve] = (0..<6).map { i in
            var c = ROCCurve.curve(name: "unet-seed\(i)", scores: [0.9, 0.6, 0.5, 0.4, 0.2], labels: [true, i % 2 == 0, true, false, false])
            c.interval = (0.5, 1)
            c.marker = ((0, 0.5), "Youden")
            return c
        }
        let few = ROCCurve.chart(curves: Array(curves.prefix(1)), size: 480)
        let chart = ROCCurve.chart(curves: curves, size: 480), a = chart.plotArea
        #expect(few.legend == .lowerRight && chart.legend == .below)
        #expect(chart.width == 480 && chart.height == 480 + chart.legendBelowHeight && chart.legendBelowHeight > 0)
        #expect(a.bottom == few.plotArea.bottom && a.right - a.left == few.plotArea.right - few.plotArea.left, "the plot keeps its size")
        let box = chart.legendBox!, layout = chart.legendBelowLayout
        #expect(layout.columns == 1 && layout.rows == 7 && box.x + box.width <= chart.width, "\(layout), \(box)")
        #expect(box.y > a.bottom + 20, "below the tick labels and the axis label")
        let image = ROCCurve.render(curves: curves, size: 480)
        #expect(image.height == chart.height && image.width == 480)
        // Every curve's swatch is drawn in its colour below the plot, then one entry for the markers.
        for i in 0..<7 {
            let slot = chart.legendSlot(i, in: box), mid = slot.y + Text.height(size: Text.tickSize) / 2
            let colour = i < 6 ? Palette.categorical[i] : Palette.grey
            let x = slot.x + Chart.legendPad + Chart.legendSwatch / 2
            #expect(slot.y > a.bottom && same(image.pixel(x: x, y: mid), colour), "entry \(i)")
        }
        // Legend entries in two columns where they fit.
        var short = chart
        short.series = short.series.map { var s = $0; s.name = s.name.map { String($0.prefix(8)) }; return s }
        #expect(short.legendBelowLayout.columns >= 2)
        let svg = ROCCurve.svg(curves: curves, size: 480)
        #expect(svg.contains("height=\"\(chart.height)\"") && svg.contains(">ringed dot: each curve&apos;s Youden point</text>")
                && !svg.contains("seed5 Youden"))
    }

    /// At AUC 1 the curve runs up the left edge and along the top: it must lie inside the frame, in
    /// its own colour, not on the frame's pixels; and the Youden point shows as a ringed dot.
    @Test func perfectCurveIsVisibleBesideTheFrame() {
        var curve = ROCCurve.curve(name: "tumor fraction", scores: [0.9, 0.8, 0.7, 0.2, 0.1, 0.05], labels: [true, true, true, false, false, false])
        curve.interval = (0.97, 1)
        curve.marker = ((0, 1), "Youden: fraction ≥ 0.700")
        #expect(curve.auc == 1 && ROCCurve.legend(curve) == "tumor fraction AUC 1.00 [0.97, 1.00]")
        let image = ROCCurve.render(curves: [curve], size: 480)
        let chart = ROCCurve.chart(curves: [curve], size: 480), a = chart.plotArea
        let blue = Palette.categorical[0]
        let curveX = Int(chart.px(0)), curveY = Int(chart.py(1))
        #expect(curveX >= a.left + 5 && curveY >= a.top + 5, "the curve must sit inside the frame")
        // Up the left edge (below the marker, above the curve's start): the frame column keeps the
        // frame colour, the curve's column (clear of the legend) is the curve's colour.
        var curvePixels = 0, framePixels = 0
        for y in (a.top + 40)..<(a.bottom - 20) {
            if same(image.pixel(x: curveX, y: y), blue) { curvePixels += 1 }
            if same(image.pixel(x: a.left, y: y), Chart.frameColour) { framePixels += 1 }
        }
        let span = a.bottom - 20 - a.top - 40
        #expect(curvePixels == span && framePixels == span, "curve \(curvePixels), frame \(framePixels) of \(span)")
        // Along the top, right of the marker.
        var top = 0
        for x in (a.left + 40)..<(a.right - 10) where same(image.pixel(x: x, y: curveY), blue) { top += 1 }
        #expect(top == a.right - 10 - a.left - 40)
        // The marker: curve colour at its centre, a black ring 7 px out.
        #expect(same(image.pixel(x: curveX, y: curveY), blue))
        #expect(same(image.pixel(x: curveX + 7, y: curveY), Palette.black) || same(image.pixel(x: curveX, y: curveY + 7), Palette.black))
        let svg = ROCCurve.svg(curves: [curve], size: 480)
        #expect(svg.contains(">AUC 1.00 [0.97, 1.00]</text>") && svg.contains("Youden: fraction ≥ 0.700"))
        #expect(svg.contains("<circle") && svg.contains(">false positive rate</text>"))
        // The frame comes before the curve in the document: SVG paints later elements on top.
        let frame = svg.range(of: "class=\"frame\"")!.lowerBound, polyline = svg.range(of: "stroke=\"#0072b2\"")!.lowerBound
        #expect(frame < polyline)
    }

    @Test func svgIsWellFormedAndCarriesTheLegend() throws {
        let svg = ROCCurve.svg(curves: Self.curves, size: 400)
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.contains("CompSegNet AUC 0.72"))
        #expect(svg.contains("GAP &lt;baseline&gt; AUC 0.75"))
        #expect(svg.contains("stroke-dasharray"))
        #expect(svg.components(separatedBy: "<polyline").count == 4)  // the chance diagonal and two curves
        // Tag balance: every opened element closes, in order.
        var stack: [String] = []
        let scanner = svg.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", with: "")
        var rest = Substring(scanner)
        while let open = rest.firstIndex(of: "<") {
            let close = try #require(rest[open...].firstIndex(of: ">"))
            let tag = rest[rest.index(after: open)..<close]
            let name = String(tag.prefix { $0 != " " && $0 != "/" && $0 != ">" })
            if tag.hasPrefix("/") {
                #expect(stack.popLast() == String(tag.dropFirst()))
            } else if !tag.hasSuffix("/") {
                stack.append(name)
            }
            rest = rest[rest.index(after: close)...]
        }
        #expect(stack.isEmpty)
        #if canImport(FoundationXML)
        let document = try XMLDocument(xmlString: svg)
        #expect(document.rootElement()?.name == "svg")
        let attributes = document.rootElement()?.attributes ?? []
        #expect(attributes.contains { $0.name == "width" && $0.stringValue == "400" })
        // Its title (the chart's, a viewer's and a screen reader's name for it), the background rect and the plot group.
        #expect(document.rootElement()?.children?.map { $0.name ?? "" } == ["title", "rect", "g"])
        #endif
    }
}

/// Tag balance of an XML document: every opened element closes, in order.
func balanced(_ xml: String) -> Bool {
    var stack: [String] = []
    var rest = Substring(xml.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", with: ""))
    while let open = rest.firstIndex(of: "<") {
        guard let close = rest[open...].firstIndex(of: ">") else { return false }
        let tag = rest[rest.index(after: open)..<close]
        let name = String(tag.prefix { $0 != " " && $0 != "/" && $0 != ">" })
        if tag.hasPrefix("/") {
            if stack.popLast() != String(tag.dropFirst()) { return false }
        } else if !tag.hasSuffix("/") {
            stack.append(name)
        }
        rest = rest[rest.index(after: close)...]
    }
    return stack.isEmpty
}

@Suite struct ChartTests {
    @Test func niceTicksAreRound() {
        #expect(Chart.niceTicks(0...1, count: 5).map(\.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        // The smallest of 1, 2, 5 × 10ⁿ that gives at most `count` steps.
        #expect(Chart.niceTicks(1...20, count: 8).map(\.value) == [5, 10, 15, 20])
        #expect(Chart.niceTicks(1...7, count: 8).map(\.value) == [1, 2, 3, 4, 5, 6, 7])
        #expect(Chart.niceTicks(0...0.37, count: 5).map(\.label) == ["0.0", "0.1", "0.2", "0.3"])
        #expect(Chart.niceTicks(0...0.37, count: 8).map(\.label) == ["0.00", "0.05", "0.10", "0.15", "0.20", "0.25", "0.30", "0.35"])
    }

    @Test func dataMapsOntoThePlotArea() {
        let chart = Chart(width: 400, height: 300, xLabel: "x", yLabel: "y", xRange: 0...10, yRange: -1...1,
                          xTicks: [("0", 0), ("10", 10)], yTicks: [("-1", -1), ("1", 1)])
        let a = chart.plotArea
        #expect(chart.px(0) == Double(a.left) && chart.px(10) == Double(a.right))
        #expect(chart.py(-1) == Double(a.bottom) && chart.py(1) == Double(a.top))
        #expect(a.left > Text.height(size: Text.labelSize) + Text.width("-1", size: Text.tickSize))
    }
}

@Suite struct TrainingCurvesTests {
    static let epochs: [TrainingCurves.Epoch] = [
        .init(epoch: 1, trainLoss: 0.9, validationLoss: 0.8, validationAUC: 0.55),
        .init(epoch: 2, trainLoss: 0.6, validationLoss: 0.5, validationAUC: 0.8),
        .init(epoch: 3, trainLoss: 0.4, validationLoss: 0.3, validationAUC: 0.95),
        .init(epoch: 4, trainLoss: 0.3, validationLoss: 0.35, validationAUC: 1),
        .init(epoch: 5, trainLoss: 0.2, validationLoss: 0.45, validationAUC: 0.9),
    ]

    @Test func lossesAUCAndTheBestEpochArePlotted() {
        let charts = TrainingCurves.charts(Self.epochs, best: 3)
        #expect(charts.count == 2)
        let image = TrainingCurves.render(Self.epochs, best: 3)
        #expect(image.width == 560 && image.height == charts[0].height + charts[1].height)
        let loss = charts[0]
        // Dots at each epoch's value, in the series' colour, at the chart's mapping.
        for e in Self.epochs {
            #expect(same(image.pixel(x: Int(loss.px(Double(e.epoch))), y: Int(loss.py(e.trainLoss))), TrainingCurves.trainColour), "epoch \(e.epoch)")
        }
        #expect(same(image.pixel(x: Int(loss.px(5)), y: Int(loss.py(0.45))), TrainingCurves.validationColour))
        // Training loss falls: its dot at epoch 5 is lower on the picture than at epoch 1.
        #expect(loss.py(0.2) > loss.py(0.9))
        // The best epoch: a dashed grey rule at epoch 3 in both charts.
        for (chart, offset) in [(charts[0], 0), (charts[1], charts[0].height)] {
            let x = Int(chart.px(3)), a = chart.plotArea
            var rule = 0
            for y in a.top..<a.bottom where same(image.pixel(x: x, y: y + offset), TrainingCurves.bestColour) { rule += 1 }
            #expect(rule > (a.bottom - a.top) / 4 && rule < a.bottom - a.top, "rule pixels \(rule)")
        }
        let auc = charts[1]
        #expect(same(image.pixel(x: Int(auc.px(4)), y: charts[0].height + Int(auc.py(1))), TrainingCurves.aucColour))
    }

    @Test func svgHasRealTextAndBalancedTags() throws {
        let svg = TrainingCurves.svg(Self.epochs, best: 3)
        #expect(balanced(svg))
        for text in ["training loss", "validation loss", "validation AUC", "best epoch 3", ">epoch</text>"] {
            #expect(svg.contains(text), "\(text)")
        }
        #expect(svg.components(separatedBy: "<g transform=").count == 3)
        #if canImport(FoundationXML)
        _ = try XMLDocument(xmlString: svg)
        #endif
        // Without validation: one chart, training loss only.
        let trainOnly = Self.epochs.map { TrainingCurves.Epoch(epoch: $0.epoch, trainLoss: $0.trainLoss, validationLoss: nil, validationAUC: nil) }
        #expect(TrainingCurves.charts(trainOnly, best: 5).count == 1)
        #expect(!TrainingCurves.svg(trainOnly, best: 5).contains("validation"))
    }
}

@Suite struct StripPlotTests {
    @Test func quartilesAndJitter() {
        #expect(StripPlot.quantile([1, 2, 3, 4], 0.25) == 1.75 && StripPlot.quantile([1, 2, 3, 4], 0.5) == 2.5)
        #expect(StripPlot.quantile([7], 0.75) == 7)
        #expect((0..<100).allSatisfy { abs(StripPlot.jitter($0)) <= 0.18 })
        #expect(Set((0..<20).map { StripPlot.jitter($0) }).count == 20)
    }

    @Test func dotsSitAtTheirValuesAndTheCutIsDrawn() {
        let free = [0.0, 0.01, 0.02, 0.015], cancer = [0.3, 0.25, 0.4, 0.35, 0.5]
        let chart = StripPlot.chart(groups: [.init(name: "cancer-free", values: free, colour: (44, 160, 44)),
                                             .init(name: "cancer", values: cancer + [.nan], colour: (214, 39, 40))],
                                    yLabel: "tumor fraction", cut: (0.2, "Youden cut 0.200"))
        let image = chart.render()
        for (k, v) in cancer.enumerated() {
            #expect(same(image.pixel(x: Int(chart.px(1 + StripPlot.jitter(k))), y: Int(chart.py(v))), (214, 39, 40)), "cancer dot \(k)")
        }
        #expect(same(image.pixel(x: Int(chart.px(0 + StripPlot.jitter(1))), y: Int(chart.py(0.01))), (44, 160, 44)))
        // The cut: a dashed dark grey rule across the plot at 0.2.
        let a = chart.plotArea, y = Int(chart.py(0.2))
        var rule = 0
        for x in a.left..<a.right where same(image.pixel(x: x, y: y), (40, 40, 40)) { rule += 1 }
        #expect(rule > (a.right - a.left) / 3, "rule pixels \(rule)")
        let svg = chart.svg()
        #expect(balanced(svg) && svg.contains("cancer (n=5)") && svg.contains("cancer-free (n=4)") && svg.contains("Youden cut 0.200"))
        #expect(svg.components(separatedBy: "<circle").count - 1 == 9 + 0)  // nine dots (the NaN left out); no legend dots
    }
}

@Suite struct ExampleFigures {
    /// Writes one example of every figure to `<temporary>/compseg-figures` for a look by eye.
    @Test func writesExamples() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-figures")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let (h, w) = (64, 64)
        var preview = RGBImage(height: h, width: w, fill: (235, 225, 230))
        var mask = Mask(height: h, width: w, filled: false)
        var values = [Float](repeating: 0, count: h * w)
        for y in 0..<h {
            for x in 0..<w {
                let dx = Double(x - 26), dy = Double(y - 30)
                let d = (dx * dx + dy * dy).squareRoot()
                if d < 28 { preview.set(x: x, y: y, (UInt8(180 + (x * 7 + y * 3) % 40), 120, 170)) }
                values[y * w + x] = Float(max(0, 1 - d / 22))
                mask.pixels[y * w + x] = d < 12
            }
        }
        let blend = Overlay.blend(preview: preview, mask: mask)
        let contour = Overlay.contour(preview: preview, mask: mask, colour: (255, 255, 0))
        let heat = Heatmap.render(values: values, height: h, width: w, scale: 2, threshold: (0.45, mask.scaled(by: 2), (213, 94, 0)))
        var text = RGBImage(height: 24, width: 260, fill: Palette.white)
        Text.drawSmooth("Dice 0.72 ± 0.05  AUC", into: &text, x: 4, y: 4, size: 2)
        let panel = Panel.compose([("preview", preview.scaled(by: 2)), ("overlay", blend.scaled(by: 2)),
                                   ("contour", contour.scaled(by: 2)),
                                   ("activation", Heatmap.render(values: values, height: h, width: w, colorBar: false, scale: 2))],
                                  caption: nil)
        let roc = ROCCurve.render(curves: ROCTests.curves)
        let seeds: [ROCCurve.Curve] = (0..<6).map { i in  // as compare --seeds draws them
            var c = ROCCurve.curve(name: "\(i < 3 ? "unet" : "segnet")-seed\(i % 3)", scores: [0.9, 0.6 + Double(i) * 0.05, 0.5, 0.55, 0.2],
                                   labels: [true, i % 2 == 0, true, false, false])
            c.interval = (0.42, 1); c.marker = ((0, 0.5), "Youden")
            return c
        }
        let curves = TrainingCurves.render(TrainingCurvesTests.epochs, best: 3)
        for (name, image) in [("overlay", blend), ("contour", contour), ("heatmap", heat), ("text", text),
                              ("panel", panel), ("roc", roc), ("roc-seeds", ROCCurve.render(curves: seeds)), ("curves", curves), ("colorbar", Heatmap.colorBarLegend(threshold: (0.0081, (213, 94, 0))))] {
            try image.writePNG(to: dir.appendingPathComponent("\(name).png"))
        }
        try ROCCurve.svg(curves: ROCTests.curves).write(to: dir.appendingPathComponent("roc.svg"), atomically: true, encoding: .utf8)
        print("example figures in \(dir.path)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("panel.png").path))
    }
}

/// Maps and masks reduced by a whole factor in the blocks `RGBImage.shrunk(toFit:)` uses.
@Suite struct DownscaleTests {
    @Test func blocksMatchTheShrunkPicture() throws {
        let (h, w) = (5, 7)  // factor 3 for a side of 3: blocks of 3×3, the last ones 2 rows and 1 column
        #expect(Downscale.factor(height: h, width: w, toFit: 3) == 3 && Downscale.factor(height: h, width: w, toFit: 7) == 1)
        #expect(Downscale.size(height: h, width: w, factor: 3) == (2, 3))
        let picture = RGBImage(height: h, width: w, fill: (0, 0, 0)).shrunk(toFit: 3)
        #expect((picture.height, picture.width) == (2, 3))
        let values = (0..<(h * w)).map(Float.init)
        let means = Downscale.mean(height: h, width: w, factor: 3) { values[$0] }
        #expect(means[0] == (0 + 1 + 2 + 7 + 8 + 9 + 14 + 15 + 16) / 9)
        #expect(means[5] == 30.5, "the corner block holds column 6 of rows 3 and 4: (27 + 34) / 2")
        // Majority: a block is set where at least half its pixels are.
        let mask = Downscale.majority(height: h, width: w, factor: 3) { $0 % w < 2 }
        #expect(mask.pixels == [true, false, false, true, false, false])
        let enlarged = try Mask(height: 1, width: 2, pixels: [true, false]).scaled(by: 2)
        #expect(enlarged.pixels == [true, true, false, false, true, true, false, false])
    }
}
