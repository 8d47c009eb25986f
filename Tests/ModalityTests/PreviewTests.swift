import Foundation
import Testing
import CompSegCore
import SpectralPreprocessing

@Suite struct PreviewTests {
    /// 6 bands at 1000, 1010, …, 1050 cm⁻¹ over a 1×5 image; value(band k, pixel x) = 100·k + x²,
    /// so each band's plane is distinct and rises left to right.
    static let (b, h, w) = (6, 1, 5)
    static let axis = (0..<6).map { 1000 + 10 * Double($0) }
    static let cube: [Float] = (0..<6).flatMap { k in (0..<5).map { Float(100 * k + $0 * $0) } }

    static func render(_ preview: SpectralPreview, cube: [Float] = cube, axis: [Double] = axis,
                       tissue: [Bool]? = nil) throws -> RGBImage {
        try preview.render(cube: cube, bands: b, height: h, width: w, wavenumbers: axis, tissue: tissue)
    }

    static func channel(_ image: RGBImage, _ c: Int) -> [UInt8] { stride(from: c, to: image.bytes.count, by: 3).map { image.bytes[$0] } }

    /// A channel c + (0, 1, 4, 9, 16) scales to 0…255 between its 1st and 99th percentiles
    /// (c + 0.04 and c + 15.72, linear interpolation): (v − c − 0.04) / 15.68 · 255, rounded, clipped.
    static let ramp: [UInt8] = [0, 16, 64, 146, 255]

