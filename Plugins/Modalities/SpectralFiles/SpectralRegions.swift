import CompSegCore
import CompSegIO
import CompSegNN
import Foundation
import SpectralPreprocessing

extension SpectralFileSource {
    /// The size of an HDF5, ENVI, Agilent mosaic, WiRE or NumPy image, and what loading it whole takes; nil for
    /// the other formats, which are loaded whole.
    public func extent(of url: URL) throws -> ImageExtent? {
        guard let file = try SpectralFileReader(configuration).regionFile(url) else { return nil }
        // An HDF5 image above `maximumValues` cannot be loaded whole at all.
        let refused = (file as? HDF5Spectra).map { $0.valueCount.map { $0 > configuration.maximumValues } ?? true } ?? false
        return ImageExtent(height: file.height, width: file.width,
                           wholeLoadBytes: refused ? .infinity : file.wholeReadBytes)
    }

    /// An HDF5, ENVI, Agilent mosaic, WiRE or NumPy image region by region (`SpectralRegions`); nil for the other formats.
    public func regions(of url: URL, label: SampleLabel?) throws -> (any SampleRegions)? {
        guard let file = try SpectralFileReader(configuration).regionFile(url) else { return nil }
        return try SpectralRegions(file, reader: SpectralFileReader(configuration), label: label, axisUnit: axisWanted)
    }
}

extension SpectralFileReader {
    /// `url` opened for reading regions, where its format allows (HDF5, ENVI, Agilent mosaics, WiRE maps, FSM images, NumPy arrays).
    func regionFile(_ url: URL) throws -> (any SpectralRegionFile)? {
        let format: InstrumentFormat? = switch options.format {
        case .auto: try InstrumentFormat.detect(url)
        case .hdf5: .hdf5
        case .envi: .envi
        case .agilent: ["dmt", "dmd"].contains(url.pathExtension.lowercased()) ? .agilentMosaic : nil
        case .numpy: .numpy
        case .wire: .wire
        case .fsm: .fsm
        default: nil
        }
        switch format {
        case .hdf5?: return try HDF5Spectra(url, options: options)
        case .envi?: return try ENVIImage(url)
        case .agilentMosaic?: return try AgilentMosaic(url)
        case .numpy?: return try NumPyImage(url)
        case .wire?: return try WiREMap(url)
        case .fsm?: return try FSMImage(url)
        default: return nil
        }
    }
}

/// A spectral image in HDF5, ENVI, an Agilent mosaic, a WiRE map, an FSM image or a NumPy array read region by region. A first reading, a band of whole rows at a
/// time, finds its NaN and infinite values, sums each pixel's spectrum for the tissue mask and
/// draws the preview, as loading it whole does, so a region's sample is that part of the whole
/// one (the `components` preview reads the image twice more). Then a region reads only its own
/// pixels' spectra. Held: the tissue mask, the preview, and (while the first reading lasts) a
/// float sum a pixel and what the preview keeps (one or three floats a pixel).
struct SpectralRegions: SampleRegions {
    let id: String
    let label: SampleLabel?
    let height: Int, width: Int
    let metadata: [String: String]
    private let spectra: any SpectralRegionFile
    private let channels: ChannelAxis
    private let tissue: Mask
    private let picture: RGBImage
    /// `nonFinite: zero`: NaN and infinite values read as 0 (under `error`, the first reading refused any).
    private let zeroNonFinite: Bool

