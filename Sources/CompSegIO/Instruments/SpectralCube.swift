import Foundation

/// A spectral image as a file holds it, before any modality's preprocessing.
public struct SpectralCube: Sendable, Equatable {
    public var height: Int, width: Int, bands: Int
    /// Band-major: values[k*height*width + y*width + x]. Non-finite values are kept as read (NaN for
    /// missing pixels/tiles, and for ENVI's `data ignore value`).
    public var values: [Float]
    /// The spectral axis, one value per band, in the file's order.
    public var axis: [Double]
    /// Units of `axis` as the file says: "cm⁻¹", "nm", or "" when unknown.
    public var axisUnit: String
    /// Tissue mask if the file holds one (height*width, row-major), else nil.
    public var mask: [Bool]?
    /// Format name ("ENVI", "Agilent FPA tile", "Agilent FPA mosaic", "Renishaw WiRE", "text map (long)",
    /// "text map (wide)") and notes, e.g. an unfinished acquisition.
    public var format: String
    public var notes: [String]
    /// Something doubtful the reader found (a mask the modality names that the file lacks): the
    /// file is read as usual, and the commands name it in a warning.
    public var warning: String? = nil
    /// How the file stores the values ("float32", "uint16", "text", …); they are read as Float.
    public var dataType: String
    /// The physical size of a pixel, where the file records it (a text map's stage step, an HDF5
    /// file's `pixel_size_um`); nil otherwise.
    public var pixelSize: PixelSize? = nil

    public init(height: Int, width: Int, bands: Int, values: [Float], axis: [Double], axisUnit: String,
                mask: [Bool]? = nil, format: String, notes: [String] = [], dataType: String = "float32") {
        precondition(height > 0 && width > 0 && bands > 0 && values.count == height * width * bands && axis.count == bands,
                     "SpectralCube \(height)×\(width)×\(bands) needs \(height * width * bands) values and \(bands) axis values, got \(values.count) and \(axis.count)")
        precondition(mask.map { $0.count == height * width } ?? true, "SpectralCube mask needs \(height * width) pixels")
        (self.height, self.width, self.bands, self.values, self.axis, self.axisUnit) = (height, width, bands, values, axis, axisUnit)
        (self.mask, self.format, self.notes, self.dataType) = (mask, format, notes, dataType)
    }

    /// The value of band `k` at column `x`, row `y`.
    public subscript(band k: Int, y y: Int, x x: Int) -> Float { values[(k * height + y) * width + x] }
}

extension SpectralCube {
    /// An axis unit as a file writes it, in the spelling `axisUnit` uses: "cm⁻¹" (wavenumber,
    /// cm-1, 1/cm, …), "nm", "µm" (micrometers, microns, um), "Raman shift" (Raman Shift, rel. 1/cm,
    /// relative wavenumber), "" for none or unknown; a unit in parentheses or brackets, or after a
    /// slash, is read from there ("wavelength (nm)", "Wavenumber [cm-1]", "Wavenumber / cm-1"), and
    /// a minus sign (−) reads as a hyphen; any other text as written (e.g. "eV").
    public static func unit(written: String) -> String {
        let text = written.trimmingCharacters(in: .whitespaces)
        let lower = text.lowercased().replacingOccurrences(of: "\u{2212}", with: "-")
        if lower.hasPrefix("raman") || lower.hasPrefix("rel") && (lower.contains("cm") || lower.contains("wavenumber")) {
            return "Raman shift"
        }
        var inner: [String] = []
        for (open, close) in [("(", ")"), ("[", "]")] {
            if let o = lower.firstIndex(of: Character(open)), let c = lower.lastIndex(of: Character(close)), o < c {
                inner.append(String(lower[lower.index(after: o)..<c]))
            }
        }
        if let slash = lower.lastIndex(of: "/"), lower[..<slash].trimmingCharacters(in: .whitespaces) != "1" {
            inner.append(String(lower[lower.index(after: slash)...]))
        }
        for part in inner where ["cm⁻¹", "nm", "µm"].contains(unit(written: part)) { return unit(written: part) }
        return switch lower.trimmingCharacters(in: .whitespaces) {
        case "wavenumber", "wavenumbers", "cm-1", "cm^-1", "1/cm", "cm⁻¹", "cm**-1": "cm⁻¹"
        case "nanometers", "nanometer", "nanometres", "nanometre", "nm": "nm"
        case "micrometers", "micrometer", "micrometres", "micrometre", "microns", "micron", "um", "µm", "μm": "µm"
        case "unknown", "": ""
        default: text
        }
    }
}

/// A spectral image file opened and its header checked, its values read a region at a time (for
/// an image too large to hold whole, as `SpectralCube` holds one).
public protocol SpectralRegionFile: Sendable {
    /// The file as given.
    var url: URL { get }
    var height: Int { get }
    var width: Int { get }
    var bands: Int { get }
    /// The spectral axis in the file's order, and its unit (as `SpectralCube.axisUnit`).
    var axis: [Double] { get }
    var axisUnit: String { get }
    /// As `SpectralCube.format` and `notes`.
    var format: String { get }
    var notes: [String] { get }
    /// Rows `y ..< y + height`, columns `x ..< x + width` of every band, B×h×w channels first
    /// (NaN where the file marks a value missing).
    /// - Throws: `IOError` naming the file, for a region outside the image too.
    func region(y: Int, x: Int, height: Int, width: Int) throws -> [Float]
    /// The file's own tissue mask, H×W row-major, or nil.
    func readMask() throws -> [Bool]?
    /// Something doubtful the reader found, as `SpectralCube.warning` (given whether the file had a mask).
    func warning(maskFound: Bool) throws -> String?
    /// As `SpectralCube.pixelSize`.
    var pixelSize: PixelSize? { get }
    /// The rows the file stores together (a compressed chunk's), which a reading of whole rows
    /// should take whole; 1 where any rows read as cheaply.
    var rowsStoredTogether: Int { get }
}

extension SpectralRegionFile {
    /// The memory reading the image whole takes: its values and the copies reading and preparing them make.
    public var wholeReadBytes: Double { Double(height) * Double(width) * Double(bands) * 16 }

    /// Throws `IOError` naming the file unless rows `y ..< y + h`, columns `x ..< x + w` lie inside the image.
    public func requireInside(y: Int, x: Int, height h: Int, width w: Int) throws {
        guard y >= 0, x >= 0, h > 0, w > 0, y + h <= height, x + w <= width else {
            throw IOError(file: url.path, "rows \(y)..<\(y + h), columns \(x)..<\(x + w) do not lie inside the image's \(height)×\(width)")
        }
    }

    /// How many whole rows a reading in bands takes at a time: a multiple of `unit` rows (an
    /// output's chunks) and of `rowsStoredTogether` (the file's chunks, so that none is
    /// decompressed once for each part read) where a band of both takes at most 128 Mi values
    /// (512 MB), else of `unit` alone; as many such as `slabValues` values allow, one at least.
    public func rowsPerRead(slabValues: Int, unit: Int = 1) -> Int {
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let rowValues = max(1, width * bands), together = max(1, rowsStoredTogether), unit = max(1, unit)
        let both = unit / gcd(unit, together) * together
        let step = both <= (1 << 27) / rowValues ? both : unit
        return max(step, slabValues / rowValues / step * step)
    }

    public func readMask() throws -> [Bool]? { nil }
    public func warning(maskFound: Bool) throws -> String? { nil }
    public var rowsStoredTogether: Int { 1 }
}

extension SpectralRegionFile {
    /// None recorded, unless the format says otherwise.
    public var pixelSize: PixelSize? { nil }
}
