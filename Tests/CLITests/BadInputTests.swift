import Foundation
import Testing

/// Hostile but realistic input: each gives a clean error naming what is wrong, exit status 1 or
/// 64 (usage), never a trap.
@Suite struct BadInputTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    func refuses(_ arguments: [String], saying text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try cli.run(arguments)
        #expect([1, 64].contains(r.status), "exit \(r.status): \(r.output)", sourceLocation: sourceLocation)
        #expect(r.output.contains(text), "expected '\(text)' in: \(r.output)", sourceLocation: sourceLocation)
    }

    @Test func numericOptionsAreCheckedWithTheirRanges() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 1)
        let train = ["train", "--modality", "infrared", "--data", manifest, "--out", folder.path("run")]
        try refuses(train + ["--epochs", "-1"], saying: "--epochs must be positive, got -1")
        try refuses(train + ["--lr", "inf"], saying: "--lr must be a positive finite number, got inf")
        try refuses(train + ["--threads", "0"], saying: "--threads must lie in 1…1024, got 0")
        try refuses(train + ["--threads", "100000"], saying: "--threads must lie in 1…1024, got 100000")
        try refuses(train + ["--width", "100000000", "--depth", "2"], saying: "width must lie in 1…4096, got 100000000")
        #expect(!FileManager.default.fileExists(atPath: folder.path("run/model.json")))
        try refuses(["train", "--modality", "infrared", "--data", manifest, "--out", ""], saying: "empty path")
        try refuses(["phantom", "--size", "1000000", "--out", folder.path("p")], saying: "--size in 8…8192")
    }

    @Test func manifestsWithDuplicatesOrOneClassAreRefused() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 2)
        let lines = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n").map(String.init)
        func write(_ name: String, _ rows: [String], bom: Bool = false, separator: String = "\n") throws -> String {
            let path = folder.path("data/\(name)")
            try Data(((bom ? "\u{FEFF}" : "") + rows.joined(separator: separator) + separator).utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        func train(_ path: String, _ out: String) -> [String] {
            ["train", "--modality", "infrared", "--data", path, "--out", folder.path(out), "--epochs", "1", "--width", "4", "--depth", "2"]
        }
        // A byte-order mark and CR-only line endings are read as meant.
        let mac = try write("mac.csv", lines, bom: true, separator: "\r")
        #expect(try cli.run(train(mac, "mac")).status == 0)
        // The same file twice, in one split or two.
        let twice = try write("twice.csv", lines + [lines[1]])
        try refuses(train(twice, "twice"), saying: "is listed already on line 2")
        let moved = lines[1].replacingOccurrences(of: ",train,", with: ",test,").replacingOccurrences(of: ",val,", with: ",test,")
        let leak = try write("leak.csv", lines + [moved.contains(",test,") ? moved : lines[1]])
        try refuses(train(leak, "leak"), saying: "is listed already on line 2")
        // Training rows of one label only.
        let oneClass = try write("one.csv", [lines[0]] + lines.dropFirst().filter { !($0.contains(",1,") && $0.contains(",train,")) })
        try refuses(train(oneClass, "one"), saying: "the train split needs both labels")
    }

    /// Two inputs with the same file name get distinct outputs: nothing of the first is lost.
    @Test func samplesWithTheSameFileNameKeepTheirOwnOutputs() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 4)
        #expect(try cli.trainTiny(folder, manifest) == 0)
        for (spot, sub) in [("spot000", "A"), ("spot001", "B")] {
            try FileManager.default.createDirectory(atPath: folder.path(sub), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: folder.path("data/\(spot).h5"), toPath: folder.path("\(sub)/s.h5"))
        }
        let r = try cli.run(["segment", "--model", folder.path("run"), folder.path("A/s.h5"), folder.path("B/s.h5"), "--out", folder.path("seg")])
        #expect(r.status == 0, "\(r.output)")
        #expect(FileManager.default.fileExists(atPath: folder.path("seg/s_map.png")) && FileManager.default.fileExists(atPath: folder.path("seg/s-2_map.png")))
        let table = try String(contentsOfFile: folder.path("seg/segmentation.csv"), encoding: .utf8)
        #expect(table.contains("\ns,") && table.contains("\ns-2,"), "\(table)")
    }

    /// Unusable output folders are named with the system's reason; a segment run that fails
    /// part-way (here the file-size limit, as a full disk fails a write) leaves no new file.
    @Test func outputFoldersAndFailedWritesLeaveNothingBehind() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 5)
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder.path("file")))
        let phantom = ["phantom", "--spots", "4", "--size", "16", "--bands", "20", "--out"]
        try refuses(phantom + [folder.path("file")], saying: "file: is a file; expected a folder to write into")
        try refuses(phantom + [folder.path("file/sub")], saying: "cannot be created: \(folder.path("file")) is a file, not a folder")
        try refuses(phantom + ["/proc/compseg-test"], saying: "/proc/compseg-test: cannot be created: No such file or directory")
        #expect(try cli.trainTiny(folder, manifest) == 0)
        try FileManager.default.createDirectory(atPath: folder.path("seg"), withIntermediateDirectories: true)
        try Data("kept".utf8).write(to: URL(fileURLWithPath: folder.path("seg/notes.txt")))
        // RLIMIT_FSIZE of 1 KiB, SIGXFSZ ignored: the first larger write fails with EFBIG.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "trap '' XFSZ; ulimit -f 2; exec \"$0\" segment --model \"$1\" --data \"$2\" --out \"$3\"",
                           cli.binary.path, folder.path("run"), manifest, folder.path("seg")]
        let pipe = Pipe()
        shell.standardOutput = pipe; shell.standardError = pipe
        try shell.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 1, "\(output)")
        #expect(output.contains(folder.path("seg/")) && output.contains("no file of this run was kept") && !output.contains("staging"),
                "\(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path("seg")) == ["notes.txt"])
    }

    /// Settings in a modality manifest: a fraction for a count, an unknown layout, a band outside the axis.
    @Test func modalityManifestValuesNameTheKeyAndTheChoices() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 6)
        let infrared = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("modalities/infrared.yaml"), encoding: .utf8)
        for (n, (from, to, message)) in [("components: 16", "components: 4.5", "key 'components': 4.5 is not a whole number"),
                                         ("layout: hwb ", "layout: whb ", "key 'layout': 'whb' is not one of hwb, bhw, flat, matlab"),
                                         ("method: vector", "method: band, wavenumber: 5000",
                                          "wavenumber 5000.0 lies outside the spectral axis")].enumerated() {
            let path = folder.path("lab\(n).yaml")
            try Data(infrared.replacingOccurrences(of: from, with: to).utf8).write(to: URL(fileURLWithPath: path))
            try refuses(["train", "--modality", path, "--data", manifest, "--out", folder.path("run\(n)"), "--epochs", "1",
                         "--width", "4", "--depth", "2"], saying: message)
        }
    }
}
