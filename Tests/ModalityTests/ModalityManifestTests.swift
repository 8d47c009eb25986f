import BuiltinModalities
import CompSegCore
import CompSegTraining
import Foundation
import InfraredModality
import SpectralFiles
import Phantoms
import SpectralPreprocessing
import Testing

/// Modality manifests (`modalities/*.yaml`, a user's own file), the preprocessing chain they
/// describe, its fit on training data and its exact re-application from `model.json`.
@Suite struct ModalityManifestTests {
    static func registry() throws -> Registry {
        var r = Registry()
        try InfraredSource.register(in: &r)
        try SpectralSteps.register(in: &r)
        return r
    }

    func write(_ text: String, _ name: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test func builtinInfraredManifestBuilds() throws {
        let url = try #require(BuiltinModalities.manifests["infrared"])
        let manifest = try ModalityManifest(contentsOf: url)
        #expect(manifest.reader == "infrared" && manifest.name == "infrared")
        #expect(manifest.preprocessing.map(\.identifier) == ["crop", "normalize", "pca"])
        let prepared = try PreparedModality(manifest, registry: Self.registry())
        let reader = try #require(prepared.reader as? InfraredSource)
        #expect(reader.configuration.tissue.removeSpecksSmallerThan == 16 && reader.configuration.preview == .absorbance)
        #expect(try ModalityManifest.resolve("infrared", builtin: BuiltinModalities.manifests, registry: Self.registry()) == manifest)
    }

    /// Every manifest in `modalities/` is named in Package.swift, so it ships with the tool.
    @Test func everyManifestInTheFolderShips() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("modalities").path)
            .filter { $0.hasSuffix(".yaml") }
        #expect(!files.isEmpty)
        for file in files {
            #expect(BuiltinModalities.manifests[String(file.dropLast(5)).lowercased()] != nil,
                    "modalities/\(file) is not named in Package.swift's modalityManifests")
        }
    }

    @Test func resolveTakesFilesManifestsAndReaders() throws {
        let registry = try Self.registry()
        let lab = try write("reader: ir\noptions: {layout: bhw}\npreprocessing:\n  - normalize: {method: snv}\n  - rubberBand\n", "lab.yaml")
        let fromFile = try ModalityManifest.resolve(lab.path, builtin: [:], registry: registry)
        #expect(fromFile.name == "lab" && fromFile.reader == "ir" && fromFile.options == ["layout": "bhw"])
        #expect(fromFile.preprocessing == [PluginDescription(identifier: "normalize", configuration: ["method": "snv"]),
                                           PluginDescription(identifier: "rubberBand")])
        _ = try PreparedModality(fromFile, registry: registry)
        let bare = try ModalityManifest.resolve("FTIR", builtin: [:], registry: registry)  // a reader's alias
        #expect(bare.reader == "infrared" && bare.preprocessing.isEmpty)
        #expect(throws: RegistryError.self) { try ModalityManifest.resolve("raman", builtin: [:], registry: registry) }
        do { _ = try ModalityManifest.resolve("nmr", builtin: [:], registry: registry); Issue.record("nmr resolved") } catch {
            #expect("\(error)".contains("unknown modality 'nmr': not a manifest file, and not one of infrared (or ir, ftir)"), "\(error)")
        }
        // A misspelt name, a manifest's or a reader's, is suggested.
        for (typed, meant) in [("infrard", "infrared"), ("lab-flou", "lab-fluo"), ("ftr", "ftir")] {
            do { _ = try ModalityManifest.resolve(typed, builtin: ["lab-fluo": lab], registry: registry); Issue.record("\(typed) resolved") } catch {
                #expect("\(error)".hasPrefix("unknown modality '\(typed)': did you mean '\(meant)'? not a manifest file"), "\(error)")
            }
        }
    }

    @Test func mistakesNameTheFileAndTheKey() throws {
        let registry = try Self.registry()
        func message(_ text: String) throws -> String {
            let url = try write(text, "bad.yaml")
            do { _ = try PreparedModality(ModalityManifest(contentsOf: url), registry: registry) } catch {
                let m = "\(error)"
                #expect(m.contains(url.path), "\(m)")
                return m
            }
            Issue.record("no error for \(text)")
            return ""
        }
        #expect(try message("reader: infrared\npreprocesing: []\n").contains("unknown key 'preprocesing'"))
        #expect(try message("options: {}\n").contains("missing key 'reader'"))
        #expect(try message("reader: infrared\npreprocessing:\n  - {pca: {components: 4}, crop: {lower: 1, upper: 2}}\n")
            .contains("preprocessing step 1 must be a step name or a mapping with one key"))
        #expect(try message("reader: infrared\npreprocessing:\n  - crop: {lower: 900, upper: 1800}\n  - smooth: {}\n")
            .contains("preprocessing step 2: unknown preprocessing step 'smooth'"))
        #expect(try message("reader: infrared\npreprocessing:\n  - pca: {components: 4, whitening: true}\n")
            .contains("preprocessing step 1 'pca': unknown key 'whitening'"))
        // A key the step does not take is named before the key it misses, with the keys it takes.
        #expect(try message("reader: infrared\npreprocessing:\n  - pca: {n: 4}\n")
            .contains("preprocessing step 1 'pca': unknown key 'n'; known keys: components, fitPixels, whiten"))
        #expect(try message("reader: infrared\npreprocessing:\n  - crop: {from: 900, upper: 1800}\n")
            .contains("preprocessing step 1 'crop': unknown key 'from'; known keys: lower, upper"))
        #expect(try message("reader: infrared\npreprocessing:\n  - resample: {n: 4}\n")
            .contains("preprocessing step 1 'resample': unknown key 'n'; known keys: count, from, to, values"))
        #expect(try message("reader: infrared\npreprocessing:\n  - savitzkyGolay: {n: 4}\n")
            .contains("preprocessing step 1 'savitzkyGolay': unknown key 'n'; known keys: derivative, order, window"))
        #expect(try message("reader: infrared\noptions: {layot: hwb}\n").contains("options: unknown key 'layot'"))
        #expect(try message("reader: nmr\n").contains("key 'reader': unknown modality 'nmr'"))
        #expect(try message("reader: 5\n").contains("key 'reader' is 5; expected the identifier of a modality reader, as text"))
    }

    /// Phantom files → the chain fitted on training rows → descriptions through JSON → the same
    /// network input for every sample, as `segment` rebuilds it from `model.json`.
    @Test func fittedChainIsSavedAndReappliedExactly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        var settings = InfraredPhantom.Settings()
        settings.spots = 6; settings.size = 16; settings.bands = 60
        let manifestURL = try InfraredPhantom(settings).write(to: folder)
        let data = try Manifest(contentsOf: manifestURL)
        let lab = try write("""
            reader: infrared
            preprocessing:
              - crop: {lower: 1000, upper: 1700}
              - normalize: {method: vector}
              - pca: {components: 5, fitPixels: 500}
            """, "lab.yaml")
        let registry = try Self.registry()
        let fitted = try PreparedModality(ModalityManifest(contentsOf: lab), registry: registry)
            .fitted(on: data.rows(in: .train), manifest: data)
        let pca = try JSONDecoder().decode(PCAStep.self, from: fitted.manifest.preprocessing[2].configuration.data)
        // 60 bands from 1800 down to 948 cm⁻¹ (spacing 852/59): bands 7…55 lie in 1000…1700.
        #expect(pca.fit?.count == 5 && pca.fit?.bands == 49)
        // More components than the cropped spectra have bands: named by the manifest and the step's place.
        let many = try write("reader: infrared\npreprocessing:\n  - crop: {lower: 1000, upper: 1700}\n  - pca: {components: 50}\n", "many.yaml")
        do {
            _ = try PreparedModality(ModalityManifest(contentsOf: many), registry: registry).fitted(on: data.rows(in: .train), manifest: data)
            Issue.record("50 components of 49 bands were not refused")
        } catch {
            #expect("\(error)" == "\(many.path): preprocessing step 2 'pca': components is 50, and the spectra have 49 bands; expected 49 or fewer")
        }
        let store = try fitted.store(data.rows, manifest: data)
        let samples = try store.samples(Array(0..<store.count))
        #expect(samples.allSatisfy { $0.image.shape.dims == [5, 16, 16] && $0.channels == .bands(["PC1", "PC2", "PC3", "PC4", "PC5"]) })

        // Through model.json's form: every step's fitted values, rebuilt by the registry.
        let model = RunConfiguration(modality: fitted.manifest, topology: .init(identifier: "unet"), head: .init(identifier: "compsegnet"),
                                     inputChannels: 5, training: TrainingSettings())
        let decoded = try RunConfiguration(modelJSON: JSONEncoder().encode(model), file: "model.json")
        let rebuilt = try decoded.preparedModality(registry: registry, file: "model.json")
        let uncached = try rebuilt.store(data.rows, manifest: data, cacheBudget: 0)
        #expect(uncached.cachedCount == 0)
        let again = try uncached.samples(Array(0..<uncached.count))
        #expect(zip(samples, again).allSatisfy { $0.image.scalars == $1.image.scalars && $0.tissue == $1.tissue })

        // Whitened: unit variance of each component over the training tissue pixels (up to the subsample).
        let train = samples.filter { $0.metadata["split"] == "train" }
        for c in 0..<5 {
            var values: [Double] = []
            for s in train {
                let plane = s.height * s.width
                for p in 0..<plane where s.tissue.pixels[p] { values.append(Double(s.image.scalars[c * plane + p])) }
            }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
            // The fit saw a 500-pixel subsample, so the full training tissue's variance is near 1, not exactly 1.
            #expect(abs(variance - 1) < 0.25, "component \(c + 1): variance \(variance)")
        }
    }

    /// A phantom of `spots` 8×8 spots of 20 bands in `folder`: its manifest.
    static func smallPhantom(spots: Int, in folder: URL) throws -> Manifest {
        var settings = InfraredPhantom.Settings()
        settings.spots = spots; settings.size = 8; settings.bands = 20
        return try Manifest(contentsOf: InfraredPhantom(settings).write(to: folder))
    }

    /// Fitting stops at the first unreadable training file, then names every one.
    @Test func fittingListsEveryUnreadableTrainingFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try Self.smallPhantom(spots: 8, in: folder)
        let rows = data.rows(in: .train)
        for row in [rows[0], rows[2]] { try Data(try Data(contentsOf: row.path).prefix(300)).write(to: row.path) }
        let error = Self.pcaFitError(rows, data), text = "\(error.map { "\($0)" } ?? "no error")"
        #expect(error is ManifestError && text.contains("2 problems") && text.contains("line \(rows[0].line):")
                    && text.contains("line \(rows[2].line):") && text.contains(rows[2].path.path), "\(text)")
    }

    /// Training samples without tissue are named, each by its line, rather than left to the fit,
    /// which finds no pixels to fit on.
    @Test func fittingOnSamplesWithoutTissueNamesThem() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try Self.smallPhantom(spots: 6, in: folder)
        let rows = data.rows(in: .train)
        // No mask in the files by that name; the computed one's threshold lies above every pixel.
        let error = Self.pcaFitError(options: ["mask": "/none", "tissue": ["method": "above", "threshold": 1e9]], rows, data)
        let text = "\(error.map { "\($0)" } ?? "no error")"
        #expect(error is ManifestError && !text.contains("PCA")
                    && rows.allSatisfy { text.contains("line \($0.line): sample \(Sample.id(of: $0.path)) has an empty tissue mask") }, "\(text)")
    }

    /// The error of fitting a 3-component PCA on `rows` of `data`, read with the infrared reader's `options`.
    static func pcaFitError(options: JSONValue = [:], _ rows: [Manifest.Row], _ data: Manifest) -> Error? {
        let manifest = ModalityManifest(name: "lab", reader: "infrared", options: options,
                                        preprocessing: [PluginDescription(identifier: "pca", configuration: ["components": 3])],
                                        source: "lab.yaml")
        do { _ = try PreparedModality(manifest, registry: registry()).fitted(on: rows, manifest: data) } catch { return error }
        return nil
    }

    /// A step that refuses training samples (their axis does not reach resample's range) names
    /// every one, not only the first the fit met, and the validation rows it would refuse with them.
    @Test func fittingNamesEveryRowAStepRefuses() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        var settings = InfraredPhantom.Settings()
        settings.spots = 4; settings.size = 8; settings.bands = 20
        let wide = try Manifest(contentsOf: InfraredPhantom(settings).write(to: folder.appendingPathComponent("wide")))
        settings.from = 1700; settings.to = 1000
        let narrow = try Manifest(contentsOf: InfraredPhantom(settings).write(to: folder.appendingPathComponent("narrow")))
        let lines = (wide.rows + narrow.rows).enumerated().map { i, row in
            "\(row.path.path),\(row.label == .cancer ? 1 : 0),\(i >= wide.rows.count + 2 ? "val" : "train")"
        }
        try Data((["path,label,split"] + lines).joined(separator: "\n").utf8).write(to: folder.appendingPathComponent("both.csv"))
        let data = try Manifest(contentsOf: folder.appendingPathComponent("both.csv"))
        let manifest = ModalityManifest(name: "lab", reader: "infrared",
                                        preprocessing: [PluginDescription(identifier: "resample", configuration: ["from": 1750, "to": 990, "count": 10]),
                                                        PluginDescription(identifier: "pca", configuration: ["components": 3])],
                                        source: "lab.yaml")
        #expect {
            _ = try PreparedModality(manifest, registry: Self.registry()).fitted(on: data.rows(in: .train), manifest: data,
                                                                                 alsoChecking: data.rows(in: .val))
        } throws: { error in
            let problems = (error as? ManifestError)?.problems ?? []
            return problems.count == narrow.rows.count && data.rows(in: .val).count == narrow.rows.count - 2 && problems.allSatisfy { $0.contains("step 'resample'") }
                && problems.first?.hasPrefix("line \(wide.rows.count + 2): ") == true
        }
    }

    @Test func spectralStepAfterPCAIsRefusedNamingTheSample() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        var settings = InfraredPhantom.Settings()
        settings.spots = 4; settings.size = 8; settings.bands = 20
        let data = try Manifest(contentsOf: InfraredPhantom(settings).write(to: folder))
        let manifest = ModalityManifest(name: "lab", reader: "infrared",
                                        preprocessing: [PluginDescription(identifier: "pca", configuration: ["components": 3]),
                                                        PluginDescription(identifier: "normalize", configuration: ["method": "snv"])],
                                        source: "lab.yaml")
        do {
            _ = try PreparedModality(manifest, registry: Self.registry()).fitted(on: data.rows(in: .train), manifest: data)
                .store(data.rows, manifest: data)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("step 'normalize' needs spectral channels; this sample's are 3 bands PC1, PC2, PC3: "
                                         + "put spectral steps before 'pca'"), "\(error)")
        }
    }

    /// A step whose arithmetic overflows (a baseline's lambda of 1e16) is named, as the samples are
    /// fitted and prepared, rather than left to end training with a NaN loss.
    @Test func aStepThatMakesNaNIsNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        var settings = InfraredPhantom.Settings()
        settings.spots = 4; settings.size = 8; settings.bands = 20
        let data = try Manifest(contentsOf: InfraredPhantom(settings).write(to: folder))
        for steps in [[PluginDescription(identifier: "als", configuration: ["lambda": 1e16])],
                      [PluginDescription(identifier: "als", configuration: ["lambda": 1e16]), PluginDescription(identifier: "pca", configuration: ["components": 3])]] {
            let manifest = ModalityManifest(name: "lab", reader: "infrared", preprocessing: steps, source: "lab.yaml")
            #expect {
                _ = try PreparedModality(manifest, registry: Self.registry()).fitted(on: data.rows(in: .train), manifest: data)
                    .store(data.rows, manifest: data)
            } throws: { error in
                "\(error)".contains("lab.yaml: preprocessing step 1 'als' made NaN values on the tissue: a setting beyond")
            }
        }
    }

    /// A model.json whose PCA fit was cut short or edited is refused, never read past its arrays.
    @Test func aShortPCAFitIsRefused() throws {
        let registry = try Self.registry()
        let short: JSONValue = ["components": 2, "fit": ["mean": [0, 0, 0], "components": [1, 0, 0], "variances": [1, 1]]]
        #expect {
            try registry.transform("pca", PluginConfiguration(json: short.data, source: "model.json: pca"))
        } throws: { "\($0)".contains("'fit' holds 3 component values for 2 components of 3 bands") }
    }
}
