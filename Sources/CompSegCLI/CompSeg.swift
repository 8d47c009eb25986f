import ArgumentParser
import BuiltinModalities
import BuiltinPlugins
import CompSegCore
import CompSegIO
import Foundation
import CKernels
import CompSegNN
import Synchronization

/// The `compseg` tool as a library. `compseg` itself is `CompSegTool.main()`; a program that adds
/// plugins of its own runs every command over them with
/// `CompSegTool.main { var r = try builtinRegistry(); try MyReader.register(in: &r); return r }`.
public enum CompSegTool {
    /// The plugins and the named modality manifests the commands use, set once by `main` (nil:
    /// the built-in ones).
    private static let plugins = Mutex<(registry: Registry, modalities: [String: URL])?>(nil)

    /// Runs the command `CommandLine.arguments` name over the plugins `registry` makes (an error
    /// there, such as two plugins under one name, is reported before any command), and exits with
    /// the command's status. `modalities` names modality manifests that `--modality NAME` finds
    /// beside the built-in ones (`modalities/*.yaml`), a name given here taking the place of a
    /// built-in one. Help and messages call the tool by the name it was run as.
    public static func main(registry: () throws -> Registry = builtinRegistry, modalities: [String: URL] = [:]) -> Never {
        // A closed standard stream (`>&-`) would hand its number to the next file opened, which would
        // then receive what is printed: a closed input or error output reads and writes /dev/null, a
        // closed output is refused before any work (what the command prints would be lost).
        var outputClosed = false
        for stream in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(stream, F_GETFD) == -1 {
            outputClosed = outputClosed || stream == STDOUT_FILENO
            _ = open("/dev/null", stream == STDIN_FILENO ? O_RDONLY : O_WRONLY)  // the lowest free number: this one
        }
        if outputClosed {
            CompSeg.exit(withError: CLIError("the standard output is closed (>&-): what this command prints would be lost; "
                                             + "send it to a file, or to /dev/null"))
        }
        // A reader of the output that goes away (`train … | head`) ends no training: the lines
        // are lost, the work goes on (Ctrl-C and SIGTERM stop it after a saved epoch).
        signal(SIGPIPE, SIG_IGN)
        // A file-size limit (`ulimit -f`) fails the write that passes it, which names its file and
        // "File too large", rather than killing the process without a word.
        signal(SIGXFSZ, SIG_IGN)
        // A folder on a file system without locks is used unlocked: said as the other warnings (and in reports).
        FolderLock.unlocked = { warn($0) }
        // Open files: the soft limit raised to the hard one (readers, prefetching and the libraries
        // hold files at once; a low soft limit would fail them as if their files were bad).
        var files = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &files) == 0, files.rlim_cur < files.rlim_max {
            files.rlim_cur = max(files.rlim_cur, min(files.rlim_max, 1 << 20))  // an unlimited hard limit: 2²⁰
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &files)
        }
        // Relative paths are taken from the working directory; one that cannot be read (removed,
        // or a path longer than the system's limit) would put them at the root.
        if let here = getcwd(nil, 0) { free(here) } else {
            let reason = String(cString: strerror(errno))
            CompSeg.exit(withError: CLIError("the working directory cannot be read (\(reason)): it was removed, or its path is too long; "
                                             + "cd to a folder that exists, and run the command from there"))
        }
        // Into a pipe or file (a job's log, `tee`) line by line, as on a terminal: a run that is
        // killed, or runs for hours, shows what it has done so far.
        compseg_line_buffered_stdout()
        // Ctrl-\ quits at once, as it does any program (Swift's crash reporter would take it for a
        // crash, print a backtrace and let the work go on); one the parent ignores stays ignored.
        if !InterruptFlag.isIgnored(SIGQUIT) { signal(SIGQUIT, SIG_DFL) }
        // A parent may start us with these blocked (the mask is inherited: a test runner's thread, a
        // service manager): Ctrl-C, kill and a closed terminal end every command then too, those
        // that keep their work through `InterruptFlag`, the others at once.
        var ending = sigset_t()
        sigemptyset(&ending)
        for signalNumber in [SIGQUIT, SIGINT, SIGTERM, SIGHUP, SIGUSR1] { sigaddset(&ending, signalNumber) }
        sigprocmask(SIG_UNBLOCK, &ending, nil)
        do {
            let made = try registry()
            let named = Dictionary(modalities.map { ($0.key.lowercased(), $0.value) }) { _, last in last }
            plugins.withLock { $0 = (made, named) }
        } catch {
            CompSeg.exit(withError: CLIError("the plugins could not be registered: \(error)"))
        }
        // The program's own manifests are read now, so a missing or broken one is named before any command.
        let unreadable = modalities.sorted { $0.key < $1.key }.compactMap { name, url -> String? in
            do { _ = try ModalityManifest(contentsOf: url); return nil } catch { return "'\(name)': \(error)" }
        }
        if !unreadable.isEmpty {
            CompSeg.exit(withError: CLIError("the modality manifests given to CompSegTool.main(modalities:) could not be read: "
                                             + unreadable.joined(separator: "; ")))
        }
        CompSeg.main()
        exit(0)
    }

    /// The registry for a command.
    static func registry() throws -> Registry { try plugins.withLock { $0?.registry } ?? builtinRegistry() }

    /// The modality manifests `--modality NAME` finds, by lower-case name.
    static var modalityManifests: [String: URL] {
        BuiltinModalities.manifests.merging(plugins.withLock { $0?.modalities } ?? [:]) { _, given in given }
    }

    /// The name the tool was run as (`compseg`, or a lab's own tool's).
    static var commandName: String {
        CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent }.flatMap { $0.isEmpty ? nil : $0 } ?? "compseg"
    }
}

