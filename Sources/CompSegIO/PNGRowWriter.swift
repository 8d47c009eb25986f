import CPNG
import Foundation

/// An 8-bit PNG written a few rows at a time, for pictures too large to hold whole (a slide's
/// overlay is 1.2 GB as one RGB buffer at 20,000²). Like `PNGImage.write`, the file appears at
/// `url` only when `finish` succeeds: it is written to a temporary file beside it, then renamed.
public final class PNGRowWriter {
    public let url: URL
    public let width: Int, height: Int, channels: Int
    private let temporary: String
    private let state: UnsafeMutablePointer<compseg_png_writer>
    private var open = false, rowsWritten = 0

    /// Creates the temporary file and writes the header, with `metadata`'s chunks.
    /// - Throws: `IOError` naming `url` when the file cannot be created.
    public init(url: URL, width: Int, height: Int, channels: Int, metadata: PNGMetadata = PNGMetadata()) throws {
        precondition([1, 3, 4].contains(channels), "PNGRowWriter channels must be 1, 3 or 4, not \(channels)")
        precondition(width > 0 && height > 0, "PNGRowWriter needs a positive size, got \(width)×\(height)")
        (self.url, self.width, self.height, self.channels) = (url, width, height, channels)
        temporary = try temporaryPath(for: url)
        state = .allocate(capacity: 1)  // after the last throw that leaves the object unmade
        open = true
        guard compseg_png_writer_open(state, temporary, UInt32(width), UInt32(height), Int32(channels)) == 1 else {
            let reason = String(cString: strerror(errno))
            throw failure("cannot be written as PNG" + (state.pointee.file == nil ? " (\(reason))" : ""))
        }
        for chunk in metadata.chunks {
            guard compseg_png_writer_chunk(state, chunk.type, chunk.data, chunk.data.count) == 1 else {
                throw failure("cannot write its \(chunk.type) chunk")
            }
        }
    }

    deinit {
        if open { _ = compseg_png_writer_close(state); try? FileManager.default.removeItem(atPath: temporary) }
        state.deallocate()
    }

    /// Appends whole rows: a multiple of width × channels bytes, row-major.
    public func append(_ rows: [UInt8]) throws {
        let rowBytes = width * channels
        guard open, rows.count % rowBytes == 0, rowsWritten + rows.count / rowBytes <= height else {
            throw IOError(file: url.path, "rows of \(rows.count) bytes do not fit a \(width)×\(height)×\(channels) PNG"
                          + (open ? "" : " (already finished)"))
        }
        try rows.withUnsafeBufferPointer { buffer in
            for r in 0..<(rows.count / rowBytes) {
                guard compseg_png_writer_row(state, buffer.baseAddress! + r * rowBytes) == 1 else {
                    throw failure("cannot be written: row \(rowsWritten)")
                }
                rowsWritten += 1
            }
        }
    }

    /// Writes the end of the image, then moves the file into place.
    /// - Throws: `IOError` when rows are missing or a write fails (the temporary file is removed).
    public func finish() throws {
        guard open else { throw IOError(file: url.path, "the PNG is finished already") }
        guard rowsWritten == height else { throw failure("\(rowsWritten) of \(height) rows were given; the PNG is incomplete") }
        guard compseg_png_writer_end(state) == 1 else { throw failure("cannot be written") }
        open = false
        guard compseg_png_writer_close(state) == 1 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw IOError(file: url.path, "cannot be written: closing the file failed: \(reason)")
        }
        try commit(temporary: temporary, to: url)
    }

    /// Closes and removes the temporary file; the error names `url`, what failed and libpng's message.
    private func failure(_ what: String) -> IOError {
        let message = withUnsafeBytes(of: state.pointee.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if open { _ = compseg_png_writer_close(state); open = false; try? FileManager.default.removeItem(atPath: temporary) }
        return IOError(file: url.path, what + (message.isEmpty ? "" : ": \(message)"))
    }
}
