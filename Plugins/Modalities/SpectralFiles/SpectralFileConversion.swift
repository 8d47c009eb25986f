import CompSegCore
import CompSegIO
import Foundation

/// What a spectral image file holds, in a line of `compseg inspect`.
public struct SpectralFileSummary: Sendable {
    public var format: String, dataType: String
    public var height: Int, width: Int, bands: Int
    public var axisFirst: Double, axisLast: Double, axisUnit: String
    /// The axis as a modality reads it (`SpectralFileReader.axis`): a unit it converts is converted,
    /// one it knows to mean its unit (Raman shift) or none is taken as that unit.
    public var readFirst: Double, readLast: Double, readUnit: String
    public var nonFinite: Int
    /// Tissue pixels over all pixels, and whether the mask is the file's own or computed.
    public var tissueFraction: Double, maskFromFile: Bool
    public var notes: [String]
    /// The physical size of a pixel, where the file records it.
    public var pixelSize: PixelSize?
    /// Whether the modality reads the file as a sample: false where a note says its axis is refused
    /// (non-finite or repeated values, a unit it cannot convert), or its values (NaN under `nonFinite: error`).
    public var readsAsSample = true

    /// What `inspect` notes of a file without tissue.
    public static let noTissueNote = "no tissue: training refuses it as a sample (the pooling head averages over tissue); segment takes it, "
        + "with an empty mask"

    /// A problem of the axis (`SpectralFileReader.AxisError`) becomes a note; the axis then reads as written.
    public init(_ cube: SpectralCube, tissue: Mask, axisUnit wanted: String = "cm⁻¹", excitation: Double? = nil) {
        format = cube.format; dataType = cube.dataType; pixelSize = cube.pixelSize
        (height, width, bands) = (cube.height, cube.width, cube.bands)
        (axisFirst, axisLast, axisUnit) = (cube.axis.first ?? 0, cube.axis.last ?? 0, cube.axisUnit)
        notes = cube.notes
        if let bad = cube.axis.firstIndex(where: { !$0.isFinite }) {
            notes.append("the axis holds \(SpectralFileReader.spelled(cube.axis[bad])) at band \(bad): reading it as a sample is refused")
            readsAsSample = false
        } else if let repeated = SpectralFileReader.firstRepeat(cube.axis) {
            notes.append("the axis holds \(cube.axis[repeated.first]) at bands \(repeated.first) and \(repeated.second): "
                         + "reading it as a sample is refused")
            readsAsSample = false
        } else if let turn = Self.turn(of: cube.axis) {
            notes.append("the axis is neither ascending nor descending: it turns at band \(turn) (\(cube.axis[turn]))")
        }
        var read = (values: cube.axis, unit: cube.axisUnit)
        do { read = try SpectralFileReader.axis(cube.axis, unit: cube.axisUnit, wanted: wanted, excitation: excitation) } catch {
            notes.append("\(error)")
            readsAsSample = false
        }
        (readFirst, readLast, readUnit) = (read.values.first ?? 0, read.values.last ?? 0, read.unit)
        nonFinite = cube.values.lazy.filter { !$0.isFinite }.count
        tissueFraction = Double(tissue.pixels.lazy.filter { $0 }.count) / Double(max(1, tissue.pixels.count))
        maskFromFile = cube.mask != nil
    }
}

extension SpectralFileSummary {
    /// The first band where `axis` changes direction, or nil when it runs one way.
    static func turn(of axis: [Double]) -> Int? {
        guard SpectralOrder(axis) == .unordered, axis.count > 2 else { return nil }
        return (1..<(axis.count - 1)).first { k in
            let before: Double = axis[k] - axis[k - 1], after: Double = axis[k + 1] - axis[k]
            return before * after < 0
        }
    }
}

extension SpectralFileReader {
    /// What `url` holds: format, size, axis (and as a modality whose steps expect `axisUnit` reads
    /// it), non-finite values and tissue.
    public func summary(_ url: URL, axisUnit: String = "cm⁻¹") throws -> SpectralFileSummary {
        try summaryAndSample(url, axisUnit: axisUnit).summary
    }

