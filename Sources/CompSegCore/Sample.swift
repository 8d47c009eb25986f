import CompSegNN

/// What a channel of an image measures.
public enum ChannelAxis: Codable, Hashable, Sendable {
    /// Spectral positions (infrared, Raman), e.g. wavenumbers in `cm⁻¹`.
    case spectral(values: [Double], unit: String)
    /// Named bands, e.g. `R`, `G`, `B`.
    case bands([String])

    public var count: Int {
        switch self {
        case .spectral(let values, _): values.count
        case .bands(let names): names.count
        }
    }

    private enum CodingKeys: String, CodingKey { case spectral, unit, bands }

    /// In JSON `{"spectral": [1800, …], "unit": "cm⁻¹"}` or `{"bands": ["R", "G", "B"]}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let names = try c.decodeIfPresent([String].self, forKey: .bands) {
            self = .bands(names)
        } else {
            self = .spectral(values: try c.decode([Double].self, forKey: .spectral), unit: try c.decode(String.self, forKey: .unit))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .spectral(let values, let unit): try c.encode(values, forKey: .spectral); try c.encode(unit, forKey: .unit)
        case .bands(let names): try c.encode(names, forKey: .bands)
        }
    }
}

/// Which part of the data a sample belongs to.
public enum Split: String, ConfigurationChoice, Sendable {
    case train, val, test
}

/// An image-level label.
public enum SampleLabel: String, Codable, Hashable, Sendable {
    case cancer, cancerFree = "cancer-free"

    /// Parses `1`/`cancer` and `0`/`cancer-free` (case-insensitive); nil otherwise.
    public init?(parsing text: String) {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "1", "cancer": self = .cancer
        case "0", "cancer-free", "cancerfree": self = .cancerFree
        default: return nil
        }
    }

    /// 1 for cancer, 0 for cancer-free (the target the pooling heads use).
    public var value: Float { self == .cancer ? 1 : 0 }
}

/// A per-pixel yes/no map, H×W row-major (tissue masks, thresholded segmentations).
public struct Mask: Hashable, Sendable {
    public let height: Int, width: Int
    public var pixels: [Bool]

    /// - Throws: `ShapeError` unless there are `height` × `width` pixels.
    public init(height: Int, width: Int, pixels: [Bool]) throws(ShapeError) {
        guard let count = elementCount(height, width, 1) else { throw ShapeError("Mask", "\(height)×\(width) is not a size") }
        guard pixels.count == count else { throw ShapeError("Mask", "\(height)×\(width) needs \(count) pixels, got \(pixels.count)") }
        self.height = height; self.width = width; self.pixels = pixels
    }
    public init(height: Int, width: Int, filled value: Bool) {
        (self.height, self.width) = (max(0, height), max(0, width))
        pixels = Array(repeating: value, count: self.height * self.width)
    }
    public var count: Int { pixels.filter { $0 }.count }
}

/// height × width × per, or nil for a negative size or one beyond `Int`.
private func elementCount(_ height: Int, _ width: Int, _ per: Int) -> Int? {
    guard height >= 0, width >= 0 else { return nil }
    let (plane, o1) = height.multipliedReportingOverflow(by: width), (all, o2) = plane.multipliedReportingOverflow(by: per)
    return o1 || o2 ? nil : all
}

/// An 8-bit RGB picture, H×W×3 row-major interleaved (previews and overlays).
public struct RGBImage: Hashable, Sendable {
    public let height: Int, width: Int
    public var bytes: [UInt8]
    /// - Throws: `ShapeError` unless there are `height` × `width` × 3 bytes.
    public init(height: Int, width: Int, bytes: [UInt8]) throws(ShapeError) {
        guard let count = elementCount(height, width, 3) else { throw ShapeError("RGBImage", "\(height)×\(width) is not a size") }
        guard bytes.count == count else { throw ShapeError("RGBImage", "\(height)×\(width) needs \(count) bytes, got \(bytes.count)") }
        self.height = height; self.width = width; self.bytes = bytes
    }
    /// A `height`×`width` picture filled with one colour.
    public init(height: Int, width: Int, fill: (UInt8, UInt8, UInt8)) {
        (self.height, self.width) = (max(0, height), max(0, width))
        bytes = [UInt8](repeating: 0, count: self.height * self.width * 3)
        for i in stride(from: 0, to: bytes.count, by: 3) { (bytes[i], bytes[i + 1], bytes[i + 2]) = fill }
    }
}

/// One sample as a modality plugin delivers it.
public struct Sample: Sendable {
    public var id: String
    /// C×H×W, channels first, Float32, plain layout.
    public var image: Tensor
    public var channels: ChannelAxis
    /// Which pixels are tissue (foreground): H×W.
    public var tissue: Mask
    /// What overlays are drawn on: H×W.
    public var preview: RGBImage
    public var label: SampleLabel?
    public var metadata: [String: String]

    /// - Throws: `SampleError` when the parts disagree in size.
    public init(id: String, image: Tensor, channels: ChannelAxis, tissue: Mask, preview: RGBImage,
                label: SampleLabel? = nil, metadata: [String: String] = [:]) throws {
        let s = image.shape
        guard s.rank == 3 else { throw SampleError(id, "image must be C×H×W, got \(s)") }
        guard channels.count == s[0] else {
            throw SampleError(id, "image has \(s[0]) channels but the channel axis names \(channels.count)")
        }
        guard tissue.height == s[1], tissue.width == s[2] else {
            throw SampleError(id, "tissue mask is \(tissue.height)×\(tissue.width), image is \(s[1])×\(s[2])")
        }
        guard preview.height == s[1], preview.width == s[2] else {
            throw SampleError(id, "preview is \(preview.height)×\(preview.width), image is \(s[1])×\(s[2])")
        }
        self.id = id; self.image = image; self.channels = channels; self.tissue = tissue
        self.preview = preview; self.label = label; self.metadata = metadata
    }

