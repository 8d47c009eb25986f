import Foundation
import Testing
@testable import CompSegIO

/// Output folders: a user's files are never written over, and what a killed write left is known.
@Suite struct OutputFolderTests {
    @Test func anEmptyOrNewFolderIsTakenAndAnyOtherNamesWhatItHolds() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try requireEmptyFolder(folder, "unused")  // new
        try createFolder(folder)
        try requireEmptyFolder(folder, "unused")  // empty
        for name in ["b.csv", ".hidden", "a.png", "c", "d"] { try Data().write(to: folder.appendingPathComponent(name)) }
        #expect(throws: IOError(file: folder.path, "already holds 5 entries (.hidden, a.png, b.csv, …); choose another")) {
            try requireEmptyFolder(folder, "choose another")
        }
        #expect(entriesSummary(["x"]) == "1 entry (x)" && entriesSummary(["x", "y"]) == "2 entries (x, y)")
        let file = folder.appendingPathComponent("a.png")
        #expect(throws: IOError(file: file.path, "is a file; expected a folder to write into")) { try requireEmptyFolder(file, "unused") }
        // A symbolic link to nothing is named as one (the system says only "File exists").
        let link = folder.appendingPathComponent("link"), target = folder.appendingPathComponent("nowhere/deeper")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target.path)
        #expect(throws: IOError(file: link.path, "is a symbolic link to \(target.path), which does not exist; create that folder, or give another path")) {
            try createFolder(link)
        }
        let below = link.appendingPathComponent("sub")
        #expect(throws: IOError(file: below.path, "cannot be created: \(link.path) is a symbolic link to \(target.path), which does not exist; "
                                + "create that folder, or give another path")) { try createFolder(below) }
    }

    @Test func leftoverTemporariesAreOursOrFoundations() {
        let uuid = "6F9619FF-8B86-D011-B42D-00C04FC964FF"
        #expect(isLeftoverTemporary(".weights.safetensors.\(uuid).tmp") && isLeftoverTemporary(".staging-\(uuid).tmp"))
        #expect(isLeftoverTemporary(".dat.nosync3f2a.XyZ12"))
        #expect(!isLeftoverTemporary("history.csv") && !isLeftoverTemporary(".hidden") && !isLeftoverTemporary("x.tmp"))
        // A user's hidden files that merely look alike stay theirs.
        #expect(!isLeftoverTemporary(".draft.tmp") && !isLeftoverTemporary(".staging-1B2C.tmp") && !isLeftoverTemporary(".\(uuid).tmp"))
    }

    /// A durable write leaves nothing beside its file (no temporary of Foundation's either).
    @Test func aDurableWriteLeavesOnlyItsFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try createFolder(folder)
        try writeDurably(Data("one".utf8), to: folder.appendingPathComponent("f.txt"))
        try writeDurably(Data("two".utf8), to: folder.appendingPathComponent("f.txt"))
        #expect(try folderEntries(folder) == ["f.txt"])
        #expect(try String(contentsOf: folder.appendingPathComponent("f.txt"), encoding: .utf8) == "two")
        // Written again, a file keeps the permissions it was given.
        let file = folder.appendingPathComponent("f.txt").path
        try FileManager.default.setAttributes([.posixPermissions: 0o440], ofItemAtPath: file)
        try writeDurably(Data("three".utf8), to: folder.appendingPathComponent("f.txt"))
        #expect(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int == 0o440)
    }

    /// A file over 2 GiB holds its bytes past the first write(2) (which Linux stops at 0x7ffff000
    /// bytes; Foundation's `Data.write` wrote other bytes there, and an 8 GB phantom's axis was junk).
    @Test func aFileOverTwoGiBHoldsItsBytes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try createFolder(folder)
        let limit = 0x7fff_f000, count = limit + 8192
        var data = Data(count: count)
        data.withUnsafeMutableBytes { (bytes: UnsafeMutableRawBufferPointer) in
            for i in (limit - 4096)..<count { bytes[i] = UInt8(truncatingIfNeeded: i &* 7) }
        }
        let url = folder.appendingPathComponent("large.bin")
        try writeDurably(data, to: url)
        data = Data()
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(limit - 4096))
        let tail = try #require(try handle.readToEnd())
        #expect(tail.count == 12288 && tail.enumerated().allSatisfy { $1 == UInt8(truncatingIfNeeded: (limit - 4096 + $0) &* 7) })
    }

    /// A path in a message's command pastes as one shell word.
    @Test func shellWordsQuoteOnlyWhatNeedsIt() {
        #expect(shellWord("/tmp/run-1/a.b") == "/tmp/run-1/a.b")
        #expect(shellWord("/tmp/my run") == "'/tmp/my run'" && shellWord("it's") == "'it'\\''s'" && shellWord("") == "''")
    }

    /// The list of outputs: a new set replaces the earlier one, which goes once the new is in
    /// place; files it never listed (a user's) stay.
    @Test func outputListReplacesWhatItListed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try createFolder(folder)
        try writeDurably(Data("mine".utf8), to: folder.appendingPathComponent("notes.txt"))
        #expect(OutputList.read(in: folder) == nil)
        let first = try OutputList.replace(in: folder, earlier: [], last: ["record.csv"]) { staging in
            for name in ["a.png", "b.png", "record.csv"] { try writeDurably(Data(name.utf8), to: staging.appendingPathComponent(name)) }
        }
        #expect(first.sorted() == ["a.png", "b.png", "record.csv"])
        let listed = try #require(OutputList.read(in: folder)).map(\.lastPathComponent)
        #expect(listed == ["a.png", "b.png", "record.csv"])
        try OutputList.replace(in: folder, earlier: try #require(OutputList.read(in: folder))) { staging in
            try writeDurably(Data("new".utf8), to: staging.appendingPathComponent("a.png"))
        }
        #expect(try folderEntries(folder).sorted() == [OutputList.name, "a.png", "notes.txt"])
        #expect(try String(contentsOf: folder.appendingPathComponent("a.png"), encoding: .utf8) == "new")
        #expect(throws: IOError.self) { try requireEmptyFolder(folder, "x") }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("notes.txt"))
        try FileManager.default.removeItem(at: folder.appendingPathComponent("a.png"))
        try requireEmptyFolder(folder, "the list alone lists what is gone")
    }

    /// Whether another process holds a folder's lock, as segment asks of a run that is still training.
    @Test func aHeldLockIsSeen() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-lock-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try createFolder(folder)
        #expect(!FolderLock.isHeld(folder))
        let lock = try FolderLock(folder, holder: "testing")
        #expect(!FolderLock.isHeld(folder))  // this process's own lock is no other's
        lock.release()
        // Another holder: a lock on another open of the folder, as another process takes it.
        let other = open(folder.path, O_RDONLY | O_DIRECTORY)
        #expect(flock(other, LOCK_EX | LOCK_NB) == 0)
        #expect(FolderLock.isHeld(folder))
        close(other)
        #expect(!FolderLock.isHeld(folder) && !FolderLock.isHeld(folder.appendingPathComponent("gone")))
    }

    /// A name holding a newline, tab or backslash (a sample's file may be named so) is listed on one
    /// line and read back as it is, its file still known for the list's after another write; a list
    /// written before escaping, with a lone backslash, reads as it was.
    @Test func namesWithNewlinesStayListed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try createFolder(folder)
        let names = ["a\nb_map.png", "c\td.png", "e\\n.png", "plain.png"]
        try OutputList.replace(in: folder, earlier: []) { staging in
            for name in names { try writeDurably(Data(name.utf8), to: staging.appendingPathComponent(name)) }
        }
        #expect(try #require(OutputList.read(in: folder)).map(\.lastPathComponent).sorted() == names.sorted())
        #expect(OutputList.changed(in: folder).isEmpty)
        #expect(OutputList.unlisted("x\\q\\") == "x\\q\\" && OutputList.listed("a\\n") == "a\\\\n")
        // A list an earlier compseg wrote, names as they are: a backslash and n stay so.
        let list = folder.appendingPathComponent(OutputList.name)
        let before = try String(contentsOf: list, encoding: .utf8)
        try Data("x\\tumor_map.png\t1\t2\n".utf8).write(to: list)
        #expect(OutputList.read(in: folder)?.map(\.lastPathComponent) == ["x\\tumor_map.png"])
        try Data(before.utf8).write(to: list)
        try OutputList.replace(in: folder, earlier: try #require(OutputList.read(in: folder))) { staging in
            try writeDurably(Data("new".utf8), to: staging.appendingPathComponent("plain.png"))
        }
        #expect(try folderEntries(folder).sorted() == [OutputList.name, "plain.png"])
    }
}
