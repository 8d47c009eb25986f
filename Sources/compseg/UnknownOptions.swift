import ArgumentParser
import Foundation

/// Names an option the command does not take, for when parsing failed. ArgumentParser reports a
/// missing required option (and `validate()`'s errors) before an unknown one, so `train --modalty he
/// --data … --out …` would be told that --modality is required; this tells of the misspelling.
enum UnknownOptions {
    /// The first `--name` (or `--name=value`) among `arguments` (without the program's name) that
    /// the (sub)command they select does not take, as an error message with the nearest option it
    /// does take, and that command's words ("compseg train"); nil when every one is known. Tokens
    /// after a bare `--` are values.
    static func find(_ arguments: [String], root: any ParsableCommand.Type = CompSeg.self) -> (message: String, command: String)? {
        var command = root, path = [root._commandName], valueNext = false
        for token in arguments {
            if token == "--" { break }
            if token.hasPrefix("--") {
                let name = String(token.dropFirst(2).prefix { $0 != "=" }), known = options(of: command)
                if let takesValue = known[name] {
                    valueNext = takesValue && !token.contains("=")
                    continue
                }
                let usage = path.joined(separator: " ")
                let close: [(option: String, edits: Int)] = known.keys.map { ($0, distance($0, name)) }
                    .filter { $0.edits <= max(2, name.count / 3) }
                let nearest = close.min { ($0.edits, $0.option) < ($1.edits, $1.option) }
                return ("unknown option '--\(name)' for '\(usage)'" + (nearest.map { "; did you mean '--\($0.option)'?" } ?? ""), usage)
            }
            // A subcommand's name, where it is no option's value, selects it.
            defer { valueNext = false }
            if !valueNext, let sub = command.configuration.subcommands.first(where: { $0._commandName == token }) {
                command = sub
                path.append(token)
            }
        }
        return nil
    }

    /// The long names a command's options and flags take, and whether each takes a value (from
    /// ArgumentParser's description of the command).
    private static func options(of command: any ParsableCommand.Type) -> [String: Bool] {
        guard let data = command._dumpHelp().data(using: .utf8),
              let tool = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let description = tool["command"] as? [String: Any] else { return [:] }
        var names: [String: Bool] = [:]
        for argument in description["arguments"] as? [[String: Any]] ?? [] {
            for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                if let text = name["name"] as? String { names[text] = argument["kind"] as? String == "option" }
            }
        }
        return names
    }

    /// Levenshtein distance: edits (insert, delete, replace one character) from a to b.
    static func distance(_ a: String, _ b: String) -> Int {
        let (a, b) = (Array(a), Array(b))
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