    public var height: Int { image.shape[1] }
    public var width: Int { image.shape[2] }

    /// Sets every channel to 0 outside the tissue mask: in place where this sample alone holds its
    /// image (a step's new one), else in a copy, so that a sample shared elsewhere stays as it was.
    public mutating func zeroOutsideTissue() {
        guard isKnownUniquelyReferenced(&image), image.ownsItsValues, image.layout == nil else {
            self = zeroingOutsideTissue()
            return
        }
        let plane = height * width, mask = tissue.pixels
        image.withMutablePlainBuffer { values in
            mask.withUnsafeBufferPointer { inside in
                for c in 0..<image.shape[0] {
                    let channel = values.baseAddress! + c * plane
                    for p in 0..<plane where !inside[p] { channel[p] = 0 }
                }
            }
        }
    }

    /// The sample with every channel set to 0 outside the tissue mask.
    public func zeroingOutsideTissue() -> Sample {
        let plane = height * width, mask = tissue.pixels
        let zeroed = Tensor(uninitialized: image.shape)  // every value written below
        image.withPlainBuffer { source in
            zeroed.withMutablePlainBuffer { target in
                mask.withUnsafeBufferPointer { inside in
                    for c in 0..<image.shape[0] {
                        let from = source.baseAddress! + c * plane, to = target.baseAddress! + c * plane
                        for p in 0..<plane { to[p] = inside[p] ? from[p] : 0 }
                    }
                }
            }
        }
        var s = self
        s.image = zeroed
        return s
    }

    /// The sample with an image of no channels: its id, label, tissue, preview and metadata, kept
    /// after the network has run, at a small part of the memory.
    public func withoutImage() -> Sample {
        var s = self
        s.image = Tensor(zeros: [0, height, width])
        s.channels = .bands([])
        return s
    }
}

public struct SampleError: Error, CustomStringConvertible {
    public let sample: String, message: String
    public init(_ sample: String, _ message: String) { self.sample = sample; self.message = message }
    public var description: String { "sample \(sample): \(message)" }
}

import Foundation

extension Sample {
    /// The id of the sample a file holds: its name without the extension, and without the `.ome`
    /// of OME-TIFF's double extension (`spot1.ome.tif` → `spot1`).
    public static func id(of file: URL) -> String {
        let name = file.deletingPathExtension().lastPathComponent
        return name.lowercased().hasSuffix(".ome") && name.count > 4 ? String(name.dropLast(4)) : name
    }

    /// The metadata key for the file's full-resolution pixels per sample pixel on both axes (e.g.
    /// "2" for an image read at half size), for a reader that records no `fullResolutionKey`,
    /// from which `pixelScale` derives each axis's own.
    public static let pixelScaleKey = "pixelScale"

    /// The metadata key for the file's full-resolution size as "HEIGHTxWIDTH", where the sample
    /// was read smaller (a pyramid level or a scale): masks drawn at that size are brought down.
    public static let fullResolutionKey = "fullResolution"

    /// The metadata key for what a reader found doubtful in the file, in words the user is shown
    /// as a warning (a colourless H&E image); the sample is read as usual.
    public static let warningKey = "warning"

    /// The metadata key for why a sample's tissue mask is empty, in words the user is shown where
    /// a command refuses it (the file's mask marks nothing; every pixel holds a NaN).
    public static let noTissueKey = "noTissue"

    /// The file's full-resolution (height, width) from `fullResolutionKey`, or nil.
    public var fullResolution: (height: Int, width: Int)? { Self.fullResolution(in: metadata) }

    /// Full-resolution pixels per pixel of a `height`×`width` sample along x and y, for exports in
    /// the file's coordinates: from `fullResolutionKey` where recorded (each axis its own, since a
    /// reduced image's height and width round apart: 101 rows at half size are 51), else
    /// `pixelScaleKey` on both, else 1.
    public static func pixelScale(in metadata: [String: String], height: Int, width: Int) -> (x: Double, y: Double) {
        if let full = fullResolution(in: metadata), height > 0, width > 0 {
            return (Double(full.width) / Double(width), Double(full.height) / Double(height))
        }
        let scale = metadata[pixelScaleKey].flatMap(Double.init) ?? 1
        return (scale, scale)
    }

    /// `fullResolution` as `metadata` (a sample's, or `SampleRegions`') records it.
    public static func fullResolution(in metadata: [String: String]) -> (height: Int, width: Int)? {
        guard let parts = metadata[fullResolutionKey]?.split(separator: "x").compactMap({ Int($0) }), parts.count == 2 else {
            return nil
        }
        return (parts[0], parts[1])
    }
}

extension Sample {
    /// The metadata key for the physical size of the file's full-resolution pixels, in
    /// micrometres, as `PixelSize.text` writes it ("0.25" or "0.25x0.5"). A reader sets it where
    /// the file records it; `pixelSize` scales it to the sample's own pixels.
    public static let pixelSizeKey = "pixelSizeMicrometres"
    /// The metadata key for where the file records its pixel size, in words ("the TIFF's resolution tags").
    public static let pixelSizeSourceKey = "pixelSizeSource"
}
