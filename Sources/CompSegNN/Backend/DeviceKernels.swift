/// Kernels a backend runs where it holds the tensors (a GPU), for the work outside the seam's
/// primitives that a training step does every step: making the batch, the pooling head's masked
/// mean, the collapse check's range, batch norm's running statistics and the optimizer's update.
/// Without them each would carry its tensors to the host and back.
///
/// Each op asks `Backend.current` for these kernels and runs its host loop where the backend has
/// none, or answers nil (false) because the tensors are not in its memory.
public protocol DeviceKernels: KernelBackend {
    /// `stack`'s result for plain tensors of one shape of at least two axes, views valid for their
    /// planes; nil where the tensors are not this backend's.
    func stack(_ tensors: [Tensor], views: [PlaneView]) throws -> Tensor?

    /// Per image of N×1×H×W `a` and `mask` (plain): Σ m·a / Σ m and Σ m, each of shape N, the same
    /// sums as `maskedMean`'s host loop (Σ m·a in double, Σ m) in the kernel's own order; nil where
    /// the tensors are not this backend's. An empty mask's mean is NaN.
    func maskedMean(_ a: Tensor, mask: Tensor) throws -> (means: Tensor, totals: Tensor)?
    /// da = dmeans[n] / totals[n] · mask, image by image.
    func maskedMeanBackward(_ dmeans: Tensor, mask: Tensor, totals: Tensor) throws -> Tensor

    /// Per image of N×C×H×W `a` and `mask` (plain): its lowest and highest masked value, N×2; nil
    /// where the tensors are not this backend's.
    func maskedRange(_ a: Tensor, mask: Tensor) throws -> Tensor?

    /// running ← (1 − momentum)·running + momentum·batch·factor, in place (plain tensors of one
    /// shape); false where the tensors are not this backend's.
    func blend(_ running: Tensor, toward batch: Tensor, momentum: Float, factor: Float) throws -> Bool

    /// Updates `value` in place by `rule` from `gradient` (in `value`'s layout) and `state` (the
    /// rule's planes one after the other, as Optimizer keeps them); false where the tensors are not
    /// this backend's.
    func update(_ rule: OptimizerRule, value: Tensor, gradient: Tensor, state: Tensor) throws -> Bool
}

extension Backend {
    /// The current backend's `DeviceKernels`; nil where it has none (the CPU's: its tensors are
    /// the host's already).
    static var deviceKernels: (any DeviceKernels)? { current as? any DeviceKernels }
}
