import CompSegIO
import CompSegTraining
import Foundation

/// Training progress: on a terminal, a live bar per epoch with images/s and ETA; otherwise one
/// plain line per epoch.
final class ProgressReporter {
    let epochs: Int, images: Int
    let live = isatty(STDOUT_FILENO) != 0
    private var epochStart = DispatchTime.now().uptimeNanoseconds

    init(epochs: Int, images: Int) { self.epochs = epochs; self.images = images }

    /// After step `k` of `n` of the epoch. The rate is timed from the end of its first step (the
    /// clock starts there), over the steps since.
    func step(epoch: Int, _ k: Int, of n: Int) {
        if k == 1 { epochStart = DispatchTime.now().uptimeNanoseconds }
        guard live else { return }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - epochStart) * 1e-9
        let done = Double(k) / Double(n)
        let bar = String(repeating: "█", count: Int(done * 24)).padding(toLength: 24, withPad: "·", startingAt: 0)
        let timed = Double(k - 1) / Double(n)  // of the epoch, since the clock started
        let pace = k == 1 ? "" : String(format: "  %.1f images/s  ETA %.0fs", Double(images) * timed / max(elapsed, 1e-9),
                                         elapsed / timed * (1 - done))
        print(String(format: "\repoch %d/%d %@ %3.0f%%", epoch, epochs, bar, done * 100) + pace + " ", terminator: "")
        fflush(nil)
    }

    func finish(_ r: EpochRecord) {
        var line = String(format: "epoch %d/%d  train loss %.5f", r.epoch, epochs, r.trainLoss)
        if let v = r.validationLoss { line += String(format: "  val loss %.5f", v) }
        if let a = r.validationAUC { line += String(format: "  val AUC %.3f", a) }
        line += String(format: "  %.1f images/s  %.1fs", r.imagesPerSecond, r.seconds)
        if r.best { line += "  *best" }
        print((live ? "\r\u{1B}[K" : "") + line)
        if let c = r.collapse { warn(c) }
        if let lr = r.restart { print("Restarting from the best epoch's weights with fresh optimizer state at learning rate \(lr)") }
        fflush(nil)
    }
}

/// What Ctrl-C or SIGTERM does while `train` or `compare` reads and prepares the data, before
/// `InterruptFlag.install()` takes over: nothing is begun that could be saved, so the process says
/// so and ends at once, removing the folders this command made for its output while they are
/// still empty. (The handler uses only async-signal-safe calls: write, rmdir, _exit.)
enum PreparationInterrupt {
    nonisolated(unsafe) private static var message: UnsafeMutablePointer<CChar>? = nil
    /// C strings, so that the handler reads them without Swift's reference counting.
    nonisolated(unsafe) private static var folders: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
    nonisolated(unsafe) private static var folderCount = 0

    /// - Parameter made: the folders this command is to make for its output (`missingFolders`:
    ///   the output folder and those above it that do not exist yet, the deepest first).
    static func install(_ what: String, made: [URL]) {
        message = strdup("\nInterrupted while the data were read and prepared: \(what)\n")
        let paths = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: max(made.count, 1))
        for (i, url) in made.enumerated() { paths[i] = strdup(url.path) }
        (folders, folderCount) = (paths, made.count)
        for signalNumber in [SIGINT, SIGTERM] where !InterruptFlag.isIgnored(signalNumber) {
            signal(signalNumber) { received in
                if let text = PreparationInterrupt.message { _ = write(2, text, strlen(text)) }
                if let paths = PreparationInterrupt.folders {
                    for i in 0..<PreparationInterrupt.folderCount { guard let path = paths[i], rmdir(path) == 0 else { break } }
                }
                _exit(128 + received)
            }
        }
    }
}

/// Set by SIGINT (Ctrl-C) or SIGTERM (`Interruption.received`): training checks it between steps,
/// segmentation between samples and between bands of a streamed image (`Interruption.check()`).
final class InterruptFlag: @unchecked Sendable {
    var isSet: Bool { Interruption.received != 0 }
    /// The exit status a shell gives a process its signal ended: 128 + the signal (130 for Ctrl-C, 143 for SIGTERM).
    var exitStatus: Int32 { 128 + Int32(Interruption.received == 0 ? SIGINT : Interruption.received) }

    static func install() -> InterruptFlag {
        // A parent may start us with SIGINT blocked (the mask is inherited); unblock it.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &set, nil)
        for signalNumber in [SIGINT, SIGTERM] {  // SIGTERM (kill, a scheduler ending the job) as Ctrl-C
            // A signal the parent set to be ignored stays ignored, as shells mean it: a script's
            // background job is not to end at the terminal's Ctrl-C.
            if isIgnored(signalNumber) { continue }
            signal(signalNumber) { received in
                if Interruption.received != 0 { _exit(128 + received) }  // a second signal ends at once
                Interruption.received = sig_atomic_t(received)
            }
        }
        return InterruptFlag()
    }

    /// Whether `signalNumber`'s disposition is to be ignored (read without changing it).
    static func isIgnored(_ signalNumber: Int32) -> Bool {
        var current = sigaction()
        guard sigaction(signalNumber, nil, &current) == 0 else { return false }
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }
}
