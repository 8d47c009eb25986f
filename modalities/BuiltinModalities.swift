import Foundation

/// The modality manifests shipped in this folder (`modalities/*.yaml`), by name: what
/// `--modality NAME` finds before falling back to a reader plugin's defaults.
public enum BuiltinModalities {
    public static var manifests: [String: URL] {
        guard let folder = Bundle.module.resourceURL,
              let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [:] }
        var found: [String: URL] = [:]
        for name in names.sorted() where name.hasSuffix(".yaml") {
            found[String(name.dropLast(5)).lowercased()] = folder.appendingPathComponent(name)
        }
        return found
    }
}
