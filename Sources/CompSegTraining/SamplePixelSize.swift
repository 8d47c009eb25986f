import CompSegCore
import CompSegIO

extension Sample {
    /// The physical size of the sample's pixels, where its file records one: the full-resolution
    /// pixel's (`pixelSizeKey`) times full-resolution pixels per sample pixel (`pixelScale`).
    public var pixelSize: PixelSize? { Self.pixelSize(in: metadata, height: height, width: width) }

    /// `pixelSize` for a `height`×`width` image whose reader recorded `metadata`.
    public static func pixelSize(in metadata: [String: String], height: Int, width: Int) -> PixelSize? {
        metadata[pixelSizeKey].flatMap { PixelSize(text: $0) }?.scaled(by: pixelScale(in: metadata, height: height, width: width))
    }
}
