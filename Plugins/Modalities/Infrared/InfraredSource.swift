import CompSegCore
import Foundation
import SpectralFiles

/// Hyperspectral infrared images, one sample per file, in any format `SpectralFileReader` reads:
/// HDF5 and MATLAB v7.3 (`/spectra` H×W×B, `/wavenumbers` in cm⁻¹, optional `/mask`, or the
/// layouts of `SpectralLayout`), ENVI, Agilent FPA tiles and mosaics, Renishaw WiRE, Galactic SPC,
/// NumPy and text maps, told apart by extension and content unless `format` names one. An axis in nm or µm
/// becomes cm⁻¹. Without a mask in the file, tissue is where the integrated absorbance exceeds
/// Otsu's threshold, cleaned by `tissue`. NaN or infinite values are an error, or
/// (`nonFinite: zero`) zeros outside the tissue. The preview is chosen by `preview`.
public struct InfraredSource: SpectralFileSource, ReportsConfiguration {
    public typealias Configuration = SpectralFileOptions

    public static let info = PluginInfo(
        "infrared", aliases: ["ir", "ftir"],
        summary: "hyperspectral infrared images: HDF5/MATLAB v7.3, ENVI, Agilent FPA tiles and mosaics, Renishaw WiRE (not Raman-shift maps), Galactic SPC, PerkinElmer FSM, NumPy .npy, text maps")

    public static func register(in registry: inout Registry) throws {
        try registry.registerSpectralModality(info) { InfraredSource($0) }
    }

    public let configuration: Configuration
    public init(_ configuration: Configuration = .init()) { self.configuration = configuration }

    public var axisWanted: String { "cm⁻¹" }

    /// The reader's settings but `excitationWavelength`, which only Raman takes.
    public var configurationValue: JSONValue? {
        guard case .object(var keys)? = Self.everyKey(of: configuration) else { return nil }
        keys["excitationWavelength"] = nil
        return .object(keys)
    }

    public func load(_ url: URL, label: SampleLabel?) throws -> Sample {
        try SpectralFileReader(configuration).sample(url, label: label, axisUnit: axisWanted)
    }
}

/// HDF5, ENVI, Agilent mosaic and NumPy files are read region by region (`SpectralRegions`), the other formats whole.
extension InfraredSource: RegionImageSource {}
