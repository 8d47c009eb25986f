import BuiltinModalities
import CompSegCore
import CompSegIO
import CompSegTestSupport
import CompSegTraining
import Foundation
import InfraredModality
import Phantoms
import RamanModality
import SpectralFiles
import SpectralPreprocessing
import Testing

/// The infrared modality over every instrument format: readers chosen by extension and content,
/// axes in cm⁻¹, non-finite values by policy, and `convert`'s canonical HDF5 reading back the same.
@Suite struct SpectralFilesTests {
    static func instruments(_ name: String) -> URL { fixturesDirectory.appendingPathComponent("instruments/\(name)") }

    static func temporary() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-spectral-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Writes an H×W×B (pixel-major) cube as ENVI: float32 little-endian band-sequential and a header in cm⁻¹.
    static func writeENVI(_ spectra: [Float], height h: Int, width w: Int, axis: [Double], to url: URL) throws {
        let b = axis.count
        var bsq = [Float](repeating: 0, count: spectra.count)
        for p in 0..<h * w { for k in 0..<b { bsq[k * h * w + p] = spectra[p * b + k] } }
        try bsq.withUnsafeBytes { Data($0) }.write(to: url.appendingPathExtension("img"))
        let header = """
            ENVI
            samples = \(w)
            lines = \(h)
            bands = \(b)
            header offset = 0
            data type = 4
            interleave = bsq
            byte order = 0
            wavelength units = Wavenumber
            wavelength = {\(axis.map { "\($0)" }.joined(separator: ", "))}
            """
        try Data(header.utf8).write(to: url.appendingPathExtension("hdr"))
    }

    @Test func theInfraredModalityReadsEveryFormat() throws {
        let source = InfraredSource()
        for name in ["agilent/4_noimage_agg256.dat", "agilent/5_mosaic_agg1024.dmt", "envi/t4_bsq_le.hdr",
                     "text/map-long-wire.txt", "text/map-wide.xyz"] {
            let cube = try InstrumentFormat.read(Self.instruments(name))
            let sample = try source.load(Self.instruments(name), label: .cancer)
            #expect(sample.image.shape.dims == [cube.bands, cube.height, cube.width], "\(name)")
            #expect(sample.image.scalars == cube.values && sample.metadata["format"] == cube.format, "\(name)")
            guard case .spectral(let axis, let unit) = sample.channels else { Issue.record("\(name): no spectral axis"); continue }
            #expect(axis == cube.axis && unit == "cm⁻¹", "\(name): \(unit)")
        }
        // An axis in nm becomes wavenumbers: 1e7 / λ.
        let nm = try source.load(Self.instruments("envi/t13_bsq_le.hdr"), label: nil)
        guard case .spectral(let axis, "cm⁻¹") = nm.channels else { Issue.record("\(nm.channels)"); return }
        #expect(axis.first == 1e7 / 900 && axis.last == 1e7 / 950)
        // A WiRE map's axis is marked a Raman shift (its unit code 1): the Raman modality reads it
        // as its cm⁻¹, the infrared one refuses it, as it does an ENVI or SPC Raman shift.
        let wire = Self.instruments("wire/Si-map-trimmed.wdf")
        let raman = try RamanSource().load(wire, label: nil)
        guard case .spectral(let shift, "cm⁻¹") = raman.channels else { Issue.record("\(raman.channels)"); return }
        #expect(shift == (try InstrumentFormat.read(wire)).axis)
        #expect { _ = try source.load(wire, label: nil) } throws: { "\($0)".contains("the axis is marked as a Raman shift") }
    }

