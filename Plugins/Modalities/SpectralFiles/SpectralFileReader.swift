import CompSegCore
import CompSegIO
import CompSegNN
import Foundation
import SpectralPreprocessing

/// Reads spectral images in every format the project knows (HDF5, ENVI, Agilent FPA tiles and
/// mosaics, Renishaw WiRE, Galactic SPC, PerkinElmer FSM, NumPy arrays, text maps) into samples, the same way for every format: non-finite
/// values as `nonFinite` says, the file's tissue mask or one computed by Otsu's threshold on the
/// integrated absorbance (cleaned by `tissue`), and a preview. The infrared and Raman modalities
/// are this reader with their own defaults.
public struct SpectralFileReader: Sendable {
    public let options: SpectralFileOptions
    public init(_ options: SpectralFileOptions = .init()) { self.options = options }

    /// The image in `url` as the file holds it, read by the format `options.format` names.
    /// - Throws: `IOError` naming the file and the field that is missing or wrong.
    public func cube(_ url: URL) throws -> SpectralCube {
        switch options.format {
        case .auto: try InstrumentFormat.detect(url) == .hdf5 ? hdf5Cube(url) : InstrumentFormat.read(url)
        case .hdf5: try hdf5Cube(url)
        case .envi: try SpectralCube.readENVI(url)
        case .agilent: try ["dmt", "dmd"].contains(url.pathExtension.lowercased())
            ? SpectralCube.readAgilentMosaic(url) : SpectralCube.readAgilentTile(url)
        case .wire: try SpectralCube.readWiRE(url)
        case .spc: try SpectralCube.readSPC(url)
        case .fsm: try SpectralCube.readFSM(url)
        case .numpy: try SpectralCube.readNumPy(url)
        case .text: try SpectralCube.readTextMap(url)
        }
    }

    /// The sample in `url`.
    /// - Parameter axisUnit: the unit the modality's steps expect (e.g. cm⁻¹); an axis in another
    ///   unit this reader converts (nm or µm to cm⁻¹) is converted, one without a unit is taken as it.
    public func sample(_ url: URL, label: SampleLabel?, axisUnit: String) throws -> Sample {
        try sample(cube(url), file: url, label: label, axisUnit: axisUnit)
    }

    /// `cube` as a sample: non-finite values handled, the tissue mask taken or computed, the preview drawn.
    public func sample(_ cube: SpectralCube, file url: URL, label: SampleLabel?, axisUnit: String) throws -> Sample {
        let (b, h, w) = (cube.bands, cube.height, cube.width)
        var values = cube.values
        let firstBad = Self.firstNonFinite(values)
        if firstBad != nil {
            guard options.nonFinite == .zero else {
                let count = values.lazy.filter { !$0.isFinite }.count
                throw nonFiniteError(url, count: count, place: Self.firstNonFinitePlace(cube), format: cube.format)
            }
            for i in values.indices where !values[i].isFinite { values[i] = 0 }
        }
        let axis = try checkedAxis(cube.axis, unit: cube.axisUnit, format: cube.format, file: url, wanted: axisUnit)
        let tissue = try tissue(of: cube, allFinite: firstBad == nil)
        let preview: RGBImage
        do {
            preview = try options.preview.render(cube: values, bands: b, height: h, width: w, wavenumbers: axis.values,
                                                 tissue: tissue.pixels)
        } catch { throw IOError(file: url.path, "option 'preview': \(error)") }
        // An axis that turns is read in the file's order (every file alike), but no instrument writes one.
        let turning = SpectralFileSummary.turn(of: cube.axis).map {
            "its spectral axis is neither ascending nor descending: it turns at band \($0) (\(cube.axis[$0])); the bands are used "
                + "in the file's order, but such an axis is most likely damaged"
        }
        let warning = [cube.warning, turning].compactMap { $0 }.joined(separator: "; ")
        var metadata = Self.metadata(url, format: cube.format, axis: axis.values, notes: cube.notes, warning: warning.isEmpty ? nil : warning,
                                    pixelSize: cube.pixelSize)
        if tissue.count == 0 { metadata[Sample.noTissueKey] = try whyNoTissue(cube) }
        return try Sample(id: Sample.id(of: url), image: Tensor(shape: [b, h, w], scalars: values),
                          channels: .spectral(values: axis.values, unit: axis.unit), tissue: tissue, preview: preview, label: label,
                          metadata: metadata)
    }

