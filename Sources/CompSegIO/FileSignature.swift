import Foundation

/// What a file is, from its first bytes: which raster reader it needs, whether it is a PNG, and
/// the format of a file often mistaken for one (named in messages).
public enum FileSignature {
    enum Raster { case tiff, png }

    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The first 12 bytes of an existing regular file (fewer when it is shorter).
    public static func head(of url: URL, bytes: Int = 12) throws -> [UInt8] {
        try requireExistingFile(url)
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw IOError(file: url.path, "cannot be opened for reading: \(systemReason(error))")
        }
        defer { try? handle.close() }
        return [UInt8]((try? handle.read(upToCount: bytes)) ?? Data())
    }

    /// The file as it is now, for a check done once a process: its path, size and modification
    /// time (a file written since is checked again).
    static func version(of url: URL) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path) else { return nil }
        return "\(url.standardizedFileURL.path)|\(attributes[.size] ?? "")|\(attributes[.modificationDate] ?? "")"
    }

    /// Whether `head` starts as a TIFF or BigTIFF does.
    static func isTIFF(_ head: [UInt8]) -> Bool {
        head.count >= 4 && [[0x49, 0x49, 0x2A, 0x00], [0x4D, 0x4D, 0x00, 0x2A], [0x49, 0x49, 0x2B, 0x00], [0x4D, 0x4D, 0x00, 0x2B]]
            .contains(Array(head.prefix(4)))
    }

    /// Which raster reader `url` needs.
    /// - Throws: `IOError` naming the file when it is missing, unreadable, or neither a TIFF nor a PNG.
    static func raster(of url: URL) throws -> Raster {
        let head = try head(of: url)
        if head.starts(with: png) { return .png }
        if isTIFF(head) { return .tiff }
        let shown = head.prefix(8).map { String(format: "%02X", $0) }.joined(separator: " ")
        let other = otherFormat(head)
        let kind = other.map { "is \($0) file, not a TIFF or PNG" } ?? "is neither a TIFF nor a PNG file"
        // A spectral image given to the RGB reader: the modalities that read it named.
        let spectral = other == "an HDF5" || hasSpectralSignature(head)
            ? "; spectral images are read by the infrared and raman modalities (--modality infrared or raman where a command takes it)" : ""
        throw IOError(file: url.path, "\(kind) (starts with bytes \(shown.isEmpty ? "none: empty file" : shown))" + spectral)
    }

    /// - Throws: `IOError` naming the file when it is missing or does not start as a PNG does, with
    ///   the format it has where that is a common one ("is a JPEG file, not a PNG").
    /// Checks cheaply that a mask or truth file starts as its kind does: GeoJSON (`.geojson`,
    /// `.json`) with `{` or `[`, any other with a PNG's signature.
    public static func requireMask(_ url: URL) throws {
        guard ["geojson", "json"].contains(url.pathExtension.lowercased()) else { return try requirePNG(url) }
        let head = try head(of: url, bytes: 4096)
        let space: [UInt8] = [0x20, 0x09, 0x0D, 0x0A, 0xEF, 0xBB, 0xBF]  // and a UTF-8 byte-order mark
        guard let first = head.first(where: { !space.contains($0) }), first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
            throw IOError(file: url.path, head.isEmpty ? "is empty, not GeoJSON" : "is not GeoJSON (it does not start with { or [)")
        }
    }

    public static func requirePNG(_ url: URL) throws {
        let head = try head(of: url)
        guard !head.starts(with: png) else { return }
        let kind = (isTIFF(head) ? "a TIFF" : otherFormat(head)).map { "is \($0) file, not a PNG" } ?? "is not a PNG file (no PNG signature)"
        throw IOError(file: url.path, head.isEmpty ? "is empty, not a PNG file" : kind)
    }

    /// Whether `head` (a file's first bytes) starts as a spectral format does: WiRE, NumPy or an ENVI header.
    static func hasSpectralSignature(_ head: [UInt8]) -> Bool {
        [Array("WDF1".utf8), [0x93] + Array("NUMPY".utf8), Array("ENVI".utf8)].contains { head.starts(with: $0) }
    }

    /// The image or binary format a file that starts with `head` is in, with its article ("a PNG",
    /// "an HDF5", "a WiRE"), for a file given where text belongs; nil for others.
    public static func binaryFormat(_ head: [UInt8]) -> String? {
        if head.starts(with: png) { return "a PNG" }
        if isTIFF(head) { return "a TIFF" }
        if head.starts(with: Array("WDF1".utf8)) { return "a Renishaw WiRE" }
        if head.starts(with: [0x93] + Array("NUMPY".utf8)) { return "a NumPy" }
        return otherFormat(head)
    }

    /// The format of a file that starts with `head`, with its article ("a JPEG"), among those often
    /// mistaken for an image the raster readers take; nil for others.
    static func otherFormat(_ head: [UInt8]) -> String? {
        let signatures: [(bytes: [UInt8], at: Int, name: String)] = [
            ([0xFF, 0xD8, 0xFF], 0, "a JPEG"), ([0x42, 0x4D], 0, "a BMP"), (Array("GIF8".utf8), 0, "a GIF"),
            (Array("WEBP".utf8), 8, "a WebP"), ([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20], 0, "a JPEG 2000"),
            ([0xFF, 0x4F, 0xFF, 0x51], 0, "a JPEG 2000 codestream"), ([0x89, 0x48, 0x44, 0x46], 0, "an HDF5"),
            ([0x50, 0x4B, 0x03, 0x04], 0, "a ZIP"), (Array("%PDF".utf8), 0, "a PDF"),
        ]
        return signatures.first { head.count >= $0.at + $0.bytes.count && Array(head[$0.at..<($0.at + $0.bytes.count)]) == $0.bytes }?.name
    }
}

/// Checks made once a process for each version of a file (`FileSignature.version`): a file
/// unchanged since its check keeps the outcome, passed or refused; one written since is checked again.
final class OncePerFileVersion: @unchecked Sendable {
    private var outcomes: [String: Result<Void, any Error>] = [:]
    private let lock = NSLock()

    /// `check`'s outcome for `url` as it is now: run the first time, then recalled.
    func run(_ url: URL, _ check: () throws -> Void) throws {
        let key = FileSignature.version(of: url)
        if let key, let outcome = lock.withLock({ outcomes[key] }) { return try outcome.get() }
        let outcome = Result<Void, any Error> { try check() }
        if let key { lock.withLock { outcomes[key] = outcome } }
        try outcome.get()
    }
}
