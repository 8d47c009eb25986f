import CompSegCore
import Foundation
import SpectralFiles

/// Raman maps, one sample per file, in any format `SpectralFileReader` reads: Renishaw WiRE
/// `.wdf` and its text export, ENVI, HDF5 (`/spectra` H×W×B with the Raman shifts in
/// `/wavenumbers`), Agilent and other text maps, told apart by extension and content unless
/// `format` names one. The axis is the Raman shift in cm⁻¹ (an axis of wavelengths becomes one
/// with the option `excitationWavelength`, the laser's in nm). Without a mask in the file, tissue is
/// where the mean intensity exceeds Otsu's threshold, cleaned by `tissue`. What makes a map Raman
/// is its preprocessing (`modalities/raman.yaml`: despiking, a fluorescence baseline).
public struct RamanSource: SpectralFileSource, ReportsConfiguration {
    public typealias Configuration = SpectralFileOptions

    public static let info = PluginInfo(
        "raman", summary: "Raman maps: Renishaw WiRE (.wdf, text export), Galactic SPC, ENVI, HDF5, Agilent FPA, NumPy .npy, text maps; Raman shift in cm⁻¹")

    public static func register(in registry: inout Registry) throws {
        try registry.registerSpectralModality(info) { RamanSource($0) }
    }

    public let configuration: Configuration
    public init(_ configuration: Configuration = .init()) { self.configuration = configuration }

    public var axisWanted: String { SpectralFileReader.ramanShift }

    public func load(_ url: URL, label: SampleLabel?) throws -> Sample {
        try SpectralFileReader(configuration).sample(url, label: label, axisUnit: axisWanted)
    }
}

/// HDF5, ENVI, Agilent mosaic and NumPy files are read region by region (`SpectralRegions`), the other formats whole.
extension RamanSource: RegionImageSource {}