    /// An HDF5 axis says its unit in a `units` attribute (as `convert` writes it): nm becomes
    /// wavenumbers; without the attribute the axis is taken as cm⁻¹.
    @Test func hdf5AxesFollowTheirUnitsAttribute() throws {
        let folder = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: folder) }
        func write(_ name: String, units: String?) throws -> URL {
            let url = folder.appendingPathComponent(name)
            let writer = try HDF5Writer(url: url)
            try writer.write("/spectra", shape: [2, 3, 4], values: (0..<24).map { Float($0 % 5) + 1 })
            try writer.write("/wavenumbers", shape: [4], values: [900.0, 910, 920, 950])
            if let units { try writer.setAttribute("units", units, on: "/wavenumbers") }
            try writer.close()
            return url
        }
        // inspect notes an axis that turns or repeats a value.
        for (axis, note) in [([900.0, 950, 920, 910], "it turns at band 1 (950.0)"), ([900.0, 910, 900, 950], "holds 900.0 at bands 0 and 2")] {
            let url = folder.appendingPathComponent("odd.h5")
            let writer = try HDF5Writer(url: url)
            try writer.write("/spectra", shape: [2, 3, 4], values: (0..<24).map { Float($0 % 5) + 1 })
            try writer.write("/wavenumbers", shape: [4], values: axis)
            try writer.close()
            let notes = try SpectralFileReader().summary(url).notes
            #expect(notes.contains { $0.contains(note) }, "\(notes)")
            // Read as a sample, an axis that turns is used as written, with a warning (a repeat is refused).
            if note.hasPrefix("it turns") {
                let warning = try InfraredSource().load(url, label: nil).metadata[Sample.warningKey]
                #expect(warning?.contains("its spectral axis is neither ascending nor descending: it turns at band 1 (950.0)") == true, "\(warning ?? "none")")
            }
        }
        for (units, expected) in [("nm", [1e7 / 900, 1e7 / 950]), ("Nanometers", [1e7 / 900, 1e7 / 950]),
                                  ("wavelength (nm)", [1e7 / 900, 1e7 / 950]), ("Wavenumber [cm-1]", [900, 950]),
                                  ("Wavenumber / cm-1", [900, 950]), ("cm\u{2212}1", [900, 950]),
                                  ("cm-1", [900, 950]), (nil, [900, 950])] as [(String?, [Double])] {
            let sample = try InfraredSource().load(write("axis.h5", units: units), label: nil)
            guard case .spectral(let axis, "cm⁻¹") = sample.channels else { Issue.record("\(units ?? "none"): \(sample.channels)"); continue }
            #expect([axis.first!, axis.last!] == expected, "\(units ?? "none")")
        }
        // A float mask marking background with NaN is refused (NaN is not 0: it would mark tissue).
        let nanMask = folder.appendingPathComponent("nanmask.h5")
        let maskWriter = try HDF5Writer(url: nanMask)
        try maskWriter.write("/spectra", shape: [2, 3, 4], values: (0..<24).map { Float($0 % 5) + 1 })
        try maskWriter.write("/wavenumbers", shape: [4], values: [900.0, 910, 920, 950])
        try maskWriter.write("/mask", shape: [2, 3], values: [1, .nan, 1, 1, .nan, 1] as [Float])
        try maskWriter.close()
        #expect { _ = try InfraredSource().load(nanMask, label: nil) } throws: {
            "\($0)".contains("dataset '/mask' holds nan at value 1 (of 6); a mask holds 0 (background) and non-zero (tissue) numbers")
        }
        // A unit that is not a string is refused, naming the attribute, rather than guessed as cm⁻¹.
        let numeric = folder.appendingPathComponent("numeric.h5")
        let writer = try HDF5Writer(url: numeric)
        try writer.write("/spectra", shape: [2, 3, 4], values: (0..<24).map { Float($0 % 5) + 1 })
        try writer.write("/wavenumbers", shape: [4], values: [900.0, 910, 920, 950])
        try writer.setAttribute("unit", 7, on: "/wavenumbers")
        try writer.close()
        #expect {
            _ = try InfraredSource().load(numeric, label: nil)
        } throws: { error in
            "\(error)".contains(numeric.path) && "\(error)".contains("attribute 'unit' on '/wavenumbers' is not a string (the axis's unit")
        }
    }

    /// A Raman axis of wavelengths becomes the Raman shift with the laser's wavelength, and is
    /// refused without it (naming the option); inspect notes it rather than failing.
    @Test func ramanWavelengthsNeedTheLaser() throws {
        let url = Self.instruments("envi/t13_bsq_le.hdr")  // wavelengths 900…950 nm
        #expect {
            _ = try RamanSource().load(url, label: nil)
        } throws: { error in
            "\(error)".contains(url.path) && "\(error)".contains("the axis is of wavelengths in nm; a Raman shift needs the laser's "
                                                                + "wavelength (the modality option excitationWavelength, in nm; a trained run reads files with the options it was trained with)")
        }
        var options = SpectralFileOptions()
        options.excitationWavelength = 785
        let sample = try RamanSource(options).load(url, label: nil)
        guard case .spectral(let axis, "cm⁻¹") = sample.channels else { Issue.record("\(sample.channels)"); return }
        #expect(Swift.abs(axis.first! - (1e7 / 785 - 1e7 / 900)) < 1e-9 && Swift.abs(axis.last! - (1e7 / 785 - 1e7 / 950)) < 1e-9)
        let summary = try SpectralFileReader().summary(url, axisUnit: SpectralFileReader.ramanShift)
        #expect(summary.readUnit == "nm" && summary.notes.contains { $0.contains("excitationWavelength") })
        // Wavenumbers, or an axis marked Raman shift, are a Raman shift already.
        #expect(try SpectralFileReader.axis([100, 200], unit: "cm⁻¹", wanted: SpectralFileReader.ramanShift) == ([100, 200], "cm⁻¹"))
        #expect(try SpectralFileReader.axis([100, 200], unit: "Raman Shift", wanted: SpectralFileReader.ramanShift) == ([100, 200], "cm⁻¹"))
        // An axis marked Raman shift is refused where wavenumbers of absorption are wanted (infrared).
        #expect {
            _ = try SpectralFileReader.axis([100, 200], unit: "Raman Shift", wanted: "cm⁻¹")
        } throws: { error in
            "\(error)".contains("the axis is marked as a Raman shift") && "\(error)".contains("--modality raman")
        }
    }

    /// A mosaic's missing tile is NaN: refused by default, naming the count and the option;
    /// with `nonFinite: zero` its pixels are 0 and never tissue.
    @Test func missingTilesFollowTheNonFinitePolicy() throws {
        let url = Self.instruments("agilent/partial/5_mosaic_agg1024.dmt")
        #expect {
            _ = try InfraredSource().load(url, label: nil)
        } throws: { error in
            "\(error)".contains("144 NaN or infinite values") && "\(error)".contains("nonFinite: zero") && "\(error)".contains(url.path)
        }
        var options = SpectralFileOptions()
        options.nonFinite = .zero
        options.mask = nil
        let sample = try InfraredSource(options).load(url, label: nil)
        let plane = 64
        let missing = (0..<plane).filter { sample.image.scalars[$0] == 0 && sample.image.scalars[plane + $0] == 0 }
        #expect(missing.count == 16 && missing.allSatisfy { !sample.tissue.pixels[$0] })
    }

    /// `format` forces a reader; a file of another format is refused by it, naming the file.
    @Test func aNamedFormatForcesItsReader() throws {
        var options = SpectralFileOptions()
        options.format = .wire
        #expect(throws: IOError.self) { try SpectralFileReader(options).cube(Self.instruments("envi/t4_bsq_le.img")) }
        options.format = .envi
        #expect(try SpectralFileReader(options).cube(Self.instruments("envi/t4_bsq_le.img")).format == "ENVI")
    }

    /// Phantom spots as ENVI files, and the same converted to canonical HDF5: the infrared
    /// manifest's chain, fitted on each set of training files, prepares exactly the same samples,
    /// so `train --modality infrared` learns the same from either.
    @Test func convertedFilesPrepareExactlyAsTheOriginals() throws {
        let folder = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: folder) }
        var settings = InfraredPhantom.Settings()
        settings.spots = 6; settings.size = 16; settings.bands = 60
        let phantom = InfraredPhantom(settings)
        let manifest = try ModalityManifest(contentsOf: #require(BuiltinModalities.manifests["infrared"]))
        // `compseg convert --modality infrared` converts with the manifest's reader options (its tissue rule).
        let reader = SpectralFileReader(try manifest.readerConfiguration.decode(SpectralFileOptions.self))
        var envi = ["path,label,split"], canonical = envi
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("converted"), withIntermediateDirectories: true)
        for i in 0..<settings.spots {
            let spot = phantom.spot(i)
            let base = folder.appendingPathComponent(spot.id)
            try Self.writeENVI(spot.spectra, height: 16, width: 16, axis: phantom.wavenumbers, to: base)
            let converted = folder.appendingPathComponent("converted/\(spot.id).h5")
            try reader.convert(base.appendingPathExtension("hdr"), to: converted, axisUnit: "cm⁻¹")
            let label = spot.label == .cancer ? 1 : 0
            envi.append("\(spot.id).hdr,\(label),\(spot.split.rawValue)")
            canonical.append("converted/\(spot.id).h5,\(label),\(spot.split.rawValue)")
        }
        func prepared(_ lines: [String], _ name: String) throws -> [Sample] {
            let url = folder.appendingPathComponent(name)
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
            let data = try Manifest(contentsOf: url)
            var registry = Registry()
            try InfraredSource.register(in: &registry)
            try SpectralSteps.register(in: &registry)
            let modality = try PreparedModality(manifest, registry: registry).fitted(on: data.rows(in: .train), manifest: data)
            let store = try modality.store(data.rows, manifest: data)
            return try store.samples(Array(0..<store.count))
        }
        let (a, b) = (try prepared(envi, "envi.csv"), try prepared(canonical, "canonical.csv"))
        #expect(a.count == 6 && a.map(\.id) == b.map(\.id))
        #expect(zip(a, b).allSatisfy { $0.image.scalars == $1.image.scalars && $0.tissue == $1.tissue && $0.channels == $1.channels })
        #expect(a.contains { $0.tissue.pixels.contains(true) })
        // Nothing is overwritten without asking.
        #expect(throws: IOError.self) {
            try reader.convert(folder.appendingPathComponent("\(phantom.spot(0).id).hdr"),
                                             to: folder.appendingPathComponent("converted/\(phantom.spot(0).id).h5"), axisUnit: "cm⁻¹")
        }
    }

    /// An HDF5 file declaring 2⁴⁰×450 values (never written, so it is 6 KB) is refused before
    /// anything is allocated, naming the limit and the option that raises it.
    @Test func absurdDeclaredSizesAreRefusedBeforeAllocating() throws {
        let url = fixturesDirectory.appendingPathComponent("infrared/huge_declared.h5")
        #expect {
            _ = try InfraredSource().load(url, label: nil)
        } throws: { error in
            "\(error)".contains("declares 1048576×1048576×450 values, more than the limit") && "\(error)".contains("maximumValues")
        }
    }
}
