import CTIFF
import Foundation

extension RasterFile {
    /// The physical size of the file's full-resolution pixels in micrometres along x and y, and
    /// where the file records it; nil where it records none this reader trusts. In order:
    /// - OME-TIFF: the first `Pixels` element's `PhysicalSizeX`/`PhysicalSizeY` (and their units, µm
    ///   by default) in page 0's ImageDescription (OME-XML);
    /// - Aperio SVS: `MPP = …` in page 0's ImageDescription;
    /// - TIFF XResolution/YResolution per inch or centimetre, PNG pHYs per metre: only where they
    ///   give at most `coarsestRecordedPixel` µm, since image editors write 72, 96 or 300 dpi
    ///   (85–350 µm) as a default for pictures of any size, never a microscope's pixel.
    /// A file that cannot be read gives nil: reading its pixels says why.
    public static func pixelSize(_ url: URL) -> (size: PixelSize, source: String)? {
        switch try? FileSignature.raster(of: url) {
        case .png: resolution(url).flatMap { plausible(x: $0.x, y: $0.y, digits: 5, source: $0.source) }  // whole pixels per metre: 5.5 µm is 5.5000055
        case .tiff: RasterTIFF.pixelSize(url)
        case nil: nil
        }
    }

    /// Why the file's resolution tags or pHYs chunk give no pixel size (`pixelSize` is nil): the
    /// size they give is coarser than `coarsestRecordedPixel`, a saving program's default; nil
    /// where the file records no resolution, or where its size is taken.
    public static func resolutionNotTaken(_ url: URL) -> String? {
        guard pixelSize(url) == nil, let r = resolution(url) else { return nil }
        let sides = r.x == r.y ? String(format: "%.4g µm", r.x) : String(format: "%.4g × %.4g µm", r.x, r.y)
        return "\(r.source): \(sides), coarser than \(coarsestRecordedPixel) µm, the default of the program that saved "
            + "the file, not a microscope's pixel; not taken"
    }

    /// The pixel size a TIFF's resolution tags (per inch or centimetre) or a PNG's pHYs chunk
    /// (per metre) give, as they give it, with their words; nil without them or without a unit of length.
    static func resolution(_ url: URL) -> (x: Double, y: Double, source: String)? {
        switch try? FileSignature.raster(of: url) {
        case .png: PNGChunks.pixelsPerMetre(of: url).map { ppm in
            (1e6 / Double(ppm.x), 1e6 / Double(ppm.y), "the PNG's pHYs chunk (\(ppm.x)×\(ppm.y) pixels per metre)")
        }
        case .tiff: RasterTIFF.resolution(url)
        case nil: nil
        }
    }

    /// The coarsest pixel, in µm, that resolution tags and pHYs chunks are taken to describe (500 dpi).
    public static let coarsestRecordedPixel = 50.8

    /// `x`, `y` and `source` where both sides are finite, positive and at most `coarsestRecordedPixel`.
    static func plausible(x: Double, y: Double, digits: Int = 6, source: String) -> (size: PixelSize, source: String)? {
        // To `digits` digits: resolution tags are 32-bit floats (0.2527 µm reads back as 0.25270000100135803).
        func rounded(_ v: Double) -> Double { Double(String(format: "%.\(digits)g", v)) ?? v }
        guard let size = PixelSize(x: rounded(x), y: rounded(y)), x <= coarsestRecordedPixel, y <= coarsestRecordedPixel else { return nil }
        return (size, source)
    }

    /// Micrometres per unit of length as OME-XML writes units (`PhysicalSizeXUnit`).
    static let micrometresPer: [String: Double] = [
        "m": 1e6, "cm": 1e4, "mm": 1e3, "µm": 1, "μm": 1, "um": 1, "nm": 1e-3, "Å": 1e-4, "pm": 1e-6, "in": 25_400,
    ]

