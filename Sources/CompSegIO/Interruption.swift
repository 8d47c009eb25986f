import Foundation

/// A stop asked for by a signal (Ctrl-C, SIGTERM; the command line tool's handler sets `received`),
/// which long work checks between its parts (samples, bands of a streamed image): `check()` throws
/// `Interrupted`, so that what the work was writing is removed as after any other failure.
public enum Interruption {
    /// The signal received, 0 before one.
    nonisolated(unsafe) public static var received: sig_atomic_t = 0

    /// - Throws: `Interrupted` once a signal was received.
    public static func check() throws {
        if received != 0 { throw Interrupted(signal: Int32(received)) }
    }
}

/// Work stopped by `signal` between two of its parts.
public struct Interrupted: Error, CustomStringConvertible {
    public let signal: Int32
    public init(signal: Int32) { self.signal = signal }
    public var description: String {
        "interrupted by " + (signal == SIGINT ? "Ctrl-C (SIGINT)" : signal == SIGTERM ? "SIGTERM" : signal == SIGHUP ? "SIGHUP"
                             : signal == SIGUSR1 ? "SIGUSR1" : "signal \(signal)")
            + ": stopped before the end; the files it was writing were not kept"
    }
}