    /// Why `cube`'s tissue mask is empty, with what to do, where it is: the file's mask marks
    /// nothing, every tissue pixel holds a NaN (left out under `nonFinite: zero`), or the rule
    /// marked no pixel.
    func whyNoTissue(_ cube: SpectralCube) throws -> String {
        let b = cube.bands
        let sums = Self.bandSums(cube, allFinite: false).sums
        let nonFinite = "hold a NaN or infinite value, which is never tissue (\(Self.firstNonFinitePlace(cube)))"
        if let mask = cube.mask {
            let marked = mask.filter { $0 }.count
            return marked == 0 ? "the file's own mask marks no pixel" : "all \(marked) pixels the file's mask marks \(nonFinite)"
        }
        let rule = options.tissue
        let found = try computedTissue(sums: sums, bands: b, height: cube.height, width: cube.width).count
        if found > 0 { return "all \(found) pixels found as tissue \(nonFinite)" }
        let specks = rule.removeSpecksSmallerThan > 0 ? ", or only specks the option tissue: {removeSpecksSmallerThan: \(rule.removeSpecksSmallerThan)} removes" : ""
        switch rule.method {
        case .above: return "no pixel's mean over bands exceeds the option tissue: {threshold: \(rule.threshold ?? 0)}\(specks)"
        case .all: return "the option tissue's clean-up removed every pixel (tissue: {removeSpecksSmallerThan: \(rule.removeSpecksSmallerThan)})"
        case .otsu:
            return "Otsu's threshold on each pixel's mean over bands marked no pixel (the means are all alike\(specks)); for images "
                + "taken inside tissue, the option tissue: {method: all}, or give a mask column"
        }
    }

    /// What a sample read from `url` carries: its file and format, the order of its axis (as
    /// converted), the reader's notes and its warning.
    static func metadata(_ url: URL, format: String, axis: [Double], notes: [String], warning: String?,
                         pixelSize: PixelSize?) -> [String: String] {
        var metadata = ["file": url.path, "format": format, "wavenumberOrder": SpectralOrder(axis).rawValue]
        if let pixelSize { (metadata[Sample.pixelSizeKey], metadata[Sample.pixelSizeSourceKey]) = (pixelSize.text, "the \(format) file") }
        if !notes.isEmpty { metadata["notes"] = notes.joined(separator: "; ") }
        metadata[Sample.warningKey] = warning
        return metadata
    }

    /// Where `cube`'s first NaN or infinite value is, in words: the first pixel (row by row)
    /// holding one, and its first band (values are stored band by band); "" when none.
    static func firstNonFinitePlace(_ cube: SpectralCube) -> String {
        let (b, plane) = (cube.bands, cube.height * cube.width)
        return cube.values.withUnsafeBufferPointer { values in
            guard let (pixel, band) = (0..<plane).lazy.compactMap({ p in (0..<b).first { !values[$0 * plane + p].isFinite }.map { (p, $0) } }).first
            else { return "" }
            return nonFinitePlace(pixel: pixel, band: band, width: cube.width, axis: cube.axis)
        }
    }

    /// "the first at row …, column …, band …", for the first non-finite value at `pixel` (row by row) in `band`.
    static func nonFinitePlace(pixel: Int, band: Int, width w: Int, axis: [Double]) -> String {
        "the first at row \(pixel / w), column \(pixel % w) (from 0, top left), band \(band) "
            + "(\(axis.indices.contains(band) ? "\(axis[band])" : "?") on the file's axis)"
    }