struct CompSeg: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: CompSegTool.commandName,
            abstract: "Train segmenting networks from image-level labels (CompSegNet) and apply them.",
            version: "\(CompSegVersion.named) (oneDNN \(CPUBackend.oneDNNVersion))",
            subcommands: [Demo.self, Phantom.self, Train.self, Segment.self, Evaluate.self, OverlayCommand.self, Compare.self, SplitCommand.self, Inspect.self, Convert.self, Plugins.self, Bench.self, BenchOps.self, CheckBackend.self])
    }

    /// Runs the command; a file-system error that escapes a command is reported by its path and
    /// the system's reason (exit 1), never as Foundation's error domain and code.
    static func main() {
        keepFreedMemoryForReuse()
        let arguments = Array(CommandLine.arguments.dropFirst()), options = arguments.prefix { $0 != "--" }
        /// An unknown option or command, said as ArgumentParser says a usage error.
        func refuse(_ unknown: (message: String, command: String)) -> Never {
            writeToStandardError("Error: \(unknown.message)\n  See '\(unknown.command) --help' for more information.\n")
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        if let unknown = UnknownOptions.unknownHelpTopic(arguments) { refuse(unknown) }
        // A file `-dash.h5` reads as bundled short flags, -h among them: help and exit 0, where a script meant a file.
        if !options.contains(where: { ["-h", "--help"].contains($0) }), arguments.first != "help",
           options.contains(where: { $0.hasPrefix("-") && !$0.hasPrefix("--") && $0.count > 2 && $0.contains("h") && Double($0) == nil }),
           let unknown = UnknownOptions.find(arguments) {
            refuse(unknown)
        }
        do {
            if arguments == ["--version"] {
                print(versionReport())
            } else {
                var command: any ParsableCommand
                do { command = try parseAsRoot() } catch {
                    // A misspelled option is the likelier cause of a parse error than what ArgumentParser names first.
                    guard exitCode(for: error) != .success, let unknown = UnknownOptions.find(arguments)
                    else { throw error }
                    refuse(unknown)
                }
                try command.run()
            }
            try requireStandardOutputWritten()
        } catch let error as NSError where error.domain == NSCocoaErrorDomain || error.domain == NSPOSIXErrorDomain {
            fflush(nil)  // piped or logged, the lines printed so far come before the error, as on a terminal
            let path = error.userInfo[NSFilePathErrorKey] as? String ?? (error.userInfo[NSURLErrorKey] as? URL)?.path
            exit(withError: CLIError((path.map { "\($0): " } ?? "") + systemReason(error)))
        } catch let error as Interrupted {
            fflush(nil)
            writeToStandardError("\(error)\n")
            Foundation.exit(128 + error.signal)
        } catch let error as CLIError where error.isUsage {
            fflush(nil)
            writeToStandardError("Error: \(error)\n")
            Foundation.exit(ExitCode.validationFailure.rawValue)
        } catch let error as DeviceUnavailable {  // no GPU here for --device cuda or a GPU precision: 69, EX_UNAVAILABLE
            fflush(nil)
            writeToStandardError("Error: \(error)\n")
            Foundation.exit(error.gpuFound ? 1 : 69)  // one found but unusable (a library, a setting): 1, as bad input
        } catch let error as IOError where error.isBusy {  // another compseg works in the folder now: 75, EX_TEMPFAIL, to retry later
            fflush(nil)
            writeToStandardError("Error: \(error)\n")
            Foundation.exit(75)
        } catch {
            fflush(nil)
            exit(withError: error)
        }
    }
}

enum CompSegVersion {
    static let string = compsegVersion
    /// "compseg 0.1.0", or a lab's own tool's name with the compseg it is built on ("mylab, on compseg 0.1.0").
    static var named: String {
        CompSegTool.commandName == "compseg" ? "compseg \(string)" : "\(CompSegTool.commandName), on compseg \(string)"
    }
}

/// `compseg --version`: the version, and the backends this machine offers (CUDA's libraries are
/// looked for now, so the answer says why a GPU cannot be used where it cannot).
func versionReport() -> String {
    let cuda: String
    switch CUDAEnvironment.current {
    case .success(let environment): cuda = environment.summary + "\ncuDNN algorithms: \(CUDABackend.algorithmSummary)"
    case .failure(let reason): cuda = "not available: \(reason)"
    }
    return """
        \(CompSegVersion.named)
        cpu: oneDNN \(CPUBackend.oneDNNVersion), \(CPUBackend.instructionSet) kernels; 3×3 convolutions: \(CPUBackend.convolutionSummary)
        cuda: \(cuda)
        """
}

/// Large buffers (a 256×256×450 spot is 118 MB) are taken from the heap and kept there when freed,
/// instead of glibc's default of mapping each one afresh and unmapping it: every new mapping is
/// zero-filled by the kernel page by page, and each sample read paid that again. Measured on
/// `inspect` of ten such spots: 298,665 → 39,241 page faults, 4.5 → 2.6 s of CPU. (Streaming
/// trims the heap where its tiles grow it: `HeapTrim`.)
private func keepFreedMemoryForReuse() {
    _ = glibcMallopt(-4, 0)  // M_MMAP_MAX: no allocation is served by its own mapping
    _ = glibcMallopt(-1, Int32.max)  // M_TRIM_THRESHOLD: freed heap memory is not handed back
}

/// Hands the heap's free memory back to the system: after the training data are prepared, the raw
/// samples read to fit and preprocess them are gone, and training would otherwise hold their
/// memory (`keepFreedMemoryForReuse`) to its end.
func giveBackFreedMemory() { _ = glibcMallocTrim(0) }

/// glibc's `int malloc_trim(size_t pad)`.
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32

/// glibc's `int mallopt(int param, int value)` (declared in malloc.h, which Swift's Glibc module
/// does not import).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
