/// The seam between ops and kernels, spoken in primitive terms (as oneDNN and cuDNN are):
/// convolution forward / backward-data / backward-weights, pooling with a workspace, eltwise,
/// binary, batch normalization, concat and reorder. Ops and autodiff call only this, so another
/// backend (e.g. CUDA) plugs in without touching them.
///
/// A backend may return tensors in its own layout; it must accept tensors in plain layout or in
/// any layout it produced itself. Shapes are validated by the ops before they call the backend.
public protocol KernelBackend: AnyObject, Sendable {
    var name: String { get }
    /// Where the tensors this backend's ops make take their memory from (by default the host's pool).
    var memory: any TensorMemory { get }

    /// `x` in `layout` (nil: plain); `x` itself when it is already laid out so.
    func reorder(_ x: Tensor, to layout: TensorLayout?) -> Tensor

    /// The layout the convolution works in for its input (nil: plain). An input converted to it
    /// once serves forward and backward-weights alike.
    func convolutionInputLayout(_ input: Shape, weightShape: Shape, withBias: Bool,
                                geometry: ConvolutionGeometry, epilogue: ConvolutionEpilogue) throws -> TensorLayout?
    /// The layout the convolution reads its weights in (nil: plain). A parameter kept in it between
    /// steps is converted neither for the forward pass nor for its gradient.
    func convolutionWeightLayout(_ input: Shape, weightShape: Shape, withBias: Bool,
                                 geometry: ConvolutionGeometry, epilogue: ConvolutionEpilogue) throws -> TensorLayout?
    /// The convolution, then `epilogue.activation` on its output when given. `weight` is plain or
    /// in a layout this backend gave.
    func convolutionForward(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                            epilogue: ConvolutionEpilogue) throws -> Tensor
    func convolutionBackwardData(_ dy: Tensor, weight: Tensor, inputShape: Shape,
                                 geometry: ConvolutionGeometry) throws -> Tensor
    /// Gradients of the weight, in `weightLayout` (the weight's own; nil: plain), and of the bias
    /// when `withBias` (plain).
    func convolutionBackwardWeights(_ dy: Tensor, input: Tensor, weightShape: Shape, weightLayout: TensorLayout?,
                                    withBias: Bool, geometry: ConvolutionGeometry) throws -> (weight: Tensor, bias: Tensor?)

    /// Pooling; for max pooling in training, also the workspace its backward needs (the argmax).
    func poolingForward(_ x: Tensor, geometry: PoolingGeometry, training: Bool) throws -> (Tensor, PoolingWorkspace?)
    func poolingBackward(_ dy: Tensor, workspace: PoolingWorkspace?, inputShape: Shape,
                         geometry: PoolingGeometry) throws -> Tensor

    func eltwiseForward(_ x: Tensor, _ function: Eltwise) throws -> Tensor
    /// `value` is the op's input, or its output for functions with `usesOutputForBackward`.
    func eltwiseBackward(_ dy: Tensor, value: Tensor, _ function: Eltwise) throws -> Tensor

    /// a ∘ b elementwise, same shapes; the result is in a's layout.
    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) throws -> Tensor

    /// Concatenation along `axis` (channels: 1).
    func concat(_ xs: [Tensor], axis: Int) throws -> Tensor
    /// The part of `x` at `range` along `axis`.
    func slice(_ x: Tensor, axis: Int, range: Range<Int>) throws -> Tensor

    func batchNormForward(_ x: Tensor, scale: Tensor, shift: Tensor, statistics: BatchStatistics?,
                          epsilon: Float) throws -> (y: Tensor, statistics: BatchStatistics)
    /// With `frozen`, the statistics are constants (inference mode), else they are x's batch statistics.
    func batchNormBackward(_ dy: Tensor, x: Tensor, scale: Tensor, statistics: BatchStatistics, frozen: Bool,
                           epsilon: Float) throws -> (dx: Tensor, dscale: Tensor, dshift: Tensor)
}

extension KernelBackend {
    public var memory: any TensorMemory { StoragePool.shared }
}

/// The backend that ops run on: the process's (`DeviceChoice.activate`), or within `using`, the
/// one given there, for the calling task or thread alone.
public enum Backend {
    nonisolated(unsafe) private static var processWide: any KernelBackend = CPUBackend.shared
    @TaskLocal private static var scoped: (any KernelBackend)?

    /// Reading gives the scoped backend where `using` set one; setting sets the process's.
    public static var current: any KernelBackend {
        get { scoped ?? processWide }
        set { processWide = newValue }
    }

