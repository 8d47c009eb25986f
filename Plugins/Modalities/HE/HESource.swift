import CompSegCore
import CompSegIO
import CompSegNN
import Foundation

/// RGB H&E images, one sample per TIFF or PNG file (`RasterFile`: 8 or 16 bit; RGB, RGBA, grey,
/// palette; strips or tiles; every common compression; BigTIFF; pyramids by `level`). The
/// network sees RGB in [0, 1] (`opticalDensity` as a step turns it into optical density). A large
/// spot is brought to the training size by `level` (a pyramid level or page) and `scale` (area
/// averaging). Tissue is where Otsu's threshold on the grey level (darker than the white slide)
/// or on the saturation puts it, closed, with small holes filled and small specks removed.
public struct HESource: ImageSource, ReportsConfiguration {
    public struct Configuration: DefaultedConfiguration, Sendable, Equatable {
        /// The pyramid level or page to read (0: full resolution).
        public var level = 0
        /// Resampling after reading: 0.5 halves each side (area averaging); 1 keeps the size.
        public var scale = 1.0
        public var tissue = HETissueRule()
        public init() {}
    }

    public static let info = PluginInfo("he", aliases: ["h&e", "hne"],
                                        summary: "RGB H&E images from TIFF (strips, tiles, pyramids, BigTIFF) and PNG")

    public static func register(in registry: inout Registry) throws {
        try registry.registerModality(info) {
            let configuration = try $0.decode(Configuration.self)
            guard configuration.level >= 0, configuration.scale > 0, configuration.scale <= 1 else {
                throw ConfigurationError(source: $0.source, message: "level must be 0 or more and scale lie in (0, 1], got "
                                         + "level \(configuration.level), scale \(configuration.scale)")
            }
            try configuration.tissue.validate(source: $0.source)
            return HESource(configuration)
        }
    }

    public let configuration: Configuration
    public init(_ configuration: Configuration = .init()) { self.configuration = configuration }

    public func load(_ url: URL, label: SampleLabel?) throws -> Sample {
        let description = configuration.level == 0 ? nil : try RasterFile.describe(url)
        if let description, configuration.level >= description.levels.count {
            let levels = description.levels.count
            throw IOError(file: url.path, "has \(levels) level\(levels == 1 ? "" : "s") (\(description.format.rawValue)); the modality reads "
                          + "level \(configuration.level) (its option 'level', which a run keeps as it was trained: give files with that "
                          + "level, or a run trained at another)")
        }
        var image = try Self.readRGB(url, level: configuration.level)
        let first = description?.images[0]
        let full = (height: first?.height ?? image.height, width: first?.width ?? image.width)
        if configuration.scale < 1 { image = image.scaled(configuration.scale) }
        let (h, w) = (image.height, image.width)
        let plane = h * w
        var planar = [Float](repeating: 0, count: 3 * plane), bytes = [UInt8](repeating: 0, count: 3 * plane)
        for p in 0..<plane {
            for c in 0..<3 {
                planar[c * plane + p] = image.values[p * 3 + c]
                bytes[p * 3 + c] = UInt8((image.values[p * 3 + c] * 255).rounded())
            }
        }
        var metadata = ["file": url.path, "level": "\(configuration.level)", "scale": "\(configuration.scale)",
                        Sample.fullResolutionKey: "\(full.height)x\(full.width)"]
        metadata[Sample.warningKey] = Self.colourWarning(image)
        metadata.merge(Self.pixelSizeMetadata(url)) { $1 }
        return try Sample(id: Sample.id(of: url), image: Tensor(shape: [3, h, w], scalars: planar),
                          channels: .bands(HESteps.rgb), tissue: configuration.tissue.mask(image),
                          preview: try RGBImage(height: h, width: w, bytes: bytes), label: label, metadata: metadata)
    }

    /// The physical pixel size the file records (`RasterFile.pixelSize`) as sample metadata
    /// (`Sample.pixelSizeKey`, and where it was read), or none.
    static func pixelSizeMetadata(_ url: URL) -> [String: String] {
        guard let found = RasterFile.pixelSize(url) else { return [:] }
        return [Sample.pixelSizeKey: found.size.text, Sample.pixelSizeSourceKey: found.source]
    }

    /// A warning for an image dark throughout (its brightest value under an eighth of the file's
    /// range, as 12-bit data stored in 16-bit samples is), or without colour (a greyscale file, or
    /// grey saved as RGB: no pixel's channels lie 0.04 apart, where stained tissue's lie tenths
    /// apart); nil for a coloured one.
    static func colourWarning(_ image: RasterImage) -> String? {
        let n = image.width * image.height
        let brightest = image.values.max() ?? 0
        if n > 0, brightest < 0.125 { return dark(brightest, bitDepth: image.bitDepth) }
        guard n > 0, !(0..<n).contains(where: { p in
            let (r, g, b) = (image.values[p * 3], image.values[p * 3 + 1], image.values[p * 3 + 2])
            return max(r, g, b) - min(r, g, b) > 0.04
        }) else { return nil }
        return colourless
    }

