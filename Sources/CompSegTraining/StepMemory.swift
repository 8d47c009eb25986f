import CompSegCore
import CompSegNN
import Foundation

/// The memory a training step takes, measured before the run's first step rather than guessed:
/// a step's activations and their gradients grow with the image's pixels, so steps of a throwaway
/// copy of the network on a 32² and a 64² image give the bytes per pixel, and a batch of the
/// largest training images takes about that many bytes per pixel of the batch beside what the
/// tensors hold already (the samples kept in memory, the network).
enum StepMemory {
    /// Throws `MemoryShortage` where a step on a batch of the run's size of `train`'s largest
    /// images would need more memory than `usableMemory` allows (the machine's, a control
    /// group's limit, `ulimit -v`), saying what fits.
    /// Not measured on a GPU (its memory is the device's) nor for images under 64 pixels a side.
    /// - Parameter live: the bytes tensors hold now (the samples kept in memory, the network).
    static func require(_ model: RunConfiguration, train: SampleStore, registry: Registry,
                        usable: (bytes: UInt64, words: String) = usableMemory(), live: Int = TensorMemoryUse.liveBytes) throws {
        guard Backend.current is CPUBackend, let (height, width) = train.largest, let channels = train.channels,
              min(height, width) >= 64 else { return }
        let batch = min(model.training.batchSize, train.count)
        guard let (perPixel, fixed, weights) = try? measured(model, channels: channels, registry: registry), perPixel > 0 else {
            return  // a topology that takes no such image, or does not grow with it: the first step will tell
        }
        let perImage = perPixel * Double(height * width)
        // Beside what is held now: the optimizer's state (up to two values per weight, Adam's
        // moments; the gradients are in `fixed`), and freed tensors kept for reuse, at most a step's.
        let held = Double(live) + Double(fixed) + 2 * Double(weights) * 4
        let reused = min(Double(TensorMemoryUse.reusedBytes), perImage * Double(batch))
        let need = held + reused + perImage * Double(batch)
        // A tenth is left to what tensors do not hold: the program, the kernels' scratch memory, the system.
        let room = 0.9 * Double(usable.bytes)
        guard need > room else { return }
        let fitting = Int(max(0, (room - held - Double(TensorMemoryUse.reusedBytes)) / perImage))
        let advice = fitting >= 1
            ? "--batch \(fitting) or less fits (measured: \(byteCount(perImage)) per image of \(height)×\(width))"
            : held >= room ? "what is held already takes \(byteCount(held)) (the samples kept in memory: a lower --cache-mb; the network)"
            : "not even one image of \(height)×\(width) fits (\(byteCount(perImage)) each, measured)"
        throw MemoryShortage(description: "training \(model.topology.identifier) on batches of \(batch) images of \(height)×\(width) "
                             + "needs about \(byteCount(need)) of memory, more than 90% of \(usable.words) (the rest is the program's and the system's); \(advice); "
                             + "a smaller width, or images read smaller (the reader's scale or level), take less")
    }

    /// Bytes per pixel of one image's step, the bytes a step takes whatever the image's size,
    /// and the network's weights.
    static func measured(_ model: RunConfiguration, channels: Int, registry: Registry) throws
        -> (perPixel: Double, fixed: Int, weights: Int) {
        var probed = model
        probed.inputChannels = channels
        let probe = try TrainingRun.trainer(probed, registry)  // a throwaway: its own weights, state and optimizer
        let (network, head) = (probe.network, probe.head)
        func step(_ side: Int) throws -> Int {
            try TensorMemoryUse.measuring {
                let image = Tensor(zeros: [1, channels, side, side])  // the batch's images are held through its step too
                let tissue = Tensor(repeating: 1, shape: [1, 1, side, side]), labels = try Tensor(shape: [1], scalars: [1])
                network.zeroGradients()
                let loss = try head.loss(activation: try network.activation(image), tissue: tissue, labels: labels)
                try loss.backward()
            }.peakBytes
        }
        _ = try step(32)  // the kernels' first-use buffers: made once
        let small = try step(32), large = try step(64)
        let perPixel = Double(large - small) / Double(64 * 64 - 32 * 32)
        return (perPixel, max(0, small - Int(perPixel * 32 * 32)), network.parameterCount)
    }
}