    /// The refusal of `count` NaN or infinite values, the first at `place` (`nonFinitePlace`).
    func nonFiniteError(_ url: URL, count: Int, place: String, format: String) -> IOError {
        IOError(file: url.path, "the spectra hold \(count == 1 ? "1 NaN or infinite value" : "\(count) NaN or infinite values") (or beyond float32's ±3.4e38) "
                       + "(\(format)); \(place) "
                       + "(the modality option nonFinite: zero sets them to 0 and leaves their pixels out of the tissue; a trained run reads "
                       + "files with the options it was trained with)")
    }

    /// `axis` (in `unit`, as the file holds it) checked, finite and without repeats, and converted
    /// to `wanted` (`axis(_:unit:wanted:excitation:)`).
    func checkedAxis(_ axis: [Double], unit: String, format: String, file url: URL, wanted: String) throws -> (values: [Double], unit: String) {
        if let bad = axis.firstIndex(where: { !$0.isFinite }) {
            throw IOError(file: url.path, "the spectral axis (\(format)) holds \(Self.spelled(axis[bad])) at band \(bad); expected finite wavenumbers")
        }
        if let repeated = Self.firstRepeat(axis) {
            throw IOError(file: url.path, "the spectral axis (\(format)) holds \(axis[repeated.first]) at bands "
                          + "\(repeated.first) and \(repeated.second); expected distinct wavenumbers, one per band")
        }
        do { return try Self.axis(axis, unit: unit, wanted: wanted, excitation: options.excitationWavelength) } catch {
            throw IOError(file: url.path, "\(error) (\(format))")
        }
    }

    /// The index of the first NaN or infinite value, if any (`firstNonFiniteIndex`).
    static func firstNonFinite(_ values: [Float]) -> Int? { values.withUnsafeBufferPointer(firstNonFiniteIndex) }

    /// A non-finite axis value as a message says it: NaN (whatever its sign and payload, which Swift
    /// would print as "-nan(0x…)"), inf or -inf.
    static func spelled(_ value: Double) -> String { value.isNaN ? "NaN" : "\(value)" }

    /// The first two bands with the same axis value, if any.
    static func firstRepeat(_ axis: [Double]) -> (first: Int, second: Int)? {
        var seen: [Double: Int] = [:]
        for (i, v) in axis.enumerated() {
            if let j = seen[v] { return (j, i) }
            seen[v] = i
        }
        return nil
    }

    /// The tissue mask of `cube`: the file's own, or one computed from the integrated absorbance
    /// (the mean over bands) as `tissue` says (Otsu's threshold by default). A pixel with a
    /// non-finite value is never tissue.
    public func tissue(of cube: SpectralCube) throws -> Mask {
        try tissue(of: cube, allFinite: Self.firstNonFinite(cube.values) == nil)
    }

    /// `tissue(of:)`, told whether every value is finite (then the sum needs no test per value).
    func tissue(of cube: SpectralCube, allFinite: Bool) throws -> Mask {
        let (sums, invalid) = Self.bandSums(cube, allFinite: allFinite)
        return try tissueMask(sums: sums, bands: cube.bands, invalid: invalid, fileMask: cube.mask, height: cube.height, width: cube.width)
    }

    /// Each pixel's sum over its finite values (in Double: 450 bands near Float's largest overflow
    /// Float), and whether it has a non-finite one; `allFinite` says none has (no test per value).
    static func bandSums(_ cube: SpectralCube, allFinite: Bool) -> (sums: [Double], invalid: [Bool]) {
        let plane = cube.height * cube.width
        var invalid = [Bool](repeating: false, count: plane), sums = [Double](repeating: 0, count: plane)
        cube.values.withUnsafeBufferPointer {
            addBandSums($0, bands: cube.bands, from: 0, to: &sums, invalid: &invalid, allFinite: allFinite)
        }
        return (sums, invalid)
    }

    /// Adds `values` (`bands` planes of `values.count / bands` pixels, the image's pixels from
    /// `first` on) to `sums`, marking `invalid` the pixels with a non-finite value, which add
    /// nothing; `allFinite` says none has (no test per value). Whole images and bands of rows alike.
    static func addBandSums(_ values: UnsafeBufferPointer<Float>, bands b: Int, from first: Int, to sums: inout [Double],
                            invalid: inout [Bool], allFinite: Bool = false) {
        let m = values.count / b
        sums.withUnsafeMutableBufferPointer { sum in
            for k in 0..<b {
                let band = values.baseAddress! + k * m
                if allFinite {
                    for i in 0..<m { sum[first + i] += Double(band[i]) }
                    continue
                }
                for i in 0..<m {
                    let v = band[i]
                    if v.isFinite { sum[first + i] += Double(v) } else { invalid[first + i] = true }
                }
            }
        }
    }

