import CTIFF
import Foundation

extension PNGImage {
    /// Writes the image as an 8-bit TIFF in square tiles of `tile` pixels (a multiple of 16;
    /// edge tiles padded with white), Deflate-compressed, grey or RGB (an alpha channel is kept
    /// as associated alpha), atomically — the form slide scanners write H&E images in. `pixelSize`,
    /// where given, is written as resolution tags in pixels per centimetre.
    /// - Throws: `IOError` naming the file with libtiff's message.
    public func writeTiledTIFF(to url: URL, tile: Int = 64, pixelSize: PixelSize? = nil) throws {
        guard tile > 0, tile % 16 == 0 else { throw IOError(file: url.path, "tile side \(tile) is not a multiple of 16") }
        try writeAtomically(to: url) { temporary in
            let h = try TIFFHandle(path: temporary, mode: "w", file: url.path, failure: "cannot be created as a TIFF file")
            defer { withExtendedLifetime(h) {} }
            let t = h.tiff
            var ok = compseg_tiff_set_u32(t, UInt32(TIFFTAG_IMAGEWIDTH), UInt32(width)) == 1
            ok = ok && compseg_tiff_set_u32(t, UInt32(TIFFTAG_IMAGELENGTH), UInt32(height)) == 1
            ok = ok && compseg_tiff_set_u16(t, UInt32(TIFFTAG_SAMPLESPERPIXEL), UInt16(channels)) == 1
            ok = ok && compseg_tiff_set_u16(t, UInt32(TIFFTAG_BITSPERSAMPLE), 8) == 1
            let photometric = channels >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK
            ok = ok && compseg_tiff_set_u16(t, UInt32(TIFFTAG_PHOTOMETRIC), UInt16(photometric)) == 1
            ok = ok && compseg_tiff_set_u16(t, UInt32(TIFFTAG_PLANARCONFIG), UInt16(PLANARCONFIG_CONTIG)) == 1
            ok = ok && compseg_tiff_set_u16(t, UInt32(TIFFTAG_COMPRESSION), UInt16(COMPRESSION_ADOBE_DEFLATE)) == 1
            ok = ok && compseg_tiff_set_u32(t, UInt32(TIFFTAG_TILEWIDTH), UInt32(tile)) == 1
            ok = ok && compseg_tiff_set_u32(t, UInt32(TIFFTAG_TILELENGTH), UInt32(tile)) == 1
            if let pixelSize {
                ok = ok && compseg_tiff_set_double(t, UInt32(TIFFTAG_XRESOLUTION), 1e4 / pixelSize.x) == 1
                ok = ok && compseg_tiff_set_double(t, UInt32(TIFFTAG_YRESOLUTION), 1e4 / pixelSize.y) == 1
                ok = ok && compseg_tiff_set_u16(t, UInt32(TIFFTAG_RESOLUTIONUNIT), UInt16(RESUNIT_CENTIMETER)) == 1
            }
            if channels == 2 || channels == 4 {
                var extra = [UInt16(EXTRASAMPLE_ASSOCALPHA)]
                ok = ok && compseg_tiff_set_extrasamples(t, 1, &extra) == 1
            }
            guard ok else { throw IOError(file: url.path, "cannot set the TIFF fields\(h.lastError)") }
            var buffer = [UInt8](repeating: 255, count: tile * tile * channels)
            for y0 in stride(from: 0, to: height, by: tile) {
                for x0 in stride(from: 0, to: width, by: tile) {
                    for i in buffer.indices { buffer[i] = 255 }
                    for y in y0..<min(height, y0 + tile) {
                        let from = (y * width + x0) * channels, count = (min(width, x0 + tile) - x0) * channels
                        buffer.replaceSubrange((y - y0) * tile * channels..<((y - y0) * tile * channels + count),
                                               with: pixels[from..<(from + count)])
                    }
                    let index = TIFFComputeTile(t, UInt32(x0), UInt32(y0), 0, 0)
                    let size = tmsize_t(buffer.count)
                    let written = buffer.withUnsafeMutableBytes { TIFFWriteEncodedTile(t, index, $0.baseAddress, size) }
                    guard written == size else { throw IOError(file: url.path, "cannot write tile \(index)\(h.lastError)") }
                }
            }
            guard TIFFFlush(t) == 1 else { throw IOError(file: url.path, "cannot write the TIFF directory\(h.lastError)") }
        }
    }
}
