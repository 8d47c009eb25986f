import CompSegCore
import CompSegNN

/// What training relies on of a topology and a pooling head (docs/adding-a-topology.md,
/// docs/adding-a-head.md), checked on every step so that a plugin that breaks it is named at
/// once: not met later as an engine error, or never, as a run that trains to nonsense.
struct PluginContracts {
    /// The plugins' identifiers, for messages.
    var topology: String, head: String

    /// `activation`, the network's output for `images` (N×C×H×W), is N×1×H×W.
    func requireActivation(_ activation: Tensor, for images: Tensor) throws {
        let (n, h, w) = (images.shape[0], images.shape[2], images.shape[3])
        guard activation.shape == [n, 1, h, w] else {
            throw TrainingError("topology '\(topology)' returned \(activation.shape) for a batch of \(images.shape); "
                                + "a topology must return N×1×H×W, one activation map per image at the image's size (docs/adding-a-topology.md)")
        }
    }

    /// The activations on a batch's tissue span [`lowest`, `highest`] (`maskedRange`, two numbers
    /// per image off the device), within [0, 1]. NaN is left to the epoch's check: weights that
    /// diverged give it, not the topology.
    func requireRange(lowest: Float, highest: Float) throws {
        guard lowest < 0 || highest > 1 else { return }
        throw TrainingError("topology '\(topology)' returned activations in [\(lowest), \(highest)] on a batch's tissue; a "
                            + "topology's activations must lie in [0, 1]: end it in a sigmoid (docs/adding-a-topology.md)")
    }

    /// `loss`, the head's loss `on` a map (in words), is one value, and `finite` (for the maps that
    /// every head must score finitely; a network's diverged maps are the epoch's check).
    func requireLoss(_ loss: Tensor, on map: String, finite: Bool = false) throws {
        guard loss.scalars.count == 1 else {
            throw TrainingError("pooling head '\(head)' returned a loss of shape \(loss.shape) for \(map); a head's loss "
                                + "must be one value, shape 1 (a mean over the batch; docs/adding-a-head.md)")
        }
        guard !finite || loss.scalars[0].isFinite else {
            throw TrainingError("pooling head '\(head)' gives a loss of \(loss.scalars[0]) for \(map); a head's loss must be finite "
                                + "for every map in [0, 1], all-dark and all-lit too: clip before a logarithm (docs/adding-a-head.md)")
        }
    }

    /// `scores`, the head's scores for `count` images, are `count` values.
    func requireScores(_ scores: Tensor, count: Int) throws {
        guard scores.scalars.count == count else {
            throw TrainingError("pooling head '\(head)' returned \(scores.scalars.count) scores for \(count) images; a head scores "
                                + "each image once (docs/adding-a-head.md)")
        }
    }
}
