import Foundation
import Testing

/// docs/cli.md quotes every subcommand's `--help` verbatim; this keeps it so.
@Suite struct CLIReferenceTests {
    static let regenerate = "swift build && bash docs/cli-reference.sh .build/debug/compseg > docs/cli.md"

    /// `compseg arguments…`'s standard output, trailing blank lines removed.
    func help(_ arguments: [String]) throws -> String {
        let run = try runBuilt("compseg", arguments)
        #expect(run.status == 0, "compseg \(arguments.joined(separator: " ")) exited \(run.status)")
        return run.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The names in the SUBCOMMANDS section of `compseg --help` (lines indented by exactly two spaces).
    static func subcommands(_ topLevelHelp: String) -> [String] {
        var names: [String] = [], inSection = false
        for line in topLevelHelp.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") { inSection = true; continue }
            guard inSection else { continue }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { break }
            if line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first {
                names.append(String(name))
            }
        }
        return names
    }

    @Test func everySubcommandsHelpIsQuotedVerbatim() throws {
        let reference = try Repository.text("docs/cli.md")
        let top = try help(["--help"])
        let names = Self.subcommands(top)
        #expect(names.count >= 5 && names.contains("train"), "could not read the subcommands from compseg --help:\n\(top)")
        var stale: [String] = []
        if !reference.contains("```text\n\(top)\n```") { stale.append("compseg --help") }
        for name in names where !reference.contains("```text\n\(try help([name, "--help"]))\n```") {
            stale.append("compseg \(name) --help")
        }
        #expect(stale.isEmpty, "docs/cli.md does not quote the current output of \(stale.joined(separator: ", ")); regenerate it with: \(Self.regenerate)")
    }

    @Test func readsTheSubcommandSection() {
        let help = """
            USAGE: compseg <subcommand>

            SUBCOMMANDS:
              demo                    Train CompSegNet on a synthetic infrared TMA from
                                      image labels and evaluate it.
              bench-ops               Time single layers.

              See 'compseg help <subcommand>' for detailed help.
            """
        #expect(Self.subcommands(help) == ["demo", "bench-ops"])
    }
}
