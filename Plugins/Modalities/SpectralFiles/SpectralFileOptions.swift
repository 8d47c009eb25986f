import CompSegCore
import CompSegIO
import Foundation
import SpectralPreprocessing

/// Which reader reads a spectral image file.
public enum SpectralFileFormat: String, ConfigurationChoice, Sendable {
    /// By extension and, where that is ambiguous, by content (`InstrumentFormat.detect`).
    case auto
    /// HDF5 or MATLAB v7.3, arranged as `layout` says.
    case hdf5
    /// A `.hdr` text header beside a raw binary file.
    case envi
    /// Agilent Resolutions Pro: a tile (`.dat` with its `.bsp`) or a mosaic (`.dmt` with its `.dmd` tiles).
    case agilent
    /// Renishaw WiRE `.wdf` maps.
    case wire
    /// Galactic (Thermo GRAMS) `.spc` maps: each spectrum placed by its subfile's Z and W positions.
    case spc
    /// PerkinElmer Spotlight `.fsm` images (transmittance read as absorbance).
    case fsm
    /// NumPy `.npy` arrays (height × width × bands), the axis from `STEM_wavenumbers.npy` or `wavenumbers.npy` beside.
    case numpy
    /// Text maps: long (`X Y Wave Intensity` per line) or wide (wavenumbers, then `x y I…` per pixel).
    case text
}

/// Layout `flat`'s image height or width: a number (`width: 30`), or where each file holds it: the
/// path of a dataset holding one integer (a scalar or 1-element dataset), or the name of an
/// integer attribute on the root or on the spectra dataset (`height: /data/ypixels`).
public enum ImageSizeSource: Codable, Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, CustomStringConvertible {
    case value(Int)
    case named(String)

    public init(stringLiteral name: String) { self = .named(name) }
    public init(integerLiteral value: Int) { self = .value(value) }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let value = try? c.decode(Int.self) {
            guard value >= 1, value <= 1 << 30 else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected 1 to \(1 << 30), got \(value)"))
            }
            self = .value(value)
        } else if let name = try? c.decode(String.self) {
            self = .named(name)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
                "expected a whole number, or the name of the dataset or attribute that holds it in each file"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .value(let v): try c.encode(v)
        case .named(let name): try c.encode(name)
        }
    }

    public var description: String {
        switch self {
        case .value(let v): "\(v)"
        case .named(let name): name
        }
    }
}

/// How a spectral modality reads its files: the format, the HDF5 dataset names and layout (HDF5
/// only; the other formats say where everything is), and what happens after reading, for every
/// format: non-finite values, the computed tissue mask, the preview.
public struct SpectralFileOptions: DefaultedConfiguration, ListsConfigurationKeys, Sendable, Equatable {
    public var format = SpectralFileFormat.auto
    public var spectra = "/spectra"
    public var wavenumbers = "/wavenumbers"
    /// nil: compute the tissue mask. A named mask that the file lacks is computed too.
    public var mask: String? = "/mask"
    /// How `spectra` (and `mask`) are arranged.
    public var layout: SpectralLayout = .hwb
    /// Layout `flat` only: the image height and width, each a number, or where the file holds it.
    public var height: ImageSizeSource? = nil
    public var width: ImageSizeSource? = nil
    /// What to do with NaN or infinite values in the spectra (ENVI's `data ignore value` and a
    /// mosaic's missing tiles are NaN too).
    public var nonFinite = NonFinitePolicy.error
    /// How the tissue mask is cleaned when it is computed (not when the file holds one).
    public var tissue = TissueRule()
    /// What overlays are drawn on.
    public var preview = SpectralPreview.absorbance
    /// Raman only: the laser's wavelength in nm, which turns an axis of wavelengths (nm or µm)
    /// into the Raman shift 10⁷/λ₀ − 10⁷/λ cm⁻¹; without it such an axis is refused.
    public var excitationWavelength: Double? = nil
    /// The most values (height × width × bands) an HDF5 image may declare: 2³¹ (8 GiB as
    /// float32) by default, so a file declaring an absurd size is refused before memory is taken.
    public var maximumValues = 1 << 31
    /// HDF5 values read per hyperslab (not a configuration key; tests make it small).
    public var slabValues = 1 << 22

    public init() {}

    /// PyIR's HDF5 files: `data/intensities` (pixels×B), `data/xvalues` (B),
    /// `data/ypixels` and `data/xpixels` (the size), `data/tissue_mask`.
    public static var pyir: SpectralFileOptions {
        var c = SpectralFileOptions()
        c.layout = .flat
        c.spectra = "/data/intensities"; c.wavenumbers = "/data/xvalues"; c.mask = "/data/tissue_mask"
        c.height = "/data/ypixels"; c.width = "/data/xpixels"
        return c
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case format, spectra, wavenumbers, mask, layout, height, width, nonFinite, tissue, preview, maximumValues, excitationWavelength
    }
    public static var configurationKeys: [String] { keys(of: CodingKeys.self) }
    public static var sectionKeys: [String: [String]] { ["tissue": ["threshold"]] }

    /// - Throws: `ConfigurationError` naming `source` when a value is out of range.
    public func validate(source: String) throws {
        try tissue.validate(source: source)
        guard maximumValues >= 1 else {
            throw ConfigurationError(source: source, message: "key 'maximumValues' must be positive, got \(maximumValues)")
        }
        if let laser = excitationWavelength, !(laser > 0 && laser.isFinite) {
            throw ConfigurationError(source: source, message: "key 'excitationWavelength' is the laser's wavelength in nm (e.g. 785), got \(laser)")
        }
    }
}

extension Registry {
    /// Registers a spectral modality: its configuration decoded as `SpectralFileOptions` (every
    /// key checked), then `make` builds the reader. `excitationWavelength` is refused where the
    /// reader wants no Raman shift, rather than ignored.
    public mutating func registerSpectralModality(_ info: PluginInfo,
                                                  _ make: @escaping @Sendable (SpectralFileOptions) -> any SpectralFileSource) throws {
        let ramanShift = make(SpectralFileOptions()).axisWanted == SpectralFileReader.ramanShift  // by default: for the keys offered
        try registerModality(info) {
            let options: SpectralFileOptions
            do { options = try $0.decode(SpectralFileOptions.self) } catch let error as ConfigurationError where !ramanShift {
                throw error.withoutKnownKey("excitationWavelength")  // not offered where it is refused
            }
            try options.validate(source: $0.source)
            let source = make(options)
            if options.excitationWavelength != nil && source.axisWanted != SpectralFileReader.ramanShift {
                throw ConfigurationError(source: $0.source, message: "key 'excitationWavelength' turns wavelengths into a Raman "
                                         + "shift, but \(info.identifier) reads its axis as \(source.axisWanted) (nm and µm are "
                                         + "converted without it); remove the key")
            }
            return source
        }
    }
}

/// A modality whose images are spectral files read by `SpectralFileReader` with these options
/// (what `compseg inspect` and `convert` read).
public protocol SpectralFileSource: ImageSource {
    var configuration: SpectralFileOptions { get }
    /// The axis the modality's steps expect: "cm⁻¹" (wavenumbers) or `SpectralFileReader.ramanShift`.
    var axisWanted: String { get }
}

extension SpectralFileSource {
    /// `url` and the files its format keeps beside it (`InstrumentFormat.files`).
    public func files(of url: URL) -> [URL] { InstrumentFormat.files(url) }
}
