import CompSegIO
import CompSegNN
import CompSegTraining
import Foundation

/// Training progress: on a terminal, a live bar per epoch with images/s and ETA; otherwise one
/// plain line per epoch.
final class ProgressReporter {
    let epochs: Int, images: Int
    /// A live bar on a terminal that can redraw a line (not `TERM=dumb`).
    let live = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    private var epochStart = DispatchTime.now().uptimeNanoseconds
    /// The threads' waits for a core and the wall clock where the present window of `warnAboutSharedCores` began.
    private var window: (wait: Double, start: UInt64, epochs: Int)?
    private var epochsEnded = 0
    /// Whether this process warned of shared cores already (compare trains one run after another).
    nonisolated(unsafe) private static var warnedAboutSharedCores = false

    /// The run a warning of an epoch belongs to, where several train in one command (compare's entries).
    let run: String?

    init(epochs: Int, images: Int, run: String? = nil) { self.epochs = epochs; self.images = images; self.run = run }

    /// The share of the threads' time spent waiting for a core above which `finish` warns once:
    /// other work shares the cores. Measured on 2 cores, over the epochs after the first: idle,
    /// 0.1–0.5%; with one core kept busy by another process 32–38%, two threads pinned to one core 19–21%.
    static let sharedCoresShare = 0.1
    /// A window of epochs is judged once it spans `seconds`, or `epochs` epochs and `shortest`
    /// seconds (shorter ones are noise: tiny epochs of a few tens of ms wait up to 20% idle).
    static let sharedCoresWindow = (seconds: 2.0, epochs: 20, shortest: 0.5)

    /// Warns once where, over a window of epochs (`sharedCoresWindow`, from the end of the first
    /// epoch, whose start-up is left out), compseg's threads waited for a core
    /// more than `sharedCoresShare` of the time: OpenMP's threads spin while they wait for work,
    /// which on shared cores costs several times the time (measured in docs/data.md, Threads).
    private func warnAboutSharedCores() {
        epochsEnded += 1
        guard !Self.warnedAboutSharedCores, Threads.count > 1, let wait = Threads.secondsWaitedForCores() else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard let (before, start, first) = window, epochsEnded > 1 else { window = (wait, now, epochsEnded); return }
        let seconds = Double(now - start) * 1e-9, limits = Self.sharedCoresWindow
        guard seconds >= limits.seconds || (epochsEnded - first >= limits.epochs && seconds >= limits.shortest) else { return }
        window = (wait, now, epochsEnded)
        let share = (wait - before) / (seconds * Double(Threads.count))
        guard share > Self.sharedCoresShare else { return }
        Self.warnedAboutSharedCores = true
        let passive = ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"]?.lowercased() == "passive"
        warn("the cores are shared with other work: compseg's \(Threads.count) threads waited for one "
             + String(format: "%.0f%%", 100 * share) + " of the time over the last \(String(format: "%.1f", seconds)) s; "
             + (passive ? "fewer --threads (or COMPSEG_THREADS) may be faster"
                : "its threads spin while they wait, which on shared cores can make training several times slower: "
                + "OMP_WAIT_POLICY=passive in the environment, or fewer --threads, is faster there")
             + " (docs/data.md, Threads)")
    }

    /// After step `k` of `n` of the epoch. The rate is timed from the end of its first step (the
    /// clock starts there), over the steps since.
    func step(epoch: Int, _ k: Int, of n: Int) {
        if k == 1 { epochStart = DispatchTime.now().uptimeNanoseconds }
        guard live else { return }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - epochStart) * 1e-9
        let done = Double(k) / Double(n)
        let timed = Double(k - 1) / Double(n)  // of the epoch, since the clock started
        let pace = k == 1 ? "" : String(format: "  %.1f images/s  ETA %.0fs", Double(images) * timed / max(elapsed, 1e-9),
                                         elapsed / timed * (1 - done))
        // Within the terminal's width (a line that wraps leaves a copy behind at each redraw): the bar shrinks, then goes.
        let head = "epoch \(epoch)/\(epochs)", tail = String(format: " %3.0f%%", done * 100) + pace + " "
        let room = min(24, Self.terminalColumns - head.count - tail.count - 2)
        let bar = room < 4 ? "" : " " + String(repeating: "█", count: Int(done * Double(room))).padding(toLength: room, withPad: "·", startingAt: 0)
        let line = head + bar + tail
        print("\r" + String(line.prefix(max(1, Self.terminalColumns - 1))), terminator: "")
        fflush(nil)
    }

    /// Standard output's terminal width (80 where it cannot tell).
    static var terminalColumns: Int {
        var size = winsize()
        return ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    func finish(_ r: EpochRecord) {
        var line = String(format: "epoch %d/%d  train loss %.5f", r.epoch, epochs, r.trainLoss)
        if let v = r.validationLoss { line += String(format: "  val loss %.5f", v) }
        if let a = r.validationAUC { line += String(format: "  val AUC %.3f", a) }
        line += String(format: "  %.1f images/s  %.1fs", r.imagesPerSecond, r.seconds)
        if r.best { line += "  *best" }
        print((live ? "\r\u{1B}[K" : "") + line)
        if let c = r.collapse { warn(run.map { "\($0), epoch \(r.epoch): " + c } ?? c) }
        warnAboutSharedCores()
        if let lr = r.restart { print("Restarting from the best epoch's weights with fresh optimizer state at learning rate \(lr)") }
        fflush(nil)
    }
}

