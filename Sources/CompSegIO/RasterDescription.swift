import Foundation

/// What a raster file holds (`RasterFile.describe(_:)`): its images in file order and which of them
/// are the levels that `RasterFile.read(_:level:region:)` indexes.
public struct RasterDescription: Sendable, Equatable, CustomStringConvertible {
    public enum Format: String, Sendable, Equatable {
        case tiff = "TIFF", bigTIFF = "BigTIFF", png = "PNG"
    }

    public var format: Format
    /// Every image: TIFF pages in order, each followed by its SubIFDs; a PNG's one image.
    public var images: [RasterImageInfo]
    /// The levels, full resolution first, as positions in `images`.
    public var levels: [Int]

    public init(format: Format, images: [RasterImageInfo], levels: [Int]) {
        (self.format, self.images, self.levels) = (format, images, levels)
    }

    /// One line for the file, then one per image ("level n" or "not a level").
    public var description: String {
        var lines = ["\(format.rawValue), \(images.count) image\(images.count == 1 ? "" : "s"), \(levels.count) level\(levels.count == 1 ? "" : "s")"]
        for (i, image) in images.enumerated() {
            let role = levels.firstIndex(of: i).map { "level \($0)" } ?? "not a level"
            lines.append("  \(image) — \(role)")
        }
        // Pages of one size are a stack (channels, z-planes, times), which the readers take one page at a time.
        let sameSize = levels.dropFirst().filter { images[$0].width == images[levels[0]].width && images[$0].height == images[levels[0]].height }
        if !sameSize.isEmpty {
            lines.append("  note: \(sameSize.count + 1) levels have one size: a stack of pages (channels, z-planes or times), "
                         + "not a pyramid; a reader takes one page, the one its option 'level' names (0: the first)")
        }
        // A level larger than the first: the pyramid is out of order, and a reader's level counts from its first image.
        let first = images[levels.first ?? 0]
        if let larger = levels.dropFirst().first(where: { images[$0].width > first.width || images[$0].height > first.height }) {
            let level = levels.firstIndex(of: larger)!
            lines.append("  note: level \(level) (\(images[larger].width)×\(images[larger].height)) is larger than level 0 "
                         + "(\(first.width)×\(first.height)): the file's pyramid is not in order from full resolution down; "
                         + "option 'level' counts from level 0 as listed")
        }
        return lines.joined(separator: "\n")
    }
}

/// One image of a raster file, as stored.
public struct RasterImageInfo: Sendable, Equatable, CustomStringConvertible {
    /// How the pixel data is cut into pieces.
    public enum Layout: Sendable, Equatable {
        /// TIFF strips of this many rows.
        case strips(rowsPerStrip: Int)
        /// TIFF tiles.
        case tiles(width: Int, height: Int)
        /// PNG rows, Adam7-interlaced or not.
        case rows(interlaced: Bool)
    }

    /// The TIFF page (directory) number; 0 for PNG.
    public var page: Int
    /// The position among the page's SubIFDs, or nil for the page itself.
    public var subIFD: Int?
    public var width: Int
    public var height: Int
    /// Samples per pixel as stored (PNG: 1 grey or palette, 2 grey+alpha, 3 RGB, 4 RGBA).
    public var samplesPerPixel: Int
    public var bitsPerSample: Int
    /// TIFF PhotometricInterpretation (262) or PNG colour type, as a name: "min-is-black", "RGB", …
    public var photometric: String
    /// The tag's (or PNG colour type's) number.
    public var photometricCode: Int
    /// "none", "LZW", "Deflate", "JPEG", …; PNG: "Deflate".
    public var compression: String
    /// TIFF Compression (259); 0 for PNG.
    public var compressionCode: Int
    /// TIFF PlanarConfiguration 2: each sample in its own planes of strips or tiles.
    public var separatePlanes: Bool
    public var layout: Layout
    /// TIFF NewSubfileType (254) bits: 1 reduced resolution, 2 page of a multi-page file, 4 mask.
    public var subfileType: Int
    /// Why `RasterFile.read` refuses this image, or nil when it can be read.
    public var unsupported: String?
    /// A TIFF's extra samples as it declares them ("associated alpha", "unspecified", …); nil: none.
    public var extraSamples: String? = nil
    /// The share of a TIFF's strips or tiles stored (the others have offset and byte count 0:
    /// white glass); 1 for a PNG.
    public var storedShare: Double = 1

    public init(page: Int, subIFD: Int?, width: Int, height: Int, samplesPerPixel: Int, bitsPerSample: Int,
                photometric: String, photometricCode: Int, compression: String, compressionCode: Int,
                separatePlanes: Bool, layout: Layout, subfileType: Int, unsupported: String?) {
        (self.page, self.subIFD, self.width, self.height) = (page, subIFD, width, height)
        (self.samplesPerPixel, self.bitsPerSample, self.photometric, self.photometricCode) = (samplesPerPixel, bitsPerSample, photometric, photometricCode)
        (self.compression, self.compressionCode, self.separatePlanes) = (compression, compressionCode, separatePlanes)
        (self.layout, self.subfileType, self.unsupported) = (layout, subfileType, unsupported)
    }

    public var isTiled: Bool { if case .tiles = layout { true } else { false } }

    public var description: String {
        let name = subIFD.map { "page \(page) SubIFD \($0)" } ?? "page \(page)"
        let pieces: String = switch layout {
        case .strips(let rows): "strips of \(rows) rows"
        case .tiles(let w, let h): "tiles \(w)×\(h)"
        case .rows(let interlaced): interlaced ? "Adam7-interlaced" : "not interlaced"
        }
        var text = "\(name): \(width)×\(height), \(samplesPerPixel)×\(bitsPerSample)-bit \(photometric), \(compression), \(pieces)"
        if let extraSamples { text += ", extra samples: \(extraSamples)" }
        if separatePlanes { text += ", separate planes" }
        if subfileType != 0 { text += ", subfile type \(subfileType)" }
        if let why = unsupported { text += " (unsupported: \(why))" }
        return text
    }
}
