import CompSegCore
import CompSegIO
import CompSegNN
import Foundation

extension HESource: RegionImageSource {
    public func extent(of url: URL) throws -> ImageExtent? {
        guard configuration.scale == 1 else { return nil }
        let description = try RasterFile.describe(url)
        guard configuration.level < description.levels.count else { return nil }  // `load` names the error
        let info = description.images[description.levels[configuration.level]]
        return ImageExtent(height: info.height, width: info.width)
    }

    /// The image's regions at `level`; nil when `scale` resamples it (then it is loaded whole).
    public func regions(of url: URL, label: SampleLabel?) throws -> (any SampleRegions)? {
        guard configuration.scale == 1 else { return nil }
        return try HERegions(url, level: configuration.level, tissue: configuration.tissue, label: label)
    }
}

/// An H&E image read region by region, a band of whole rows at a time (`RasterBands`: the tiles
/// across a band read it once, and a PNG is decoded from top to bottom once for the walk). The
/// tissue mask comes from an overview of at most `overviewSide` pixels a side, each overview pixel
/// the mean of a `factor` × `factor` block, with the tissue rule's sizes scaled down by the same
/// factor; a region's mask is the overview's, pixel for pixel when the image is no larger than the
/// overview (factor 1), so it then equals `HESource.load`'s.
struct HERegions: SampleRegions {
    static let overviewSide = 4096
    let id: String
    let label: SampleLabel?
    let height: Int, width: Int
    let metadata: [String: String]
    private let bands: RasterBands
    /// Overview pixels per side of a block, and the overview's tissue mask.
    let factor: Int
    let overview: Mask
    /// Whether the tissue rule takes every pixel (`method: all`): no overview is made then.
    let everyPixel: Bool

    var tissueNote: String? {
        factor == 1 || everyPixel ? nil : "tissue from an overview at 1/\(factor) of the resolution (loaded whole, it is decided pixel by "
            + "pixel: masks may differ at tissue edges)"
    }

    init(_ url: URL, level: Int, tissue rule: HETissueRule, label: SampleLabel?) throws {
        bands = try RasterBands(url, level: level)
        self.label = label
        (height, width) = (bands.height, bands.width)
        id = Sample.id(of: url)
        let full = bands.description.images[bands.description.levels[0]]
        var metadata = ["file": url.path, "level": "\(level)", "scale": "1", Sample.fullResolutionKey: "\(full.height)x\(full.width)"]
        factor = max(1, (max(height, width) + Self.overviewSide - 1) / Self.overviewSide)
        var scaled = rule
        if factor > 1 {
            scaled.closing = Int((Double(rule.closing) / Double(factor)).rounded())
            scaled.fillHolesSmallerThan = rule.fillHolesSmallerThan / (factor * factor)
            scaled.removeSpecksSmallerThan = rule.removeSpecksSmallerThan / (factor * factor)
        }
        // Every pixel is tissue under `all`: the image need not be read for it.
        everyPixel = rule.method == .all
        if everyPixel {
            overview = Mask(height: (height + factor - 1) / factor, width: (width + factor - 1) / factor, filled: true)
            // Without an overview, a grey file is told by its header (grey saved as RGB is not).
            if Self.isGrey(full, format: bands.description.format) {
                metadata[Sample.warningKey] = HESource.colourless
            }
        } else {
            let picture = try Self.overview(bands, factor: factor)
            overview = try scaled.mask(picture)
            metadata[Sample.warningKey] = HESource.colourWarning(picture)  // block means keep a colour image's colour
        }
        metadata.merge(HESource.pixelSizeMetadata(url)) { $1 }
        self.metadata = metadata
    }

    /// Whether `image` stores a grey level alone (with or without alpha), not colour or a palette.
    static func isGrey(_ image: RasterImageInfo, format: RasterDescription.Format) -> Bool {
        // PNG colour types 0 and 4; TIFF photometric 0 and 1 (white or black is zero).
        format == .png ? [0, 4].contains(image.photometricCode) : [0, 1].contains(image.photometricCode)
    }

    /// The image as block means of `factor` × `factor` pixels (partial blocks at the right and
    /// bottom edges average what they hold), read a band of rows at a time.
    static func overview(_ bands: RasterBands, factor: Int) throws -> RasterImage {
        let (height, width) = (bands.height, bands.width)
        if factor == 1 { return try RasterFile.read(bands.url, level: bands.level).rgb }
        let (oh, ow) = ((height + factor - 1) / factor, (width + factor - 1) / factor)
        var values = [Float](repeating: 0, count: oh * ow * 3), bitDepth = 8
        let bandBlocks = max(1, 256 / factor)
        for firstBlock in stride(from: 0, to: oh, by: bandBlocks) {
            let y0 = firstBlock * factor, rows = min(bandBlocks * factor, height - y0)
            let band = try bands.rows(y0, count: rows).rgb
            bitDepth = band.bitDepth
            for by in 0..<((rows + factor - 1) / factor) {
                let yRange = (by * factor)..<min(rows, (by + 1) * factor)
                for bx in 0..<ow {
                    let xRange = (bx * factor)..<min(width, (bx + 1) * factor)
                    var sum: (Float, Float, Float) = (0, 0, 0)
                    for y in yRange { for x in xRange {
                        let p = (y * width + x) * 3
                        sum.0 += band.values[p]; sum.1 += band.values[p + 1]; sum.2 += band.values[p + 2]
                    } }
                    let n = Float(yRange.count * xRange.count), o = ((firstBlock + by) * ow + bx) * 3
                    values[o] = sum.0 / n; values[o + 1] = sum.1 / n; values[o + 2] = sum.2 / n
                }
            }
        }
        return RasterImage(width: ow, height: oh, channels: 3, values: values, bitDepth: bitDepth)
    }

    /// Exact: a region's mask is the overview's blocks it covers.
    func mayHoldTissue(y: Int, x: Int, height h: Int, width w: Int) -> Bool {
        guard h > 0, w > 0 else { return false }
        let columns = (max(0, x) / factor)...(min(width - 1, x + w - 1) / factor)
        return ((max(0, y) / factor)...(min(height - 1, y + h - 1) / factor)).contains { row in
            columns.contains { overview.pixels[row * overview.width + $0] }
        }
    }

    func region(y: Int, x: Int, height h: Int, width w: Int) throws -> Sample {
        guard x >= 0, w > 0, x <= width - w else {
            throw IOError(file: bands.url.path, "columns \(x)..<\(x + w) do not lie inside the image's \(width)")
        }
        let image = try bands.rows(y, count: h).cropped(x: x, y: 0, width: w, height: h).rgb
        let plane = h * w
        var planar = [Float](repeating: 0, count: 3 * plane), bytes = [UInt8](repeating: 0, count: 3 * plane)
        var tissue = [Bool](repeating: false, count: plane)
        for row in 0..<h {
            let overviewRow = (y + row) / factor * overview.width
            for column in 0..<w {
                let p = row * w + column
                tissue[p] = overview.pixels[overviewRow + (x + column) / factor]
                for c in 0..<3 {
                    planar[c * plane + p] = image.values[p * 3 + c]
                    bytes[p * 3 + c] = UInt8((image.values[p * 3 + c] * 255).rounded())
                }
            }
        }
        return try Sample(id: id, image: Tensor(shape: [3, h, w], scalars: planar), channels: .bands(HESteps.rgb),
                          tissue: try Mask(height: h, width: w, pixels: tissue), preview: try RGBImage(height: h, width: w, bytes: bytes),
                          label: label, metadata: metadata)
    }
}