    init(_ spectra: any SpectralRegionFile, reader: SpectralFileReader, label: SampleLabel?, axisUnit: String) throws {
        let (b, h, w) = (spectra.bands, spectra.height, spectra.width), url = spectra.url
        // In Doubles first: a header may declare sizes whose products overflow.
        do {
            try requireMemory(Double(h) * Double(w) * 33 + Double(w) * Double(b) * 8,
                              for: "the tissue mask and preview of \(h)×\(w) pixels, read region by region", "read a smaller image")
        } catch { throw IOError(file: url.path, "\(error)") }
        // An HDF5 image whose spectra were never written (every value reads as the fill value), or
        // so few of them that the rest could not be a sparse image (a lab may store only the tissue's
        // chunks), is refused before it is walked for minutes. (The other formats' readers check
        // their data files' lengths.)
        if let hdf5 = spectra as? HDF5Spectra {
            let stored = try hdf5.file.storedBytes(of: reader.options.spectra)
            guard stored > 0 else {
                throw IOError(file: url.path, "dataset '\(reader.options.spectra)' declares \(h)×\(w)×\(b) values (height×width×bands), "
                              + "but none was ever written: the file stores no spectra")
            }
            try requirePlausibleStorage(declaredBytes: Double(h) * Double(w) * Double(b) * 4, storedBytes: stored, file: url.path,
                                        what: "dataset '\(reader.options.spectra)' (\(h)×\(w)×\(b) values, height×width×bands)")
        }
        let rowsPerRead = spectra.rowsPerRead(slabValues: reader.options.slabValues)
        let axis = try reader.checkedAxis(spectra.axis, unit: spectra.axisUnit, format: spectra.format, file: url, wanted: axisUnit)
        var drawing: SpectralPreview.Drawing
        do { drawing = try .init(reader.options.preview, bands: b, height: h, width: w, wavenumbers: axis.values) } catch {
            throw IOError(file: url.path, "option 'preview': \(error)")
        }
        var sums = [Double](repeating: 0, count: h * w), invalid = [Bool](repeating: false, count: h * w)
        var badCount = 0, firstBad: (pixel: Int, band: Int)?
        for y0 in stride(from: 0, to: h, by: rowsPerRead) {
            try Interruption.check()
            let n = min(rowsPerRead, h - y0), m = n * w, p0 = y0 * w
            var values = try spectra.region(y: y0, x: 0, height: n, width: w)
            if SpectralFileReader.firstNonFinite(values) != nil {
                // Band by band: the first pixel found in a band before the first found so far comes first.
                for i in values.indices where !values[i].isFinite {
                    let p = p0 + i % m
                    (badCount, invalid[p], values[i]) = (badCount + 1, true, 0)
                    if firstBad.map({ p < $0.pixel }) ?? true { firstBad = (p, i / m) }
                }
            }
            values.withUnsafeBufferPointer { SpectralFileReader.addBandSums($0, bands: b, from: p0, to: &sums, invalid: &invalid, allFinite: true) }
            drawing.add(rows: y0, values)
        }
        if let firstBad, reader.options.nonFinite != .zero {
            let place = SpectralFileReader.nonFinitePlace(pixel: firstBad.pixel, band: firstBad.band, width: w, axis: spectra.axis)
            throw reader.nonFiniteError(url, count: badCount, place: place, format: spectra.format)
        }
        let fileMask = try spectra.readMask()
        tissue = try reader.tissueMask(sums: sums, bands: b, invalid: invalid, fileMask: fileMask, height: h, width: w)
        (sums, invalid) = ([], [])
        zeroNonFinite = firstBad != nil
        do {
            picture = try drawing.finish(tissue: tissue.pixels, rowsPerRead: rowsPerRead) { [zeroNonFinite] y0, n in
                try Self.finite(spectra.region(y: y0, x: 0, height: n, width: w), zeroing: zeroNonFinite)
            }
        } catch let error as IOError { throw error } catch { throw IOError(file: url.path, "option 'preview': \(error)") }
        self.spectra = spectra
        self.label = label
        (height, width, id) = (h, w, Sample.id(of: url))
        channels = .spectral(values: axis.values, unit: axis.unit)
        metadata = SpectralFileReader.metadata(url, format: spectra.format, axis: axis.values, notes: spectra.notes,
                                               warning: try spectra.warning(maskFound: fileMask != nil), pixelSize: spectra.pixelSize)
    }

    /// `values` with their NaN and infinite values set to 0 where `zeroing`.
    private static func finite(_ values: [Float], zeroing: Bool) -> [Float] {
        guard zeroing, SpectralFileReader.firstNonFinite(values) != nil else { return values }
        return values.map { $0.isFinite ? $0 : 0 }
    }

    func region(y: Int, x: Int, height h: Int, width w: Int) throws -> Sample {
        let values = try Self.finite(spectra.region(y: y, x: x, height: h, width: w), zeroing: zeroNonFinite)
        var pixels = [Bool](repeating: false, count: h * w)
        for r in 0..<h { for c in 0..<w { pixels[r * w + c] = tissue.pixels[(y + r) * width + x + c] } }
        return try Sample(id: id, image: Tensor(shape: [spectra.bands, h, w], scalars: values), channels: channels,
                          tissue: Mask(height: h, width: w, pixels: pixels), preview: preview(y: y, x: x, height: h, width: w),
                          label: label, metadata: metadata)
    }

    /// Cut from the preview drawn once: the spectra are not read.
    func preview(y: Int, x: Int, height h: Int, width w: Int) throws -> RGBImage {
        try spectra.requireInside(y: y, x: x, height: h, width: w)
        var bytes = [UInt8]()
        bytes.reserveCapacity(h * w * 3)
        for r in 0..<h {
            let start: Int = ((y + r) * width + x) * 3
            bytes += picture.bytes[start..<(start + w * 3)]
        }
        return try RGBImage(height: h, width: w, bytes: bytes)
    }

    /// Exact: the tissue mask is known for every pixel.
    func mayHoldTissue(y: Int, x: Int, height h: Int, width w: Int) -> Bool {
        let (rows, columns) = (max(0, y)..<min(height, y + h), max(0, x)..<min(width, x + w))
        return rows.contains { r in columns.contains { tissue.pixels[r * width + $0] } }
    }
}
