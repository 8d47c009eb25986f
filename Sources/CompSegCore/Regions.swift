import Foundation

/// A reader that can deliver part of a large image, so that `segment` streams it tile by tile
/// instead of loading it whole (a 20,000 × 20,000 H&E scan is 4.8 GB as Float RGB).
public protocol RegionImageSource: ImageSource {
    /// The size of the image in `url` as `load` would deliver it, read from its header; nil when
    /// this configuration cannot read regions (then the image is loaded whole).
    func extent(of url: URL) throws -> ImageExtent?
    /// The regions of the image in `url`, or nil when this configuration cannot read regions
    /// (e.g. it resamples the image) and the image must be loaded whole.
    func regions(of url: URL, label: SampleLabel?) throws -> (any SampleRegions)?
}

/// An image's size as its header tells it, and what loading it whole would take.
public struct ImageExtent: Sendable, Equatable {
    public let height: Int, width: Int
    /// The memory loading the image whole takes (its values and the copies preparing them make),
    /// where the reader can tell; an image whose load would not fit is read region by region.
    public let wholeLoadBytes: Double?

    public init(height: Int, width: Int, wholeLoadBytes: Double? = nil) {
        (self.height, self.width, self.wholeLoadBytes) = (height, width, wholeLoadBytes)
    }
}

/// One image read region by region. Its tissue mask is decided once for the whole image, so a
/// region's mask is that part of it whichever regions are asked for.
public protocol SampleRegions: Sendable {
    var id: String { get }
    var label: SampleLabel? { get }
    var height: Int { get }
    var width: Int { get }
    /// The metadata the whole sample would carry (its file, `Sample.fullResolutionKey`).
    var metadata: [String: String] { get }
    /// How the tissue mask was decided where that differs from loading the image whole (from a
    /// coarser overview, say), in words for the user; nil where it does not.
    var tissueNote: String? { get }
    /// Rows `y ..< y + height`, columns `x ..< x + width` as a sample: that part of the image,
    /// the tissue mask and the preview.
    func region(y: Int, x: Int, height: Int, width: Int) throws -> Sample
    /// That region's preview alone (`region`'s, where nothing cheaper is at hand).
    func preview(y: Int, x: Int, height: Int, width: Int) throws -> RGBImage
    /// False only where that region's tissue mask would be empty, so that it need not be read
    /// (a tile without tissue is not segmented); true where it may hold tissue or cannot be told.
    func mayHoldTissue(y: Int, x: Int, height: Int, width: Int) -> Bool
}

extension SampleRegions {
    public var tissueNote: String? { nil }
    public func preview(y: Int, x: Int, height: Int, width: Int) throws -> RGBImage {
        try region(y: y, x: x, height: height, width: width).preview
    }
    public func mayHoldTissue(y: Int, x: Int, height: Int, width: Int) -> Bool { true }
}