    /// The tissue mask of an image from each pixel's sum over its `bands` finite values: the
    /// file's own mask where it has one, else as `tissue` says; a pixel `invalid` marks (one with
    /// a non-finite value) is never tissue.
    func tissueMask(sums: [Double], bands b: Int, invalid: [Bool], fileMask: [Bool]?, height h: Int, width w: Int) throws -> Mask {
        var tissue: Mask
        if let mask = fileMask {
            tissue = try Mask(height: h, width: w, pixels: mask)
        } else {
            tissue = try computedTissue(sums: sums, bands: b, height: h, width: w)
        }
        for p in 0..<(h * w) where invalid[p] { tissue.pixels[p] = false }
        return tissue
    }

    /// The tissue mask the option `tissue` computes from each pixel's sum over its `bands` values.
    func computedTissue(sums: [Double], bands b: Int, height h: Int, width w: Int) throws -> Mask {
        try options.tissue.mask(means: sums.map { Float($0 / Double(b)) }, height: h, width: w)
    }

    /// What a Raman modality asks `axis(_:unit:wanted:excitation:)` for: the Raman shift, in cm⁻¹.
    public static let ramanShift = "Raman shift"

    /// `values` in `unit` converted to `wanted` where this reader knows how: nm or µm to cm⁻¹
    /// (10⁷/λ); for `ramanShift`, an axis in cm⁻¹ or marked Raman shift is one already, and one
    /// of wavelengths becomes 10⁷/λ₀ − 10⁷/λ with the laser's wavelength `excitation` (nm). An
    /// axis without a unit is taken as wanted.
    /// - Throws: `AxisError` for wavelengths where a Raman shift is wanted without `excitation`, a
    ///   Raman shift where wavenumbers are wanted, and any other unit (eV, pixels) for either.
    public static func axis(_ values: [Double], unit: String, wanted: String, excitation: Double? = nil) throws
        -> (values: [Double], unit: String) {
        let isRamanShift = unit.lowercased() == "raman shift"
        let nanometres: Double? = unit == "nm" ? 1 : unit == "µm" ? 1000 : nil
        if wanted == ramanShift || wanted == "cm⁻¹", !(unit.isEmpty || unit == "cm⁻¹" || isRamanShift || nanometres != nil) {
            throw AxisError("the axis's unit '\(unit)' is none this reader converts from (cm⁻¹, Raman shift, nm, µm); convert "
                            + "the axis, or mark it cm-1 if its values are wavenumbers already")
        }
        if wanted == ramanShift {
            if unit.isEmpty || unit == "cm⁻¹" || isRamanShift { return (values, "cm⁻¹") }
            guard let scale = nanometres else { return (values, unit) }
            guard let laser = excitation else {
                throw AxisError("the axis is of wavelengths in \(unit); a Raman shift needs the laser's wavelength "
                                + "(the modality option excitationWavelength, in nm; a trained run reads files with the options it was trained with)")
            }
            return (values.map { 1e7 / laser - 1e7 / ($0 * scale) }, "cm⁻¹")
        }
        if unit.isEmpty { return (values, wanted) }
        guard wanted == "cm⁻¹" else { return (values, unit) }
        if isRamanShift {  // cm⁻¹ too, but counted from the laser line: another quantity than absorption's
            throw AxisError("the axis is marked as a Raman shift, not \(wanted) of absorption: read Raman maps with a Raman "
                            + "modality (--modality raman)")
        }
        return nanometres.map { scale in (values.map { 1e7 / ($0 * scale) }, wanted) } ?? (values, unit)
    }

    /// An axis that cannot become what the modality wants.
    public struct AxisError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