    /// `summary(_:axisUnit:)`, and the file as a sample made from the same read (so that a look at
    /// it, such as `inspect`'s through the modality's steps, reads the file once).
    public func summaryAndSample(_ url: URL, axisUnit: String = "cm⁻¹") throws -> (summary: SpectralFileSummary, sample: () throws -> Sample) {
        let cube = try cube(url)
        var summary = SpectralFileSummary(cube, tissue: try tissue(of: cube), axisUnit: axisUnit, excitation: options.excitationWavelength)
        if let warning = cube.warning { summary.notes.append(warning) }
        if summary.tissueFraction == 0 {
            summary.notes.append(SpectralFileSummary.noTissueNote + " (\(try whyNoTissue(cube)))")
            summary.readsAsSample = false
        }
        if summary.nonFinite > 0, options.nonFinite == .error {
            summary.notes.append("the modality's option nonFinite: error refuses NaN and infinite values (\(Self.firstNonFinitePlace(cube))): reading it as a sample "
                                 + "is refused (nonFinite: zero sets them to 0 and leaves their pixels out of the tissue)")
            summary.readsAsSample = false
        }
        return (summary, { try sample(cube, file: url, label: nil, axisUnit: axisUnit) })
    }

    /// Writes the image in `url` as the canonical HDF5 file `destination`: `/spectra` H×W×B
    /// float32 (gzip), `/wavenumbers` (B, float64, in `axisUnit` where the file's unit converts to
    /// it, with a `units` attribute; "Raman shift" for a Raman modality), `/mask` H×W uint8 (the
    /// tissue mask as the modality reads it: the file's own or the computed one, less pixels
    /// holding NaN); the root's attributes `source` and `format` say where it came from. Values are kept
    /// as read, NaN included. HDF5, ENVI, Agilent mosaics, WiRE maps, FSM images and NumPy arrays are read and written a
    /// band of whole rows at a time, so an image larger than memory converts; the other formats
    /// are read whole. Written atomically; an existing file is replaced only with `replace`.
    /// - Returns: what the reader warned of (a mask dataset named but missing, so the mask is
    ///   computed), and an axis a modality will refuse (written as it is).
    /// - Throws: `IOError` naming the file that cannot be read or written.
    @discardableResult
    public func convert(_ url: URL, to destination: URL, axisUnit: String, replace: Bool = false) throws -> String? {
        if !replace, FileManager.default.fileExists(atPath: destination.path) {
            throw IOError(file: destination.path, "exists already (pass --force to replace it)")
        }
        if let spectra = try regionFile(url) { return try convert(spectra, to: destination, axisUnit: axisUnit) }
        let cube = try cube(url)
        let (b, h, w) = (cube.bands, cube.height, cube.width)
        _ = try convertedAxis(cube.axis, unit: cube.axisUnit, wanted: axisUnit, format: cube.format, file: url)  // refused before any writing
        let writer = try HDF5Writer(url: destination)
        try writer.createDataset("/spectra", shape: [h, w, b], of: Float.self, gzip: 4, shuffle: true, chunks: Self.convertedChunks(h, w, b))
        try writer.write("/spectra", start: [0, 0, 0], count: [h, w, b], values: Self.pixelMajor(cube.values, bands: b, pixels: h * w))
        try finish(writer, axis: cube.axis, unit: cube.axisUnit, wanted: axisUnit, tissue: tissue(of: cube), source: url, format: cube.format,
                   pixelSize: cube.pixelSize)
        return Self.joined(cube.warning, Self.axisRefusal(cube.axis))
    }

    /// Both warnings, either, or none.
    private static func joined(_ a: String?, _ b: String?) -> String? {
        [a, b].compactMap { $0 }.isEmpty ? nil : [a, b].compactMap { $0 }.joined(separator: "; ")
    }

    /// Why a modality will refuse to read `axis` (a non-finite or repeated value), which convert writes as it is.
    static func axisRefusal(_ axis: [Double]) -> String? {
        if let bad = axis.firstIndex(where: { !$0.isFinite }) {
            return "the axis holds \(spelled(axis[bad])) at band \(bad), written as it is: a modality refuses to read the file as a sample"
        }
        if let repeated = firstRepeat(axis) {
            return "the axis holds \(axis[repeated.first]) at bands \(repeated.first) and \(repeated.second), written as it is: "
                + "a modality refuses to read the file as a sample"
        }
        return nil
    }

