import Foundation
import CTIFF

/// A float image: `values` holds height × width × channels floats, row-major with the channels of
/// a pixel together (`values[(y * width + x) * channels + c]`), the order TIFF stores them in.
public struct FloatImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var values: [Float]

    public init(width: Int, height: Int, channels: Int, values: [Float]) {
        precondition(width > 0 && height > 0 && channels > 0 && values.count == width * height * channels,
                     "FloatImage \(width)×\(height)×\(channels) needs \(width * height * channels) values, got \(values.count)")
        (self.width, self.height, self.channels, self.values) = (width, height, channels, values)
    }

    /// The value of channel `c` at column `x`, row `y`.
    public subscript(x x: Int, y y: Int, c c: Int) -> Float { values[(y * width + x) * channels + c] }
}

/// TIFF compression for `FloatImage.write(to:compression:)`.
public enum TIFFCompression: Sendable {
    case none, deflate
}

/// libtiff's global warning/error printers, dropped once (per-handle handlers keep the messages).
private let tiffSilenced: Void = compseg_tiff_silence()

/// An open libtiff handle with the last libtiff error message; closes itself.
final class TIFFHandle {
    let tiff: OpaquePointer
    let file: String
    private let message: UnsafeMutablePointer<compseg_tiff_message>

    /// Opens `path` with libtiff's `mode` ("r", "w"); `file` is the name errors report.
    init(path: String, mode: String, file: String, failure: String) throws {
        _ = tiffSilenced
        let message = UnsafeMutablePointer<compseg_tiff_message>.allocate(capacity: 1)
        guard let t = compseg_tiff_open(path, mode, message) else {
            defer { message.deallocate() }
            throw IOError(file: file, failure + Self.describe(message) + tiffTruncation(Self.describe(message), path: path))
        }
        (tiff, self.file, self.message) = (t, file, message)
    }
    deinit { TIFFClose(tiff); message.deallocate() }

    /// libtiff's last error for this handle, as " (libtiff: …)", or "" when it said nothing.
    var lastError: String { Self.describe(message) }
    private static func describe(_ message: UnsafeMutablePointer<compseg_tiff_message>) -> String {
        let text = withUnsafeBytes(of: message.pointee.text) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return text.isEmpty ? "" : " (libtiff: \(text))"
    }
    func error(_ text: String) -> IOError { IOError(file: file, text) }

    func u32(_ tag: Int32) -> UInt32? { var v: UInt32 = 0; return compseg_tiff_get_u32(tiff, UInt32(tag), &v) == 1 ? v : nil }
    func u16(_ tag: Int32) -> UInt16? { var v: UInt16 = 0; return compseg_tiff_get_defaulted_u16(tiff, UInt32(tag), &v) == 1 ? v : nil }
}

