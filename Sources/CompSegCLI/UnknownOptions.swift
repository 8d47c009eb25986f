import ArgumentParser
import Foundation

/// Names an option the command does not take, or a command compseg does not have, for when parsing
/// failed. ArgumentParser reports a missing required option (and `validate()`'s errors) before an
/// unknown one, so `train --modalty he --data … --out …` would be told that --modality is
/// required, and `segmnt --model run` that --model is unknown; this tells of the misspelling.
enum UnknownOptions {
    /// The first `--name` (or `--name=value`) among `arguments` (without the program's name) that
    /// the (sub)command they select does not take, or the first word that names no command, as an
    /// error message with the nearest name there is, and the command's words ("compseg train");
    /// nil when every one is known. Tokens after a bare `--` are values.
    static func find(_ arguments: [String], root: any ParsableCommand.Type = CompSeg.self) -> (message: String, command: String)? {
        var command = root, path = [root._commandName], valueNext = false
        for token in arguments {
            if token == "--" { break }
            let usage = path.joined(separator: " ")
            if token.hasPrefix("--") {
                let name = String(token.dropFirst(2).prefix { $0 != "=" }), known = options(of: command)
                if let takesValue = known[name] {
                    valueNext = takesValue && !token.contains("=")
                    continue
                }
                let near = suggestion(name, among: known.keys, prefix: "--")
                return ("unknown option '--\(name)' for '\(usage)'" + (near.isEmpty ? meant(option: name, command: path.last!) : near), usage)
            }
            defer { valueNext = false }
            // A long name after one dash (`-modality`), where no value is due: compseg has no such short options.
            if !valueNext, token.hasPrefix("-"), token.count > 2, Double(token) == nil {
                if FileManager.default.fileExists(atPath: token) {  // a file named with a leading dash
                    return ("'\(token)' reads as options (it starts with a dash): to name the file, write ./\(token), or put -- before "
                            + "the files", usage)
                }
                let name = String(token.dropFirst().prefix { $0 != "=" })
                return ("unknown option '-\(name)' for '\(usage)'" + suggestion(name, among: options(of: command).keys, prefix: "--"), usage)
            }
            guard !valueNext, !token.hasPrefix("-") else { continue }
            // A subcommand's name selects it; before any, another word is a misspelled one (but
            // `help`, which ArgumentParser adds, takes command names and its own parsing).
            if path.count == 1 && token == "help" { return nil }
            let subcommands = command.configuration.subcommands
            if let sub = subcommands.first(where: { $0._commandName == token }) {
                command = sub
                path.append(token)
            } else if path.count == 1, !subcommands.isEmpty {
                let near = suggestion(token, among: subcommands.map { $0._commandName })
                return ("unknown command '\(token)' for '\(usage)'" + (near.isEmpty ? meant(command: token) : near), usage)
            }
        }
        return nil
    }

    /// The error for `help WORDS` whose words name no command (ArgumentParser shows the tool's
    /// help and exits 0 then, so a script's `compseg help segmnt` would seem to succeed); nil when
    /// they name one, or when the first argument is not `help`.
    static func unknownHelpTopic(_ arguments: [String], root: any ParsableCommand.Type = CompSeg.self) -> (message: String, command: String)? {
        guard arguments.first == "help" else { return nil }
        var command = root, path = [root._commandName]
        for word in arguments.dropFirst() where !word.hasPrefix("-") {
            let subcommands = command.configuration.subcommands
            guard let sub = subcommands.first(where: { $0._commandName == word }) else {
                let usage = path.joined(separator: " ")
                let known = subcommands.isEmpty ? "; '\(usage)' has no subcommands" : suggestion(word, among: subcommands.map { $0._commandName })
                return ("unknown command '\(word)' for '\(usage)'" + known, usage)
            }
            command = sub
            path.append(word)
        }
        return nil
    }

    /// What a word other tools use for a command means here ("; to apply a trained run to images:
    /// compseg segment --model RUN"), or "".
    static func meant(command word: String) -> String {
        switch word.lowercased() {
        case "predict", "infer", "inference", "apply": "; to apply a trained run to images: compseg segment --model RUN"
        case "test", "eval", "score", "validate", "report", "metrics":
            "; to score a run on labelled rows, with report.html: compseg evaluate --model RUN --data MANIFEST"
        case "fit", "learn", "finetune", "fine-tune": "; to train (or fine-tune with --init-from RUN): compseg train"
        default: ""
        }
    }

    /// What an option other tools use means here, for `command`, or "".
    static func meant(option name: String, command: String) -> String {
        switch (name.lowercased(), command) {
        case ("gpu", _), ("cuda", _): "; a GPU is chosen with --device cuda (--device auto takes one where there is)"
        case ("cpu", _): "; --device cpu"
        case ("model", "train"): "; train writes a new run to --out: --resume RUN continues one, --init-from RUN starts from its weights"
        case ("modality", "segment"), ("modality", "overlay"), ("modality", "evaluate"):
            "; \(command) reads the files with the run's own modality and preprocessing (its model.json)"
        default: ""
        }
    }

    /// "; did you mean 'X'?" for the name among `names` that starts with `typed` (the shortest; for
    /// 3 characters or more), else the nearest by edits (at most 2, or a third of its length); empty when none is near.
    private static func suggestion(_ typed: String, among names: some Sequence<String>, prefix: String = "") -> String {
        let names = Array(names)
        let extended = typed.count < 3 ? nil : names.filter { $0.hasPrefix(typed) }.min { ($0.count, $0) < ($1.count, $1) }
        let close = names.map { ($0, distance($0, typed)) }.filter { $0.1 <= max(2, typed.count / 3) }
            .min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
        return (extended ?? close).map { "; did you mean '\(prefix)\($0)'?" } ?? ""
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