    /// `convert` of an image read a band of whole rows at a time (whole chunks of the file
    /// written, whole stored chunks of `spectra` read), each pixel's sum kept for the tissue mask.
    private func convert(_ spectra: any SpectralRegionFile, to destination: URL, axisUnit: String) throws -> String? {
        let (b, h, w, url) = (spectra.bands, spectra.height, spectra.width, spectra.url)
        do {
            try requireMemory(Double(h) * Double(w) * 22, for: "the tissue mask of \(h)×\(w) pixels", "convert a smaller image")
        } catch { throw IOError(file: url.path, "\(error)") }
        _ = try convertedAxis(spectra.axis, unit: spectra.axisUnit, wanted: axisUnit, format: spectra.format, file: url)  // refused before any writing
        let chunks = Self.convertedChunks(h, w, b)
        let rowsPerRead = spectra.rowsPerRead(slabValues: options.slabValues, unit: chunks[0])  // whole chunks of the output
        let writer = try HDF5Writer(url: destination)
        try writer.createDataset("/spectra", shape: [h, w, b], of: Float.self, gzip: 4, shuffle: true, chunks: chunks)
        var sums = [Double](repeating: 0, count: h * w), invalid = [Bool](repeating: false, count: h * w)
        for y0 in stride(from: 0, to: h, by: rowsPerRead) {
            try Interruption.check()
            let n = min(rowsPerRead, h - y0), m = n * w, p0 = y0 * w
            let values = try spectra.region(y: y0, x: 0, height: n, width: w)
            values.withUnsafeBufferPointer { Self.addBandSums($0, bands: b, from: p0, to: &sums, invalid: &invalid) }
            try writer.write("/spectra", start: [y0, 0, 0], count: [n, w, b], values: Self.pixelMajor(values, bands: b, pixels: m))
        }
        let fileMask = try spectra.readMask()
        let tissue = try tissueMask(sums: sums, bands: b, invalid: invalid, fileMask: fileMask, height: h, width: w)
        try finish(writer, axis: spectra.axis, unit: spectra.axisUnit, wanted: axisUnit, tissue: tissue, source: url, format: spectra.format,
                   pixelSize: spectra.pixelSize)
        return Self.joined(try spectra.warning(maskFound: fileMask != nil), Self.axisRefusal(spectra.axis))
    }

    /// The axis in `wanted` units, as `convert` writes it.
    private func convertedAxis(_ axis: [Double], unit: String, wanted: String, format: String, file url: URL) throws -> (values: [Double], unit: String) {
        do { return try Self.axis(axis, unit: unit, wanted: wanted, excitation: options.excitationWavelength) } catch {
            throw IOError(file: url.path, "\(error) (\(format))")
        }
    }

    /// Writes what follows the spectra (axis, mask, where they came from, a square pixel's size)
    /// and closes `writer`.
    private func finish(_ writer: HDF5Writer, axis: [Double], unit: String, wanted: String, tissue: Mask, source url: URL,
                        format: String, pixelSize: PixelSize?) throws {
        let converted = try convertedAxis(axis, unit: unit, wanted: wanted, format: format, file: url)
        try writer.write("/wavenumbers", shape: [axis.count], values: converted.values)
        // A Raman shift stays marked as one: an infrared modality then refuses it, as it refuses the file converted.
        try writer.setAttribute("units", wanted == Self.ramanShift ? Self.ramanShift : converted.unit, on: "/wavenumbers")
        try writer.write("/mask", shape: [tissue.height, tissue.width], values: tissue.pixels.map { UInt8($0 ? 1 : 0) })
        try writer.setAttribute("source", url.path)
        try writer.setAttribute("format", format)
        if let pixelSize, pixelSize.x == pixelSize.y { try writer.setAttribute(HDF5Spectra.pixelSizeAttribute, pixelSize.x) }
        try writer.close()
    }

    /// The chunks of a converted `/spectra`: 16×16 pixels (fewer at a smaller image) of every band.
    static func convertedChunks(_ h: Int, _ w: Int, _ b: Int) -> [Int] { [min(h, 16), min(w, 16), b] }

    /// B×P band-major values as P×B (each spectrum contiguous), in blocks of pixels that stay in cache.
    static func pixelMajor(_ values: [Float], bands b: Int, pixels m: Int) -> [Float] {
        var out = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { o in
                for start in stride(from: 0, to: m, by: 64) {
                    let end = min(m, start + 64)
                    for k in 0..<b { for p in start..<end { o[p * b + k] = v[k * m + p] } }
                }
            }
        }
        return out
    }
}