extension FloatImage {
    /// Reads the first image of a TIFF: 32-bit float samples (any number of channels) or 8-bit
    /// gray/RGB samples (as floats 0…255), stored in strips with contiguous samples, uncompressed
    /// or compressed with anything this libtiff decodes (LZW, deflate, …).
    /// - Throws: `IOError` naming the file and the unsupported property, or libtiff's message.
    public init(contentsOf url: URL) throws {
        try requireExistingFile(url)
        let h = try TIFFHandle(path: url.path, mode: "r", file: url.path, failure: "not a readable TIFF file")
        defer { withExtendedLifetime(h) {} }  // `t` is only valid while `h` lives
        let t = h.tiff
        guard let width = h.u32(TIFFTAG_IMAGEWIDTH), let height = h.u32(TIFFTAG_IMAGELENGTH), width > 0, height > 0 else {
            throw h.error("has no image width and height")
        }
        let bits = h.u16(TIFFTAG_BITSPERSAMPLE) ?? 1
        let format = h.u16(TIFFTAG_SAMPLEFORMAT) ?? UInt16(SAMPLEFORMAT_UINT)
        let channels = Int(h.u16(TIFFTAG_SAMPLESPERPIXEL) ?? 1)
        let photometric = h.u16(TIFFTAG_PHOTOMETRIC).map(Int32.init) ?? -1
        let compression = h.u16(TIFFTAG_COMPRESSION) ?? UInt16(COMPRESSION_NONE)
        switch (bits, Int32(format)) {
        case (8, SAMPLEFORMAT_UINT), (32, SAMPLEFORMAT_IEEEFP): break
        case (32, _): throw h.error("32-bit integer samples are not supported; expected 8-bit or 32-bit float")
        case (8, _): throw h.error("8-bit signed samples are not supported; expected 8-bit unsigned or 32-bit float")
        default: throw h.error("\(bits)-bit samples are not supported; expected 8-bit or 32-bit float")
        }
        guard photometric == PHOTOMETRIC_MINISBLACK || (photometric == PHOTOMETRIC_RGB && channels >= 3) else {
            throw h.error("photometric interpretation \(photometric) is not supported; expected min-is-black (1) or RGB (2)")
        }
        guard h.u16(TIFFTAG_PLANARCONFIG).map(Int32.init) != PLANARCONFIG_SEPARATE else {
            throw h.error("separate sample planes are not supported; expected contiguous samples (planar configuration 1)")
        }
        guard TIFFIsTiled(t) == 0 else { throw h.error("tiled TIFFs are not supported; expected strips") }
        guard TIFFIsCODECConfigured(compression) == 1 else {
            throw h.error("compression \(compression) is not supported by this libtiff")
        }

        let (w, ht) = (Int(width), Int(height))
        let sampleBytes = Int(bits) / 8
        let rowBytes = w * channels * sampleBytes
        let rowsPerStrip = max(1, min(Int(h.u32(TIFFTAG_ROWSPERSTRIP) ?? height), ht))
        /// Decodes every strip into `buffer` (rowBytes × height bytes).
        func readStrips(into buffer: UnsafeMutableRawBufferPointer) throws {
            for (strip, firstRow) in stride(from: 0, to: ht, by: rowsPerStrip).enumerated() {
                let expected = tmsize_t(min(rowsPerStrip, ht - firstRow) * rowBytes)
                let got = TIFFReadEncodedStrip(t, UInt32(strip), buffer.baseAddress! + firstRow * rowBytes, expected)
                guard got >= 0 else { throw h.error("strip \(strip) cannot be decoded\(h.lastError)") }
                guard got == expected else { throw h.error("strip \(strip) decodes to \(got) bytes, expected \(expected)\(h.lastError)") }
            }
        }
        try requirePlausibleSize([w, ht, channels, sampleBytes], file: h.file, what: "the image")
        var values = [Float](repeating: 0, count: w * ht * channels)
        if bits == 8 {
            var bytes = [UInt8](repeating: 0, count: values.count)
            try bytes.withUnsafeMutableBytes(readStrips)
            values = bytes.map(Float.init)
        } else {
            try values.withUnsafeMutableBytes(readStrips)
        }
        self.init(width: w, height: ht, channels: channels, values: values)
    }

    /// Writes a 32-bit float TIFF (min-is-black; channels beyond the first as unspecified extra
    /// samples; contiguous samples in strips of about 8 KB), atomically.
    /// - Throws: `IOError` naming the file with libtiff's message.
    public func write(to url: URL, compression: TIFFCompression = .none) throws {
        let writer = try FloatTIFFWriter(url: url, width: width, height: height, channels: channels, compression: compression)
        try writer.append(values)
        try writer.finish()
    }
}

/// A 32-bit float TIFF written a few rows at a time (min-is-black; channels beyond the first as
/// unspecified extra samples; contiguous samples in strips of about 8 KB), so an image too large
/// to hold is written as it is computed. The rows go to a temporary file beside `url`, which
/// `finish()` renames into place; a writer dropped unfinished removes it.
public final class FloatTIFFWriter {
    public let url: URL
    public let width: Int, height: Int, channels: Int
    private var handle: TIFFHandle?
    private let temporary: String
    private let rowsPerStrip: Int
    private var pending: [Float] = [], strip = 0, rowsWritten = 0

