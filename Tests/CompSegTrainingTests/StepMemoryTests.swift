import CompSegCore
import CompSegIO
import CompSegNetHead
import CompSegNN
@testable import CompSegTraining
import Foundation
import Testing
import UNetTopology

/// Training on images too large for the machine's memory is refused before the first step,
/// naming what was measured and the batch that fits.
@Suite struct StepMemoryTests {
    static func run(batch: Int, side: Int) throws -> (RunConfiguration, SampleStore, Registry) {
        var registry = Registry()
        try UNet.register(in: &registry)
        try CompSegNetHead.register(in: &registry)
        var settings = TrainingSettings()
        settings.batchSize = batch
        let model = RunConfiguration(modality: nil, topology: .init(identifier: "unet", configuration: ["width": 4, "depth": 2]),
                                     head: .init(identifier: "compsegnet"), inputChannels: 3, training: settings)
        let store = SampleStore(ids: ["a", "b", "c", "d"], labels: [.cancer, .cancerFree, .cancer, .cancerFree],
                                shape: Shape([3, side, side]), cacheBudget: 0) { _ in throw TrainingError("not read") }
        return (model, store, registry)
    }

    /// A run is refused before its first step where its folder's file system cannot hold its
    /// files: two checkpoints and two weights files, whose sizes are foretold to within their headers.
    @Test func aRunNeedsRoomOnDiskForTwoOfEachFile() throws {
        let (model, _, registry) = try Self.run(batch: 2, side: 16)
        let trainer = try TrainingRun.trainer(model, registry)
        let folder = RunDirectory(FileManager.default.temporaryDirectory.appendingPathComponent("compseg-disk-\(UUID())"))
        try folder.create()
        defer { try? FileManager.default.removeItem(at: folder.url) }
        var checkpoint = trainer.checkpoint()  // Adam's moments are made by the first step: as many as the weights
        checkpoint.optimizerState = Dictionary(uniqueKeysWithValues: trainer.network.namedParameters().flatMap { name, p in
            [("\(name).m", p.copy()), ("\(name).v", p.copy())]
        })
        checkpoint.best = (1, 0.5, trainer.network.stateDictionary())
        try checkpoint.write(to: folder.checkpointFile)
        try folder.writeWeights(trainer.network.stateDictionary())
        func size(_ url: URL) throws -> Int { try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0 }
        let (foretold, weights) = DiskSpace.runFiles(trainer)
        let (written, writtenWeights) = (try size(folder.checkpointFile), try size(folder.weightsFile))
        #expect(foretold <= written && written < foretold + 64 * 1024 && weights <= writtenWeights && writtenWeights < weights + 16 * 1024,
                "foretold \(foretold) and \(weights), written \(written) and \(writtenWeights)")
        // With those files there, one more of each and a megabyte must fit.
        let need = foretold + weights + (1 << 20) - (written - foretold) - (writtenWeights - weights)
        try DiskSpace.require(trainer, in: folder, free: need)
        do {
            try DiskSpace.require(trainer, in: folder, free: need - 1)
            Issue.record("a file system without room for the next commit is taken")
        } catch let error as IOError {
            #expect("\(error)".hasPrefix(folder.url.path) && "\(error)".contains("free some space, or train into a folder elsewhere"), "\(error)")
        }
    }

    @Test func aBatchTooLargeForMemoryIsRefusedSayingWhatFits() throws {
        let (model, store, registry) = try Self.run(batch: 4, side: 1024)
        let roomy: (bytes: UInt64, words: String) = (1 << 40, "a terabyte")
        try StepMemory.require(model, train: store, registry: registry, usable: roomy, live: 0)
        // Room for two and a half images' steps beside what is held: a batch of 2 fits.
        let (perPixel, fixed, weights) = try StepMemory.measured(model, channels: 3, registry: registry)
        #expect(perPixel > 4 * 4 && perPixel < 4 * 4 * 100, "\(perPixel) bytes per pixel at width 4")  // some feature maps of 4 channels
        let held = TensorMemoryUse.reusedBytes + fixed + 8 * weights  // nothing held before (live: 0)
        let tight: (bytes: UInt64, words: String) = (UInt64((Double(held) + 2.5 * perPixel * 1024 * 1024) / 0.9), "a little")
        do {
            try StepMemory.require(model, train: store, registry: registry, usable: tight, live: 0)
            Issue.record("four 1024² images fit in room for two and a half")
        } catch let error as MemoryShortage {
            #expect(error.description.hasPrefix("training unet on batches of 4 images of 1024×1024 needs about ")
                        && error.description.contains("; --batch 2 or less fits (measured: ") && error.description.contains("per image of 1024×1024)"),
                    "\(error)")
        }
        let none: (bytes: UInt64, words: String) = (1 << 20, "a MiB")
        do {
            try StepMemory.require(model, train: store, registry: registry, usable: none, live: 2 << 20)
            Issue.record("a step fits in a MiB")
        } catch let error as MemoryShortage {
            #expect(error.description.contains("; what is held already takes "), "\(error)")  // held alone is over: not the image's fault
        }
        // Small images are not measured: every step of them fits.
        let (smallModel, small, _) = try Self.run(batch: 4, side: 32)
        try StepMemory.require(smallModel, train: small, registry: registry, usable: none, live: 0)
    }
}
