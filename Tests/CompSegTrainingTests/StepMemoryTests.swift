import CompSegCore
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