    public init(url: URL, width: Int, height: Int, channels: Int = 1, compression: TIFFCompression = .none) throws {
        (self.url, self.width, self.height, self.channels) = (url, width, height, channels)
        temporary = try temporaryPath(for: url)
        let h = try TIFFHandle(path: temporary, mode: Self.mode(imageBytes: width * height * channels * 4), file: url.path,
                               failure: "cannot be created as a TIFF file")
        handle = h
        let t = h.tiff
        let rowBytes = width * channels * 4
        rowsPerStrip = max(1, min(height, 8192 / rowBytes))
        var ok = compseg_tiff_set_u32(t, UInt32(TIFFTAG_IMAGEWIDTH), UInt32(width)) == 1
        ok = ok && compseg_tiff_set_u32(t, UInt32(TIFFTAG_IMAGELENGTH), UInt32(height)) == 1
        ok = ok && compseg_tiff_set_u16(t, UInt32(TIFFTAG_SAMPLESPERPIXEL), UInt16(channels)) == 1
        ok = ok && compseg_tiff_set_u16(t, UInt32(TIFFTAG_BITSPERSAMPLE), 32) == 1
        ok = ok && compseg_tiff_set_u16(t, UInt32(TIFFTAG_SAMPLEFORMAT), UInt16(SAMPLEFORMAT_IEEEFP)) == 1
        ok = ok && compseg_tiff_set_u16(t, UInt32(TIFFTAG_PHOTOMETRIC), UInt16(PHOTOMETRIC_MINISBLACK)) == 1
        ok = ok && compseg_tiff_set_u16(t, UInt32(TIFFTAG_PLANARCONFIG), UInt16(PLANARCONFIG_CONTIG)) == 1
        let code = compression == .deflate ? COMPRESSION_ADOBE_DEFLATE : COMPRESSION_NONE
        ok = ok && compseg_tiff_set_u16(t, UInt32(TIFFTAG_COMPRESSION), UInt16(code)) == 1
        if channels > 1 {
            let extra = [UInt16](repeating: UInt16(EXTRASAMPLE_UNSPECIFIED), count: channels - 1)
            ok = ok && compseg_tiff_set_extrasamples(t, UInt16(channels - 1), extra) == 1
        }
        ok = ok && compseg_tiff_set_u32(t, UInt32(TIFFTAG_ROWSPERSTRIP), UInt32(rowsPerStrip)) == 1
        guard ok else {
            let message = "cannot set the TIFF fields\(h.lastError)"
            handle = nil
            try? FileManager.default.removeItem(atPath: temporary)
            throw IOError(file: url.path, message)
        }
    }

    deinit {
        if handle != nil { handle = nil; try? FileManager.default.removeItem(atPath: temporary) }
    }

    /// libtiff's mode for a file of `imageBytes` of pixel data: BigTIFF (`w8`) where a classic
    /// TIFF's 32-bit offsets would not reach its end (a float map of a slide above ~1 Gpx; it
    /// failed at its last strips, after the whole slide was segmented), else classic (`w`),
    /// which more readers open.
    static func mode(imageBytes: Int) -> String { imageBytes > (1 << 32) - (256 << 20) ? "w8" : "w" }

    /// Appends whole rows (a multiple of width × channels values), writing each strip as it fills.
    public func append(_ rows: [Float]) throws {
        let rowValues = width * channels
        guard let h = handle, rows.count % rowValues == 0, rowsWritten + pending.count / rowValues + rows.count / rowValues <= height else {
            throw IOError(file: url.path, "rows of \(rows.count) values do not fit a \(width)×\(height)×\(channels) image"
                          + (handle == nil ? " (already finished)" : ""))
        }
        pending += rows
        let stripValues = rowsPerStrip * rowValues
        var offset = 0
        while pending.count - offset >= stripValues {
            try writeStrip(h, from: offset, count: stripValues)
            offset += stripValues
        }
        pending.removeFirst(offset)
    }

    private func writeStrip(_ h: TIFFHandle, from offset: Int, count: Int) throws {
        let bytes = count * 4
        let written = pending.withUnsafeMutableBytes {  // libtiff may modify the buffer it encodes
            TIFFWriteEncodedStrip(h.tiff, UInt32(strip), $0.baseAddress! + offset * 4, tmsize_t(bytes))
        }
        guard written == tmsize_t(bytes) else { throw IOError(file: url.path, "cannot write strip \(strip)\(h.lastError)") }
        strip += 1
        rowsWritten += count / (width * channels)
    }

    /// Writes the last strip and the directory, then moves the file into place.
    /// - Throws: `IOError` when rows are missing or a write fails (the temporary file is removed).
    public func finish() throws {
        guard let h = handle else { throw IOError(file: url.path, "the TIFF is finished already") }
        do {
            if !pending.isEmpty { try writeStrip(h, from: 0, count: pending.count); pending = [] }
            guard rowsWritten == height else {
                throw IOError(file: url.path, "\(rowsWritten) of \(height) rows were given; the TIFF is incomplete")
            }
            guard TIFFFlush(h.tiff) == 1 else { throw IOError(file: url.path, "cannot write the TIFF directory\(h.lastError)") }
        } catch {
            handle = nil
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        handle = nil  // closes the file
        try commit(temporary: temporary, to: url)
    }
}
