import CompSegCore
import CompSegIO
import Foundation
import HEModality
import Phantoms
import Testing

/// Pen marks on a slide (green and blue ink) are not tissue with `penMarks: exclude`, as the
/// built-in `he` manifest sets; stained tissue, pale or dark, is never taken for ink.
@Suite struct HEPenMarkTests {
    /// A 120×160 slide: white glass, a pink ellipse of tissue with purple nuclei (some nearly
    /// black), a green stroke across glass and tissue and a blue ring (70, 100, 190) on the glass.
    /// Returns the image and which pixels are tissue and which ink.
    static func slide() -> (image: RasterImage, tissue: [Bool], ink: [Bool]) {
        let (h, w) = (120, 160)
        var values = [Float](repeating: 0.96, count: h * w * 3), tissue = [Bool](repeating: false, count: h * w)
        var ink = tissue
        func paint(_ y: Int, _ x: Int, _ c: (Float, Float, Float)) {
            values[(y * w + x) * 3] = c.0; values[(y * w + x) * 3 + 1] = c.1; values[(y * w + x) * 3 + 2] = c.2
        }
        for y in 0..<h { for x in 0..<w {
            let (dy, dx) = (Double(y - 60) / 40, Double(x - 70) / 50)
            if dy * dy + dx * dx < 1 {
                tissue[y * w + x] = true
                // Eosin pink, haematoxylin purple nuclei (dark ones too), as the stains give them: red above green.
                paint(y, x, (y % 9 < 3 && x % 7 < 3) ? ((y + x) % 3 == 0 ? (0.42, 0.24, 0.60) : (y + x) % 3 == 1 ? (0.22, 0.15, 0.45) : (0.01, 0.02, 0.09)) : (0.90, 0.55, 0.75))
            }
            let ring = ((Double(y - 30) * Double(y - 30) + Double(x - 135) * Double(x - 135)).squareRoot() - 18).magnitude < 2
            if abs(y - (10 + x / 2)) < 2 || ring {
                ink[y * w + x] = true
                // Green ink absorbs as a filter does: over tissue, the tissue's colour times the ink's.
                let over = tissue[y * w + x] ? (0.90, 0.55, 0.75) : (1, 1, 1) as (Float, Float, Float)
                paint(y, x, ring ? (0.27, 0.39, 0.75) : (0.24 * over.0, 0.63 * over.1, 0.35 * over.2))
            }
        } }
        return (RasterImage(width: w, height: h, channels: 3, values: values, bitDepth: 8), tissue, ink)
    }

    @Test func inkIsNotTissue() throws {
        let (image, tissue, ink) = Self.slide()
        var rule = HETissueRule()
        let kept = try rule.mask(image).pixels
        #expect(ink.indices.filter { ink[$0] && !tissue[$0] && kept[$0] }.count > 300, "kept, ink on the glass is tissue")
        rule.penMarks = .exclude
        let mask = try rule.mask(image).pixels
        #expect(!mask.indices.contains { ink[$0] && mask[$0] }, "no ink pixel is tissue")
        let stained = tissue.indices.filter { tissue[$0] && !ink[$0] }
        #expect(stained.filter { mask[$0] }.count >= stained.count * 98 / 100, "\(stained.filter { mask[$0] }.count) of \(stained.count)")
        #expect(!mask.indices.contains { mask[$0] && !tissue[$0] && !ink[$0] }, "no glass is tissue")
    }

    /// The phantom's spots, drawn from real stain vectors, hold no pixel taken for ink: their masks
    /// are the same either way.
    @Test func stainedTissueIsNeverInk() throws {
        var settings = HEPhantom.Settings()
        (settings.spots, settings.size) = (6, 48)
        let phantom = HEPhantom(settings)
        for i in 0..<settings.spots {
            let rgb = phantom.spot(i).rgb.map { Float($0) / 255 }
            let image = RasterImage(width: 48, height: 48, channels: 3, values: rgb, bitDepth: 8)
            #expect(!(0..<(48 * 48)).contains { HETissueRule.isInk(rgb[$0 * 3], rgb[$0 * 3 + 1], rgb[$0 * 3 + 2]) }, "spot \(i)")
            var rule = HETissueRule()
            let kept = try rule.mask(image)
            rule.penMarks = .exclude
            #expect(try rule.mask(image) == kept, "spot \(i)")
        }
        // The built-in manifest excludes ink; a manifest without the key (a run trained before it) keeps it.
        let c = try PluginConfiguration(json: Data(#"{"tissue": {"closing": 3}}"#.utf8)).decode(HESource.Configuration.self)
        #expect(c.tissue.penMarks == .keep)
    }
}
