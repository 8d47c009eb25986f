import AlternativeHeads
import BuiltinModalities
import CompSegCore
import CompSegNetHead
import HEModality
import InfraredModality
import RamanModality
import SegNetTopology
import SpectralPreprocessing
import UNetTopology

/// The one place that registers the plugins built into the `compseg` tool.
public func builtinRegistry() throws -> Registry {
    var registry = Registry()
    try InfraredSource.register(in: &registry)
    try RamanSource.register(in: &registry)
    try HESource.register(in: &registry)
    try SpectralSteps.register(in: &registry)
    try HESteps.register(in: &registry)
    try UNet.register(in: &registry)
    try SegNet.register(in: &registry)
    try CompSegNetHead.register(in: &registry)
    try TrapezoidHead.register(in: &registry)
    try SizeHead.register(in: &registry)
    try LSEHead.register(in: &registry)
    try TopKHead.register(in: &registry)
    return registry
}

/// What `--modality` names: a manifest file, a manifest in `modalities/`, or a reader plugin.
public func resolveModality(_ argument: String, registry: Registry) throws -> ModalityManifest {
    try ModalityManifest.resolve(argument, builtin: BuiltinModalities.manifests, registry: registry)
}

/// When `argument` named a reader alone (`ftir`, `h&e`) that has a built-in manifest under its
/// identifier, a sentence saying that manifest's options and preprocessing do not apply; else nil.
public func bareReaderNote(_ argument: String, _ manifest: ModalityManifest) -> String? {
    guard !ModalityManifest.namesFile(argument), BuiltinModalities.manifests[argument.lowercased()] == nil,
          let url = BuiltinModalities.manifests[manifest.reader],
          let builtin = try? ModalityManifest(contentsOf: url) else { return nil }
    let steps = builtin.preprocessing.map(\.identifier)
    return "--modality \(argument) is the \(manifest.reader) reader alone, with its defaults: modalities/\(url.lastPathComponent)'s "
        + "options and preprocessing (\(steps.isEmpty ? "none" : steps.joined(separator: ", "))) do not apply; "
        + "--modality \(manifest.reader) uses them"
}