    /// Runs `body` with `backend` as the current one for this task (or thread) only: code that
    /// compares backends, without moving ops that run meanwhile elsewhere (a parallel test).
    public static func using<R>(_ backend: any KernelBackend, _ body: () throws -> R) rethrows -> R {
        try $scoped.withValue(backend) { try body() }
    }
}

/// Stride and padding of a 2-D convolution; `transposed` for the transposed (up-sampling) form.
/// Weights are O×I×kH×kW, or I×O×kH×kW when transposed (PyTorch layouts).
public struct ConvolutionGeometry: Hashable, Sendable {
    public var stride: (Int, Int) { (strideH, strideW) }
    public var strideH: Int, strideW: Int
    public var paddingH: Int, paddingW: Int
    public var transposed: Bool

    public init(stride: Int = 1, padding: Int = 0, transposed: Bool = false) {
        self.init(stride: (stride, stride), padding: (padding, padding), transposed: transposed)
    }
    public init(stride: (Int, Int), padding: (Int, Int), transposed: Bool = false) {
        strideH = stride.0; strideW = stride.1; paddingH = padding.0; paddingW = padding.1
        self.transposed = transposed
    }

    /// The output size along one axis for input `size` and kernel `k`.
    ///   direct: ⌊(size + 2·pad − k) / stride⌋ + 1;  transposed: (size − 1)·stride − 2·pad + k.
    public func outputSize(_ size: Int, kernel k: Int, vertical: Bool) -> Int {
        let (s, p) = vertical ? (strideH, paddingH) : (strideW, paddingW)
        return transposed ? (size - 1) * s - 2 * p + k : (size + 2 * p - k) / s + 1
    }

    /// The output of an N×C×H×W `input` and a `weight` (O×I×kH×kW; I×O×kH×kW when transposed).
    public func outputShape(input: Shape, weight: Shape) -> Shape {
        [input.n, transposed ? weight[1] : weight[0], outputSize(input.h, kernel: weight[2], vertical: true),
         outputSize(input.w, kernel: weight[3], vertical: false)]
    }
}

/// What a convolution's forward pass does besides convolving: an activation applied to its output
/// inside the same kernel (oneDNN's post-ops: one pass over memory instead of two), and whether a
/// backward pass will follow (inference may choose other kernels and keeps nothing for backward).
public struct ConvolutionEpilogue: Hashable, Sendable {
    public var activation: Eltwise?
    public var training: Bool
    public init(activation: Eltwise? = nil, training: Bool) {
        self.activation = activation; self.training = training
    }
    /// The plain convolution of a training step.
    public static let training = ConvolutionEpilogue(training: true)
}

/// Window, stride and kind of a 2-D pooling (no padding; a trailing row or column that does not
/// fill a window is dropped, as PyTorch does).
public struct PoolingGeometry: Hashable, Sendable {
    public enum Kind: Sendable { case max, average }
    public var kernel: Int
    public var stride: Int
    public var kind: Kind
    public init(kernel: Int = 2, stride: Int? = nil, kind: Kind = .max) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.kind = kind
    }
    public func outputSize(_ size: Int) -> Int { (size - kernel) / stride + 1 }
}

/// What a max pooling's backward needs (its argmax, in the backend's form).
public protocol PoolingWorkspace: AnyObject, Sendable {}

/// Elementwise functions with a kernel in every backend.
public enum Eltwise: Hashable, Sendable {
    case relu
    /// log(1 + eˣ)
    case softplus
    /// 1 / (1 + e⁻ˣ)
    case sigmoid
    /// |x|
    case abs
    /// eˣ
    case exp
    /// ln x
    case log
    /// x²
    case square
    /// min(max(x, lower), upper); the gradient is 1 strictly inside the interval, 0 outside.
    case clip(lower: Float, upper: Float)
    /// α·x + β
    case linear(alpha: Float, beta: Float)

    /// Whether the backward is computed from the output instead of the input (the derivative is
    /// a function of the output: relu's 1[y > 0], sigmoid's y·(1 − y), softplus' 1 − e⁻ʸ). Such a
    /// function runs inside a convolution's kernel in training too.
    public var usesOutputForBackward: Bool {
        switch self {
        case .relu, .sigmoid, .softplus: true
        default: false
        }
    }
}

public enum BinaryOp: Sendable { case add, multiply }

/// Per-channel mean and (biased) variance of a batch, as batch normalization uses them.
public struct BatchStatistics: Sendable {
    public var mean: Tensor
    public var variance: Tensor
    public init(mean: Tensor, variance: Tensor) { self.mean = mean; self.variance = variance }
}