    /// What `colourWarning` says of an image whose brightest value is `brightest` of its range.
    static func dark(_ brightest: Float, bitDepth: Int) -> String {
        let top = (1 << bitDepth) - 1
        return "the image is dark throughout: its brightest value is \(Int((brightest * Float(top)).rounded())) of \(top) (\(bitDepth)-bit samples)"
            + (bitDepth == 16 ? ", as 12-bit or 10-bit data stored in 16 bits is" : "")
            + "; the he reader takes the top of the range as white, so glass and stain read near-black, unlike the scans a network "
            + "learns from; save the image scaled to its full range"
    }

    /// What `colourWarning` says of an image without colour.
    static let colourless = "the image holds no colour (greyscale): the he reader gives its grey level as red, green and blue alike, "
        + "which no H&E stain does, so a network trained on stained colour images reads it as something else; give the colour scan"

    /// The RGB pixels of level `level` of an image file: H×W×3 in [0, 1], grey expanded to RGB.
    /// - Throws: `IOError` naming the file and what it could not read.
    static func readRGB(_ url: URL, level: Int = 0) throws -> RasterImage {
        try RasterFile.read(url, level: level).rgb
    }
}

/// How the `he` reader finds tissue (`method: all`: every pixel is): Otsu's threshold on `channel` (grey: tissue is darker than
/// the slide; saturation: tissue is more coloured), with `glass` a second one between glass and pale tissue, then a closing of `closing` pixels, holes
/// smaller than `fillHolesSmallerThan` filled, specks smaller than `removeSpecksSmallerThan`
/// removed. Near-white pixels (all channels above 0.9) are never tissue; with `penMarks: exclude`,
/// neither is green or blue ink (`isInk`), left out before the threshold is chosen and after the clean-up.
public struct HETissueRule: DefaultedConfiguration, Sendable, Equatable {
    public enum Channel: String, ConfigurationChoice, Sendable { case grey, saturation }
    /// What pen marks on the slide are: `keep` takes them as any other pixel (a dark stroke is
    /// tissue), `exclude` leaves green and blue ink out of the tissue.
    public enum PenMarks: String, ConfigurationChoice, Sendable { case keep, exclude }
    /// `glass`: Otsu's threshold, and where the lighter class it leaves is itself two apart
    /// (`lighterClassSeparabilityCutoff`, `lighterClassMeanGap`), the threshold between those: glass, and pale tissue such as eosin
    /// stroma beside much darker tumor, which one threshold would put with the glass. `otsu`: the
    /// one threshold (manifests without the key, runs trained before `glass`). `all`: every pixel,
    /// for tiles cut from inside tissue, which a threshold would split into darker and lighter halves.
    public enum Method: String, ConfigurationChoice, Sendable { case glass, otsu, all }

    /// The separability (`otsuSplit`) from which `glass` splits the lighter class again: one
    /// normal class gives 0.64 and one evenly spread (glass shading from side to side) 0.75; glass
    /// beside pale tissue more (the H&E phantom's cancer spots 0.87–0.98; its lighter classes of
    /// glass alone 0.44–0.65).
    public static let lighterClassSeparabilityCutoff = 0.8
    /// How far apart, in grey level or saturation (0 to 1), the two parts of the lighter class must
    /// lie as well: glass and eosin stroma a quarter apart on the H&E phantom, glass that varies
    /// (shading, texture, dust) a few hundredths.
    public static let lighterClassMeanGap = 0.1
    public var method = Method.otsu
    public var channel = Channel.grey
    public var closing = 2
    public var fillHolesSmallerThan = 1000
    public var removeSpecksSmallerThan = 100
    /// `keep` where not given, so that a run trained before this key segments as it did; the
    /// built-in `he` manifest sets `exclude`.
    public var penMarks = PenMarks.keep
    public init() {}

    /// Whether an RGB pixel (channels in [0, 1]) is ink of a green or blue pen rather than stained
    /// tissue: its optical density in green is below 0.9 times that in red, which neither stain
    /// gives (haematoxylin absorbs green 1.08 times as much as red, eosin far more; the H&E
    /// phantom's pixels 1.06 times or more), and it is neither faint (red density 0.25 or more, a
    /// channel at 0.25 or more) nor grey (channels 0.08 apart). Blue ink over tissue looks like
    /// haematoxylin, and violet, black and red inks like the stains: they stay tissue.
    public static func isInk(_ r: Float, _ g: Float, _ b: Float) -> Bool {
        let (hi, lo) = (max(r, g, b), min(r, g, b))
        guard hi >= 0.25, hi - lo > 0.08 else { return false }
        let (red, green) = (-log((r * 255 + 1) / 256), -log((g * 255 + 1) / 256))
        return red >= 0.25 && green < 0.9 * red
    }

