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
    @Test func blendTintsMaskPixelsOnly() {
        let preview = RGBImage(height: 2, width: 2, bytes: [100, 40, 200, 1, 2, 3, 4, 5, 6, 0, 0, 0])
        let mask = Mask(height: 2, width: 2, pixels: [true, false, false, true])
        let out = Overlay.blend(preview: preview, mask: mask)
        // 0.65·100 + 0.35·255 = 154.25; 0.65·40 = 26; 0.65·200 = 130; 0.35·255 = 89.25.
        #expect(out.bytes == [154, 26, 130, 1, 2, 3, 4, 5, 6, 89, 0, 0])
        let green = Overlay.blend(preview: preview, mask: mask, colour: (0, 255, 0), alpha: 0.5)
        #expect(green.pixel(x: 1, y: 1) == (0, 128, 0))  // 127.5 rounds up
        #expect(Overlay.blend(preview: preview, mask: mask, alpha: 1).pixel(x: 0, y: 0) == (255, 0, 0))
        #expect(Overlay.blend(preview: preview, mask: mask, alpha: 0) == preview)
    }

    @Test func contourOfA5x5SquareIsItsRing() {
        let grey: RGB = (10, 10, 10)
        let preview = RGBImage(height: 9, width: 9, fill: grey)
        var pixels = [Bool](repeating: false, count: 81)
        for y in 2...6 { for x in 2...6 { pixels[y * 9 + x] = true } }
        let out = Overlay.contour(preview: preview, mask: Mask(height: 9, width: 9, pixels: pixels), colour: (255, 0, 0))
        var ring: [[Int]] = []
        for y in 0..<9 {
            for x in 0..<9 {
                let p = out.pixel(x: x, y: y)
                if same(p, (255, 0, 0)) { ring.append([x, y]) } else { #expect(same(p, grey)) }
            }
        }
        var expected: [[Int]] = []
        for y in 2...6 { for x in 2...6 where x == 2 || x == 6 || y == 2 || y == 6 { expected.append([x, y]) } }
        #expect(ring == expected)
        #expect(ring.count == 16)
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

    @Test func colourBarAddsAStripWithLabels() {
        let values = [Float](repeating: 0.5, count: 20)
        let out = Heatmap.render(values: values, height: 4, width: 5)
        // 6 + 5 + 6 + 12 + 3 + 2 + 11 (".5") + 6 wide; 6 + 48 (minimum bar) + 6 high.
        #expect(out.height == 60 && out.width == 51)
        #expect(Heatmap.size(height: 4, width: 5, colorBar: true) == (60, 51))
        #expect(same(out.pixel(x: 6, y: 6), (33, 145, 140)))
        let barX = 6 + 5 + 6
        #expect(same(out.pixel(x: barX + 5, y: 6), (253, 231, 37)))  // top of the bar: 1
        #expect(same(out.pixel(x: barX + 5, y: 6 + 47), (68, 1, 84)))  // bottom: 0
        #expect(same(out.pixel(x: barX - 1, y: 20), (0, 0, 0)))  // outline
        // Tick labels: black ink right of the bar.
        var labelInk = 0
        for y in 0..<out.height { for x in (barX + 12 + 1)..<out.width where same(out.pixel(x: x, y: y), (0, 0, 0)) { labelInk += 1 } }
        let glyphInk = ["1", ".", "5", "0"].map { Text.glyph(Character($0)).map { $0.nonzeroBitCount }.reduce(0, +) }.reduce(0, +)
        #expect(labelInk == glyphInk + 3 * 2)  // glyphs plus three 2-pixel tick marks

        let tall = Heatmap.render(values: [Float](repeating: 0, count: 40 * 30), height: 40, width: 30, scale: 2)
        #expect(tall.height == 92 && tall.width == 106)
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
            #expect(g.count == 7 && g.allSatisfy { $0 < 32 } && g.contains { $0 != 0 })
            #expect(seen[g] == nil, "\(ch) looks like \(seen[g].map(String.init) ?? "")")
            seen[g] = ch
        }
    }
}

@Suite struct PanelTests {
    @Test func composesSideBySideWithTitlesAndCaption() {
        let a = RGBImage(height: 10, width: 20, fill: (255, 0, 0)), b = RGBImage(height: 12, width: 15, fill: (0, 0, 255))
        let plain = Panel.compose([("A", a), ("B", b)], caption: nil)
        // 8 + 20 + 8 + 15 + 8 wide; 8 + 7 + 4 + 12 + 8 high.
        #expect(plain.width == 59 && plain.height == 39)
        #expect(same(plain.pixel(x: 8, y: 19), (255, 0, 0)) && same(plain.pixel(x: 27, y: 28), (255, 0, 0)))
        #expect(same(plain.pixel(x: 36, y: 19), (0, 0, 255)) && same(plain.pixel(x: 50, y: 30), (0, 0, 255)))
        #expect(same(plain.pixel(x: 8, y: 29), Palette.white))  // below the shorter picture
        let captioned = Panel.compose([("A", a), ("B", b)], caption: "x")
        #expect(captioned.width == 59 && captioned.height == 52)
        let caption = "spot003  cancer  fraction 0.31  Dice 0.72"
        let wide = Panel.compose([("preview", a), ("activation", b)], caption: caption)
        #expect(wide.width == 16 + Text.width(caption))
        #expect(Panel.size([("A", 10, 20), ("long title here", 12, 15)], caption: nil).width == 8 + 20 + 8 + Text.width("long title here") + 8)
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
        // Frame corners: plot spans x 42…388, y 12…366.
        #expect(same(image.pixel(x: 42, y: 366), (0, 0, 0)) && same(image.pixel(x: 388, y: 12), (0, 0, 0)))
        #expect(same(image.pixel(x: 0, y: 0), Palette.white))
    }

    @Test func svgIsWellFormedAndCarriesTheLegend() throws {
        let svg = ROCCurve.svg(curves: Self.curves, size: 400)
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.contains("CompSegNet AUC 0.72"))
        #expect(svg.contains("GAP &lt;baseline&gt; AUC 0.75"))
        #expect(svg.contains("stroke-dasharray"))
        #expect(svg.components(separatedBy: "<polyline").count == 3)
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
        #expect(document.rootElement()?.children?.count == 2)  // background rect and the plot group
        #endif
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
        let heat = Heatmap.render(values: values, height: h, width: w, scale: 2)
        var text = RGBImage(height: 24, width: 260, fill: Palette.white)
        Text.draw("Dice 0.72 ± 0.05  AUC", into: &text, x: 4, y: 4, scale: 2)
        let panel = Panel.compose([("preview", preview.scaled(by: 2)), ("overlay", blend.scaled(by: 2)),
                                   ("contour", contour.scaled(by: 2)),
                                   ("activation", Heatmap.render(values: values, height: h, width: w, colorBar: false, scale: 2))],
                                  caption: "spot003  cancer  fraction 0.31  Dice 0.72")
        let roc = ROCCurve.render(curves: ROCTests.curves)
        for (name, image) in [("overlay", blend), ("contour", contour), ("heatmap", heat), ("text", text),
                              ("panel", panel), ("roc", roc)] {
            try image.writePNG(to: dir.appendingPathComponent("\(name).png"))
        }
        try ROCCurve.svg(curves: ROCTests.curves).write(to: dir.appendingPathComponent("roc.svg"), atomically: true, encoding: .utf8)
        print("example figures in \(dir.path)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("panel.png").path))
    }
}