    /// The pixel size an OME-XML document's first `Pixels` element records; nil without both sides.
    static func omePixelSize(_ xml: String) -> (x: Double, y: Double)? {
        guard let start = xml.firstMatch(of: /<(?:\w+:)?Pixels\s/), let end = xml[start.range.upperBound...].firstIndex(of: ">") else {
            return nil
        }
        var attributes: [String: String] = [:]
        for match in xml[start.range.upperBound..<end].matches(of: /([A-Za-z]+)\s*=\s*"([^"]*)"/) {
            attributes[String(match.output.1)] = String(match.output.2)
        }
        func side(_ axis: String) -> Double? {
            guard let value = attributes["PhysicalSize\(axis)"].flatMap(Double.init),
                  let factor = micrometresPer[attributes["PhysicalSize\(axis)Unit"] ?? "µm"] else { return nil }
            return value * factor
        }
        guard let x = side("X"), let y = side("Y") else { return nil }
        return (x, y)
    }

    /// The `MPP = …` (micrometres per pixel) of an Aperio ImageDescription; nil without one.
    static func aperioPixelSize(_ description: String) -> Double? {
        guard description.hasPrefix("Aperio"), let match = description.firstMatch(of: /\|\s*MPP\s*=\s*([0-9.eE+-]+)/) else { return nil }
        return Double(match.output.1)
    }
}

extension RasterTIFF {
    /// `RasterFile.pixelSize` for a TIFF: page 0's ImageDescription, else its resolution tags.
    static func pixelSize(_ url: URL) -> (size: PixelSize, source: String)? {
        guard let f = try? RasterTIFFFile(url), (try? f.select(page: 0, subIFD: nil)) != nil else { return nil }
        var text: UnsafePointer<CChar>? = nil
        if compseg_tiff_get_string(f.tiff, UInt32(TIFFTAG_IMAGEDESCRIPTION), &text) == 1, let text {
            let description = String(decoding: UnsafeRawBufferPointer(start: text, count: strlen(text)), as: UTF8.self)
            if let ome = RasterFile.omePixelSize(description), let size = PixelSize(x: ome.x, y: ome.y) {
                return (size, "the OME-XML's PhysicalSizeX and PhysicalSizeY")
            }
            if let mpp = RasterFile.aperioPixelSize(description), let size = PixelSize(mpp) {
                return (size, "the Aperio description's MPP")
            }
        }
        return RasterTIFF.resolution(f).flatMap { RasterFile.plausible(x: $0.x, y: $0.y, source: $0.source) }
    }

    /// `RasterFile.resolution` for a TIFF.
    static func resolution(_ url: URL) -> (x: Double, y: Double, source: String)? {
        guard let f = try? RasterTIFFFile(url), (try? f.select(page: 0, subIFD: nil)) != nil else { return nil }
        return resolution(f)
    }

    /// Page 0's resolution tags (the page selected), in µm per pixel; nil without them or a unit of length.
    private static func resolution(_ f: RasterTIFFFile) -> (x: Double, y: Double, source: String)? {
        var x: Float = 0, y: Float = 0, unit: UInt16 = 0
        guard compseg_tiff_get_float(f.tiff, UInt32(TIFFTAG_XRESOLUTION), &x) == 1,
              compseg_tiff_get_float(f.tiff, UInt32(TIFFTAG_YRESOLUTION), &y) == 1,
              compseg_tiff_get_defaulted_u16(f.tiff, UInt32(TIFFTAG_RESOLUTIONUNIT), &unit) == 1 else { return nil }
        let (perUnit, name): (Double, String) = switch Int32(unit) {
        case RESUNIT_INCH: (25_400, "inch")
        case RESUNIT_CENTIMETER: (10_000, "centimetre")
        default: (0, "")  // RESUNIT_NONE: an aspect ratio, no length
        }
        guard perUnit > 0, x > 0, y > 0 else { return nil }
        return (perUnit / Double(x), perUnit / Double(y), "the TIFF's resolution tags (\(x.formatted())×\(y.formatted()) pixels per \(name))")
    }
}

extension PNGChunks {
    /// The pHYs chunk's pixels per metre along x and y, where the file has one before its image
    /// data in metres (unit 1; unit 0 gives only the aspect ratio); nil otherwise.
    static func pixelsPerMetre(of url: URL) -> (x: UInt32, y: UInt32)? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let signature = try? handle.read(upToCount: 8), signature.count == 8 else { return nil }
        while let header = try? handle.read(upToCount: 8), header.count == 8 {
            let bytes = [UInt8](header)
            let length = bytes[0..<4].reduce(0) { $0 << 8 | Int($1) }, type = String(decoding: bytes[4..<8], as: UTF8.self)
            if type == "IDAT" || type == "IEND" || length > 1 << 24 { return nil }
            guard let data = try? handle.read(upToCount: length + 4), data.count == length + 4 else { return nil }
            guard type == "pHYs" else { continue }
            let d = [UInt8](data)
            guard length == 9, d[8] == 1 else { return nil }
            let x = d[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }, y = d[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return x > 0 && y > 0 ? (x, y) : nil
        }
        return nil
    }
}
