import Foundation
import Testing
@testable import CompSegIO

/// A folder held by another process is refused naming that process, read from the kernel's
/// table of locks.
@Suite struct FolderLockTests {
    /// `/proc/locks` lines: the holder of the folder's device and inode is found; waiters, other
    /// kinds of lock, other files and a process the kernel cannot name (0) are not taken.
    @Test func theHolderIsFoundInTheTableOfLocks() {
        // Device 254:0 (major fe, minor 00), as glibc packs it into st_dev; and 8:17 (08:11).
        let table = """
            1: POSIX  ADVISORY  WRITE 100 fe:00:42 0 EOF
            2: FLOCK  ADVISORY  WRITE 200 fe:00:41 0 EOF
            3: FLOCK  ADVISORY  WRITE 0 08:11:42 0 EOF
            3: -> FLOCK  ADVISORY  WRITE 300 fe:00:42 0 EOF
            4: FLOCK  ADVISORY  WRITE 400 fe:00:42 0 EOF
            5: FLOCK  ADVISORY  WRITE 500 08:11:7 0 EOF
            """
        #expect(FolderLock.lockingProcess(in: table, device: 254 << 8, inode: 42) == 400)
        #expect(FolderLock.lockingProcess(in: table, device: 8 << 8 | 17, inode: 7) == 500)
        #expect(FolderLock.lockingProcess(in: table, device: 8 << 8 | 17, inode: 42) == nil, "PID 0: another namespace's")
        #expect(FolderLock.lockingProcess(in: table, device: 254 << 8, inode: 43) == nil)
    }

    /// A file system without locks (flock failing with ENOSYS, as Lustre without `-o flock` does):
    /// the folder is used unlocked, and why is kept to be said.
    @Test func aFolderThatCannotBeLockedIsUsedUnlockedAndSaidToBe() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-lock-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let unlocked = try FolderLock(folder, holder: "working in this folder", lock: { _, _ in errno = ENOSYS; return -1 })
        defer { unlocked.release() }
        #expect(unlocked.unlockedReason == String(cString: strerror(ENOSYS)))
        let locked = try FolderLock(folder, holder: "working in this folder")
        defer { locked.release() }
        #expect(locked.unlockedReason == nil)
    }

    /// Held by this process's first lock, a second is refused (exit 75's `isBusy`), naming this
    /// process and its command where the system's table tells them.
    @Test func aSecondLockIsRefusedNamingTheHolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-lock-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try FolderLock(folder, holder: "working in this folder")
        defer { first.release() }
        do {
            _ = try FolderLock(folder, holder: "working in this folder")
            Issue.record("a held folder was locked twice")
        } catch let error as IOError {
            #expect(error.isBusy && error.description.hasSuffix("is working in this folder now; wait for it to end, or stop it first"), "\(error)")
            // Where the table of locks can be read (Linux), this process: its PID.
            if FileManager.default.isReadableFile(atPath: "/proc/locks") {
                #expect(error.description.contains("another compseg (PID \(getpid()), user "), "\(error)")
            }
        }
    }
}