/// How far `segment`, `evaluate` and `overlay` are through the samples they load whole: on a
/// terminal, one line redrawn at most once a second from 2 s on; into a log (a file or pipe), a
/// line a minute, so that a long job shows it moves (one that ends within a minute says nothing
/// more there). Images segmented region by region say so each on a line of their own.
final class SegmentingProgress {
    private let live = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    private let start = DispatchTime.now().uptimeNanoseconds
    private var printed: Double?
    /// Whether a line is drawn on the terminal now, which a warning clears first (`clearDrawnLine`).
    nonisolated(unsafe) private static var drawn = false
    /// Seconds before the first line and between lines: on a terminal, in a log.
    static let terminal = (first: 2.0, every: 1.0), log = (first: 60.0, every: 60.0)

    init() {}

    /// After `done` of `total` samples.
    func update(_ done: Int, of total: Int) {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        let (first, every) = live ? Self.terminal : Self.log
        guard done > 0, done < total, elapsed >= first, elapsed - (printed ?? -every) >= every else { return }
        printed = elapsed
        let each = elapsed / Double(done)
        let line = "segmented \(done) of \(total) samples in \(Self.duration(elapsed)) (" + String(format: "%.2f", each)
            + " s per sample; about \(Self.duration(each * Double(total - done))) left)"
        if live { print("\r" + String(line.prefix(max(1, ProgressReporter.terminalColumns - 1))) + "\u{1B}[K", terminator: ""); Self.drawn = true }
        else { print(line) }
        fflush(nil)
    }

    /// Clears the terminal's line, where one was drawn (before what the command prints next).
    func finish() { Self.clearDrawnLine() }

    /// Clears the line a `SegmentingProgress` drew on the terminal, if any: before a warning on
    /// standard error, which would otherwise follow it on the same line.
    static func clearDrawnLine() {
        if drawn { print("\r\u{1B}[K", terminator: ""); fflush(nil); drawn = false }
    }

    /// "45 s", "12 min 5 s", "3 h 20 min".
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
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
        for signalNumber in InterruptFlag.signals where !InterruptFlag.isIgnored(signalNumber) {
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

/// Set by SIGINT (Ctrl-C), SIGTERM, SIGHUP or SIGUSR1 (`Interruption.received`): training checks
/// it between steps, segmentation between samples and between bands of a streamed image
/// (`Interruption.check()`).
final class InterruptFlag: @unchecked Sendable {
    /// The signals that stop a command as Ctrl-C does: SIGTERM (kill, a scheduler ending the job),
    /// SIGHUP (the terminal or ssh session closed), SIGUSR1 (a batch system's warning before the
    /// time limit, as `sbatch --signal=USR1@120` sends it).
    static let signals = [SIGINT, SIGTERM, SIGHUP, SIGUSR1]
    /// What a second signal says, as a C string made before any handler runs (a handler may only
    /// make async-signal-safe calls: `write`, not Swift's string machinery).
    nonisolated(unsafe) static var secondSignal: UnsafeMutablePointer<CChar>? = nil

    var isSet: Bool { Interruption.received != 0 }
    /// The exit status a shell gives a process its signal ended: 128 + the signal (130 for Ctrl-C, 143 for SIGTERM).
    var exitStatus: Int32 { 128 + Int32(Interruption.received == 0 ? SIGINT : Interruption.received) }

    static func install() -> InterruptFlag {
        if secondSignal == nil { secondSignal = strdup("\nA second signal: stopped at once; what was saved before stands\n") }
        // A parent may start us with SIGINT blocked (the mask is inherited); unblock it.
        var set = sigset_t()
        sigemptyset(&set)
        for signalNumber in signals { sigaddset(&set, signalNumber) }
        sigprocmask(SIG_UNBLOCK, &set, nil)
        for signalNumber in signals {
            // A signal the parent set to be ignored stays ignored, as shells mean it: a script's
            // background job is not to end at the terminal's Ctrl-C.
            if isIgnored(signalNumber) { continue }
            signal(signalNumber) { received in
                if Interruption.received != 0 {  // a second signal ends at once, saying so
                    if let text = InterruptFlag.secondSignal { _ = write(2, text, strlen(text)) }
                    _exit(128 + received)
                }
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
