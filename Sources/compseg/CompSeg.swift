import ArgumentParser
import CompSegCore
import CompSegIO
import Foundation
import CompSegNN

@main
struct CompSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compseg",
        abstract: "Train segmenting networks from image-level labels (CompSegNet) and apply them.",
        version: "compseg \(CompSegVersion.string) (oneDNN \(CPUBackend.oneDNNVersion))",
        subcommands: [Demo.self, Phantom.self, Train.self, Segment.self, Evaluate.self, OverlayCommand.self, Compare.self, Inspect.self, Convert.self, Plugins.self, Bench.self, BenchOps.self])

    /// Runs the command; a file-system error that escapes a command is reported by its path and
    /// the system's reason (exit 1), never as Foundation's error domain and code.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as NSError where error.domain == NSCocoaErrorDomain || error.domain == NSPOSIXErrorDomain {
            let path = error.userInfo[NSFilePathErrorKey] as? String ?? (error.userInfo[NSURLErrorKey] as? URL)?.path
            exit(withError: CLIError((path.map { "\($0): " } ?? "") + systemReason(error)))
        } catch {
            exit(withError: error)
        }
    }
}

enum CompSegVersion {
    static let string = "0.1.0"
}