    @Test func bandsPickTheNearestBands() throws {
        // 1021 → band 2 (1020), 1049 → band 5 (1050), 996 → band 0 (1000, below the axis by < one spacing).
        let image = try Self.render(.bands([1021, 1049, 996]))
        #expect(image.height == 1 && image.width == 5)
        for c in 0..<3 { #expect(Self.channel(image, c) == Self.ramp) }
        // Which band each channel took: band k is 0 except at pixel x = k % 5, which marks it.
        var marked = [Float](repeating: 0, count: Self.b * Self.w)
        for k in 0..<Self.b { for x in 0..<Self.w { marked[k * Self.w + x] = x == k % Self.w ? 1 : 0 } }
        let picked = try Self.render(.bands([1021, 1049, 996]), cube: marked)
        #expect(Self.channel(picked, 0) == [0, 0, 255, 0, 0])  // band 2 marks x = 2
        #expect(Self.channel(picked, 1) == [255, 0, 0, 0, 0])  // band 5 marks x = 0
        #expect(Self.channel(picked, 2) == [255, 0, 0, 0, 0])  // band 0 marks x = 0
    }

    @Test func bandsWorkOnADescendingAxis() throws {
        let descending = Array(Self.axis.reversed())  // band k at 1050 − 10k
        var marked = [Float](repeating: 0, count: Self.b * Self.w)
        for k in 0..<5 { marked[k * Self.w + k] = 1 }
        let image = try Self.render(.bands([1050, 1040, 1012]), cube: marked, axis: descending)
        #expect(Self.channel(image, 0) == [255, 0, 0, 0, 0])  // 1050 is band 0
        #expect(Self.channel(image, 1) == [0, 255, 0, 0, 0])  // 1040 is band 1
        #expect(Self.channel(image, 2) == [0, 0, 0, 0, 255])  // 1012 is nearest 1010, band 4
    }

    @Test func absorbanceIsGreyAndDarkWhereHigh() throws {
        // Mean absorbance rises with x; the picture darkens: 255 − ramp.
        let image = try Self.render(.absorbance)
        #expect(Self.channel(image, 0) == Self.ramp.map { 255 - $0 })
        #expect(Self.channel(image, 1) == Self.channel(image, 0) && Self.channel(image, 2) == Self.channel(image, 0))
    }

    @Test func maskedBackgroundIsWhiteAndLeftOutOfTheScale() throws {
        // Pixel 4 is background with a huge value; the scale uses pixels 0…3 only.
        var cube = Self.cube
        for k in 0..<Self.b { cube[k * Self.w + 4] = 1e6 }
        let tissue = [true, true, true, true, false]
        let image = try Self.render(.bands([1000, 1010, 1020]), cube: cube, tissue: tissue)
        // 0, 1, 4, 9 between percentiles 0.03 and 8.85: (v − 0.03) / 8.82 · 255.
        #expect(Self.channel(image, 0) == [0, 28, 115, 255, 255])
        #expect(Array(image.bytes.suffix(3)) == [255, 255, 255])
        // An empty mask is no mask: every pixel drawn and scaled.
        let all = try Self.render(.bands([1000, 1010, 1020]), tissue: [Bool](repeating: false, count: 5))
        #expect(Self.channel(all, 0) == Self.ramp)
    }

    @Test func robustScaleClipsOutliers() throws {
        // 200 pixels 0…199 plus nothing else: the 1st and 99th percentiles are 1.99 and 197.01.
        let cube = (0..<3).flatMap { _ in (0..<200).map(Float.init) }
        let image = try SpectralPreview.bands([1, 2, 3]).render(cube: cube, bands: 3, height: 10, width: 20,
                                                                 wavenumbers: [1, 2, 3], tissue: nil)
        let red = Self.channel(image, 0)
        #expect(red[0] == 0 && red[1] == 0 && red[2] == 0 && red[198] == 255 && red[199] == 255)
        #expect(red[100] == 128)  // (100 − 1.99) / 195.02 · 255 = 128.15
    }

    @Test func componentsPutTheStrongestVariationInRed() throws {
        // 12×10 pixels: spectrum = mean + 5·(x − 4.5)·u + (y − 5.5)·v with u ⟂ v, so PC1 follows
        // x (variance ≈ 25·8.25) and PC2 follows y (≈ 11.9); the signs make the largest loading positive.
        let (h, w, b) = (12, 10, 8)
        let u: [Float] = [1, 0.5, 0, 0, 0, 0, 0, 0], v: [Float] = [0, 0, 0, 1, -0.5, 0, 0, 0]
        var cube = [Float](repeating: 0, count: b * h * w)
        for k in 0..<b { for y in 0..<h { for x in 0..<w {
            cube[k * h * w + y * w + x] = 2 + Float(k) * 0.1 + 5 * (Float(x) - 4.5) * u[k] + (Float(y) - 5.5) * v[k]
        } } }
        let axis = (0..<b).map { 1000 + Double($0) }
        let image = try SpectralPreview.components.render(cube: cube, bands: b, height: h, width: w, wavenumbers: axis, tissue: nil)
        let again = try SpectralPreview.components.render(cube: cube, bands: b, height: h, width: w, wavenumbers: axis, tissue: nil)
        #expect(image == again)
        let red = Self.channel(image, 0), green = Self.channel(image, 1)
        // Red rises along x and is the same down each column; green rises along y, same along each row.
        for y in 0..<h { #expect(Array(red[(y * w)..<((y + 1) * w)]) == Array(red[0..<w])) }
        #expect(zip(red[0..<w], red[1..<w]).allSatisfy { $0 < $1 })
        for x in 0..<w { #expect((0..<h).map { green[$0 * w + x] } == (0..<h).map { green[$0 * w] }) }
        #expect((1..<h).allSatisfy { green[$0 * w] > green[($0 - 1) * w] })
        #expect(red.first == 0 && red.last == 255)
    }

    @Test func componentsFitOnTissueOnly() throws {
        // Background pixels carry a huge, different variation; with the mask the fit ignores it.
        let (h, w, b) = (4, 4, 3)
        var cube = [Float](repeating: 0, count: b * h * w)
        var tissue = [Bool](repeating: false, count: h * w)
        for p in 0..<(h * w) {
            let x = Float(p % w)
            if p < 8 { tissue[p] = true; cube[p] = x; cube[h * w + p] = 0; cube[2 * h * w + p] = 0 }
            else { cube[p] = 0; cube[h * w + p] = 1000 * x; cube[2 * h * w + p] = 0 }
        }
        let image = try SpectralPreview.components.render(cube: cube, bands: b, height: h, width: w,
                                                          wavenumbers: [1, 2, 3], tissue: tissue)
        // PC1 is band 0 (x − 1.5 on tissue, percentiles −1.5 and 1.5): 255 · x / 3.
        #expect(Array(Self.channel(image, 0)[0..<4]) == [0, 85, 170, 255])
        #expect(Array(image.bytes[(8 * 3)...]).allSatisfy { $0 == 255 })
    }

    @Test func errorsSayWhatIsWrong() throws {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return "\(error)" }
        }
        #expect(message { _ = try Self.render(.bands([1655, 1030, 1020])) }
                .contains("wavenumber 1655.0 cm⁻¹ lies outside the axis 1000.0…1050.0 cm⁻¹ by more than one band spacing (10.0 cm⁻¹)"))
        #expect(throws: SpectralError.self) { try Self.render(.bands([1061, 1030, 1020])) }
        #expect(throws: SpectralError.self) { try Self.render(.bands([989, 1030, 1020])) }
        #expect(try Self.render(.bands([990, 1060, 1020])).width == 5)  // exactly one spacing out: allowed
        #expect(message { _ = try Self.render(.bands([1000, 1010])) }.contains("exactly three wavenumbers"))
        #expect(message { _ = try Self.render(.absorbance, cube: Array(Self.cube.dropLast())) }.contains("29 values are not a cube of 6×1×5"))
        #expect(message { _ = try Self.render(.absorbance, axis: [1, 2]) }.contains("2 wavenumbers for 6 bands"))
        #expect(message { _ = try Self.render(.absorbance, tissue: [true]) }.contains("tissue mask has 1 pixels"))
        #expect(message {
            _ = try SpectralPreview.components.render(cube: [1, 2, 3, 4], bands: 2, height: 1, width: 2, wavenumbers: [1, 2], tissue: nil)
        }.contains("needs at least 3 bands"))
    }

    @Test(arguments: [SpectralPreview.absorbance, .components, .bands([1655, 1545, 1240])])
    func codableRoundTrips(_ preview: SpectralPreview) throws {
        let json = try JSONEncoder().encode(preview)
        #expect(try JSONDecoder().decode(SpectralPreview.self, from: json) == preview)
    }

    @Test func decodesTheDocumentedForms() throws {
        func decode(_ json: String) throws -> SpectralPreview { try JSONDecoder().decode(SpectralPreview.self, from: Data(json.utf8)) }
        #expect(try decode(#"{"kind": "absorbance"}"#) == .absorbance)
        #expect(try decode(#"{"kind": "components"}"#) == .components)
        #expect(try decode(#"{"kind": "bands", "wavenumbers": [1655, 1545, 1240]}"#) == .bands([1655, 1545, 1240]))
        let encoded = String(decoding: try { let e = JSONEncoder(); e.outputFormatting = .sortedKeys; return try e.encode(SpectralPreview.bands([1655, 1545, 1240])) }(), as: UTF8.self)
        #expect(encoded == #"{"kind":"bands","wavenumbers":[1655,1545,1240]}"#)

        func error(_ json: String) -> String {
            do { _ = try PluginConfiguration(json: Data(json.utf8), source: "test").decode(Wrapper.self); return "no error" } catch {
                return "\(error)"
            }
        }
        #expect(error(#"{"preview": {"kind": "rainbow"}}"#).contains("unknown preview kind 'rainbow'; expected one of absorbance, bands, components"))
        #expect(error(#"{"preview": {"kind": "bands", "wavenumbers": [1655, 1545]}}"#).contains("exactly three wavenumbers"))
        #expect(error(#"{"preview": {"kind": "bands", "wavenumbers": [1655, 1545, 1240, 1000]}}"#).contains("got 4"))
        #expect(error(#"{"preview": {"kind": "bands", "wavenumbers": [1655, "amide", 1240]}}"#).contains("key 'preview.wavenumbers[2]'"))
        #expect(error(#"{"preview": {"kind": "bands"}}"#).contains("missing key 'preview.wavenumbers'"))
        #expect(error(#"{"preview": {"kind": "absorbance", "wavenumbers": [1, 2, 3]}}"#).contains("takes no key 'wavenumbers'"))
        #expect(error(#"{"preview": {}}"#).contains("missing key 'preview.kind'"))
    }

    @Test func decodesFromYAML() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-preview-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        try "preview:\n  kind: bands\n  wavenumbers: [1655, 1545, 1240.5]\n".write(to: url, atomically: true, encoding: .utf8)
        #expect(try ConfigurationFile.read(url).decode(Wrapper.self).preview == .bands([1655, 1545, 1240.5]))
        try "preview: {kind: components}\n".write(to: url, atomically: true, encoding: .utf8)
        #expect(try ConfigurationFile.read(url).decode(Wrapper.self).preview == .components)
    }

    struct Wrapper: Codable { var preview: SpectralPreview }
}
