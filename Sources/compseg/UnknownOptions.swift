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
        var command = root, path = [root._commandName]
        for token in arguments {
            if token == "--" { break }
            if token.hasPrefix("--") {
                let name = String(token.dropFirst(2).prefix { $0 != "=" }), known = options(of: command)
                guard !known.contains(name) else { continue }
                let usage = path.joined(separator: " ")
                let close: [(option: String, edits: Int)] = known.map { ($0, distance($0, name)) }
                    .filter { $0.edits <= max(2, name.count / 3) }
                let nearest = close.min { ($0.edits, $0.option) < ($1.edits, $1.option) }
                return ("unknown option '--\(name)' for '\(usage)'" + (nearest.map { "; did you mean '--\($0.option)'?" } ?? ""), usage)
            }
            // A subcommand's name selects it.
            if let sub = command.configuration.subcommands.first(where: { $0._commandName == token }) {
                command = sub
                path.append(token)
            }
        }
        return nil
    }

    /// The long names a command's options and flags take (from ArgumentParser's description of it).
    private static func options(of command: any ParsableCommand.Type) -> Set<String> {
        guard let data = command._dumpHelp().data(using: .utf8),
              let tool = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let description = tool["command"] as? [String: Any] else { return [] }
        let arguments = description["arguments"] as? [[String: Any]] ?? []
        return Set(arguments.flatMap { argument in
            (argument["names"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "long" }.compactMap { $0["name"] as? String }
        })
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
