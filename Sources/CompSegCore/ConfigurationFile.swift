import Foundation
import Yams

/// A YAML or JSON file of settings (YAML is a superset of JSON), read as a JSON object so
/// Codable types decode it with `PluginConfiguration.decode`, which rejects unknown keys.
public enum ConfigurationFile {
    /// The file's top-level mapping as JSON.
    /// - Throws: `ConfigurationError` naming the file when it is missing, not YAML/JSON, or not a mapping.
    public static func read(_ url: URL) throws -> PluginConfiguration {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigurationError(source: url.path, message: "cannot be read (missing or not a file)")
        }
        let object: Any?
        do { object = try Yams.load(yaml: String(decoding: data, as: UTF8.self)) } catch {
            throw ConfigurationError(source: url.path, message: "is not valid YAML or JSON: \(error)")
        }
        guard let mapping = object as? [String: Any] else {
            throw ConfigurationError(source: url.path, message: "must hold a mapping of keys to values at the top level")
        }
        guard let json = try? JSONSerialization.data(withJSONObject: mapping) else {
            throw ConfigurationError(source: url.path, message: "holds values that JSON cannot represent (e.g. dates)")
        }
        return PluginConfiguration(json: json, source: url.path)
    }
}

extension PluginConfiguration {
    /// The value under `key` as its own configuration (e.g. a plugin's section); empty when absent.
    public func section(_ key: String) -> PluginConfiguration {
        let object = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any]
        guard let value = object?[key], let data = try? JSONSerialization.data(withJSONObject: value) else {
            return PluginConfiguration(json: Data("{}".utf8), source: "\(source): \(key)")
        }
        return PluginConfiguration(json: data, source: "\(source): \(key)")
    }
}
