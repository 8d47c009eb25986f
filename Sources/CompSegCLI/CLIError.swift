import CompSegCore

/// A refusal or failure the tool reports in one line, without the usage text: exit 1, or 64
/// (as ArgumentParser's validation) for a command line that asks what the command cannot do.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    /// Whether the command line itself is refused (exit 64), rather than the data or a file.
    let isUsage: Bool
    init(_ description: String, usage: Bool = false) { (self.description, isUsage) = (description, usage) }
}

/// "1 sample", "3 samples": a count with its noun (plural by an "s").
func counted(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

/// `error` as a message that says where the value came from (`source`: "--topologies unet", "run.yaml:
/// head 'topk'"): a configuration error that names it already as it is, any other after it (a
/// plugin's own check names only the plugin).
func located(_ error: any Error, at source: String) -> String {
    if let c = error as? ConfigurationError, c.source.hasPrefix(source) { return "\(c)" }
    return "\(source): \(error)"
}
