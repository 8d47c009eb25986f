import Foundation

/// Absorbance spectra of tissue components as sums of Gaussian bands (centre and width in cm⁻¹),
/// after the band assignments usual in infrared histopathology: amide I (~1655) and II (~1545),
/// CH₂/CH₃ bending (1453, 1400), collagen's amide III triplet (1338, 1280, 1204), phosphate of
/// nucleic acids (1240, 1080) and carbohydrates (1155, 1030).
public struct TissueSpectrum: Sendable {
    public struct Band: Sendable {
        public let centre: Double, width: Double, height: Double
    }
    public let bands: [Band]

    /// Absorbance at each wavenumber.
    public func absorbance(at wavenumbers: [Double]) -> [Float] {
        wavenumbers.map { k in
            Float(bands.reduce(0) { $0 + $1.height * Foundation.exp(-0.5 * (k - $1.centre) * (k - $1.centre) / ($1.width * $1.width)) })
        }
    }

    private static func make(_ list: [(Double, Double, Double)]) -> TissueSpectrum {
        TissueSpectrum(bands: list.map { Band(centre: $0.0, width: $0.1, height: $0.2) })
    }

    /// Collagen-rich connective tissue: the amide III triplet, amide I at 1660.
    public static let stroma = make([(1660, 16, 1.0), (1548, 14, 0.55), (1453, 10, 0.20), (1400, 12, 0.18),
                                     (1338, 8, 0.12), (1280, 8, 0.10), (1240, 14, 0.18), (1204, 8, 0.10),
                                     (1155, 10, 0.05), (1080, 12, 0.08), (1030, 12, 0.12)])
    /// Cell-rich epithelium: more nucleic acid (1240, 1080) and glycogen, little collagen.
    public static let epithelium = make([(1655, 15, 1.0), (1545, 14, 0.65), (1453, 10, 0.18), (1400, 12, 0.20),
                                         (1338, 8, 0.04), (1280, 8, 0.03), (1240, 14, 0.22), (1204, 8, 0.03),
                                         (1155, 10, 0.07), (1080, 12, 0.18), (1030, 12, 0.15)])
    /// Tumor: epithelium with amide I and II shifted 4 cm⁻¹ down, the phosphate bands about 20%
    /// stronger and less glycogen — subtle next to the thickness and noise of real spots.
    public static let tumor = make([(1651, 15, 1.0), (1541, 14, 0.65), (1453, 10, 0.18), (1400, 12, 0.20),
                                    (1338, 8, 0.04), (1280, 8, 0.03), (1240, 14, 0.26), (1204, 8, 0.03),
                                    (1155, 10, 0.06), (1080, 12, 0.22), (1030, 12, 0.11)])
}