    func validate(source: String) throws {
        guard closing >= 0, fillHolesSmallerThan >= 0, removeSpecksSmallerThan >= 0 else {
            throw ConfigurationError(source: source, message: "key 'tissue': sizes must not be negative")
        }
        guard closing <= Self.largestClosing else {  // each pass costs closing × the pixels
            throw ConfigurationError(source: source, message: "key 'tissue': closing \(closing) is beyond \(Self.largestClosing) pixels; "
                                     + "it joins tissue across gaps of twice that, so a few pixels are meant")
        }
    }

    /// The largest `closing` taken.
    static let largestClosing = 64

    /// The tissue mask of an H×W×3 image in [0, 1].
    public func mask(_ image: RasterImage) throws -> Mask {
        let plane = image.height * image.width
        if method == .all { return try Mask(height: image.height, width: image.width, pixels: [Bool](repeating: true, count: plane)) }
        var feature = [Float](repeating: 0, count: plane), white = [Bool](repeating: false, count: plane)
        var ink = [Bool](repeating: false, count: penMarks == .exclude ? plane : 0)
        for p in 0..<plane {
            let (r, g, b) = (image.values[p * 3], image.values[p * 3 + 1], image.values[p * 3 + 2])
            let (hi, lo) = (max(r, g, b), min(r, g, b))
            feature[p] = channel == .grey ? 1 - (r + g + b) / 3 : (hi > 0 ? (hi - lo) / hi : 0)
            white[p] = lo > 0.9
            if !ink.isEmpty { ink[p] = Self.isInk(r, g, b) }
        }
        // Ink, dark and coloured, would pull the threshold up to itself and leave pale tissue out.
        let thresholdInput = ink.isEmpty ? feature : feature.indices.filter { !ink[$0] }.map { feature[$0] }
        var threshold = otsuThreshold(thresholdInput)
        if method == .glass {
            let lighter = otsuSplit(thresholdInput.filter { $0 <= threshold })
            if lighter.separability >= Self.lighterClassSeparabilityCutoff, lighter.meanGap >= Self.lighterClassMeanGap {
                threshold = lighter.threshold
            }
        }
        let raw = try Mask(height: image.height, width: image.width,
                           pixels: (0..<plane).map { feature[$0] > threshold && !white[$0] && (ink.isEmpty || !ink[$0]) })
        let cleaned = raw.closing(radius: closing).fillingHoles(smallerThan: fillHolesSmallerThan).removingSpecks(smallerThan: removeSpecksSmallerThan)
        guard !ink.isEmpty else { return cleaned }
        // Ink the closing or the filling took back (a stroke across tissue) is left out again.
        return try Mask(height: image.height, width: image.width, pixels: (0..<plane).map { cleaned.pixels[$0] && !ink[$0] })
    }
}

extension RasterImage {
    /// The image resampled by `factor` (≤ 1) by area averaging: each output pixel the mean of the
    /// input pixels its area covers, weighted by overlap.
    func scaled(_ factor: Double) -> RasterImage {
        let (w2, h2) = (max(1, Int((Double(width) * factor).rounded())), max(1, Int((Double(height) * factor).rounded())))
        let (sx, sy) = (Double(width) / Double(w2), Double(height) / Double(h2))
        func spans(_ n: Int, _ s: Double, _ limit: Int) -> [[(Int, Double)]] {
            (0..<n).map { i in
                let (a, b) = (Double(i) * s, Double(i + 1) * s)
                return (Int(a)..<min(limit, Int(b.rounded(.up)))).map { j in (j, min(b, Double(j + 1)) - max(a, Double(j))) }
            }
        }
        let (xs, ys) = (spans(w2, sx, width), spans(h2, sy, height))
        var out = [Float](repeating: 0, count: w2 * h2 * channels)
        for y in 0..<h2 { for x in 0..<w2 {
            var sum = [Double](repeating: 0, count: channels), total = 0.0
            for (yy, wy) in ys[y] { for (xx, wx) in xs[x] {
                let weight = wy * wx
                total += weight
                for c in 0..<channels { sum[c] += weight * Double(values[(yy * width + xx) * channels + c]) }
            } }
            for c in 0..<channels { out[(y * w2 + x) * channels + c] = Float(sum[c] / total) }
        } }
        return RasterImage(width: w2, height: h2, channels: channels, values: out, bitDepth: bitDepth)
    }
}
