import Foundation
import CKernels

/// RMSprop with PyTorch's semantics: v ← αv + (1−α)g²; with `centered`, ḡ ← αḡ + (1−α)g and
/// the denominator uses v − ḡ²; d = √(·) + ε; with momentum b ← μb + g/d, p ← p − lr·b, else
/// p ← p − lr·g/d. The paper trained with RMSprop, lr 1e-3.
public final class RMSprop: Optimizer, @unchecked Sendable {
    public let alpha: Float, epsilon: Float, momentum: Float, centered: Bool

    public init(learningRate: Float = 1e-2, alpha: Float = 0.99, epsilon: Float = 1e-8, momentum: Float = 0,
                centered: Bool = false, weightDecay: Float = 0) {
        precondition(alpha >= 0 && alpha < 1 && epsilon >= 0 && momentum >= 0, "RMSprop: invalid hyper-parameters")
        self.alpha = alpha; self.epsilon = epsilon; self.momentum = momentum; self.centered = centered
        super.init(learningRate: learningRate, weightDecay: weightDecay)
    }

    override public func rule(step: Int) -> OptimizerRule? {
        .rmsprop(alpha: alpha, learningRate: learningRate, epsilon: epsilon, weightDecay: weightDecay, centered: centered,
                 momentum: momentum)
    }

    /// Square average; gradient average when centered; momentum buffer when momentum > 0.
    override public var stateWidth: Int { 1 + (centered ? 1 : 0) + (momentum > 0 ? 1 : 0) }
    private var momentumPlane: Int { centered ? 2 : 1 }

    override public func update(value p: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                                state s: UnsafeMutableBufferPointer<Float>, count n: Int, step: Int, range: Range<Int>) {
        let (a, lr, eps, decay) = (alpha, learningRate, epsilon, weightDecay)
        if !centered && momentum == 0 {
            // The common case in C, vectorized (the same operations in the same order).
            compseg_rmsprop(p.baseAddress! + range.lowerBound, gradient.baseAddress! + range.lowerBound,
                            s.baseAddress! + range.lowerBound, range.count, a, lr, eps, decay)
            return
        }
        for i in range {
            let g = gradient[i] + decay * p[i]
            s[i] = a * s[i] + (1 - a) * g * g
            var average = s[i]
            if centered {
                s[n + i] = a * s[n + i] + (1 - a) * g
                average -= s[n + i] * s[n + i]
            }
            let denominator = average.squareRoot() + eps
            if momentum > 0 {
                let b = momentumPlane * n + i
                s[b] = momentum * s[b] + g / denominator
                p[i] -= lr * s[b]
            } else {
                p[i] -= lr * g / denominator
            }
        }
    }
}

/// Adam with PyTorch's semantics (L2 weight decay added to the gradient, not AdamW):
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
public final class Adam: Optimizer, @unchecked Sendable {
    public let beta1: Float, beta2: Float, epsilon: Float

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0) {
        precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && epsilon >= 0, "Adam: invalid hyper-parameters")
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        super.init(learningRate: learningRate, weightDecay: weightDecay)
    }

    override public var stateWidth: Int { 2 }

    /// lr / (1 − β₁ᵗ) and √(1 − β₂ᵗ) at step t.
    private func corrections(_ step: Int) -> (stepSize: Float, correction: Float) {
        let t = Float(step)
        return (learningRate / (1 - pow(beta1, t)), (1 - pow(beta2, t)).squareRoot())
    }

    override public func rule(step: Int) -> OptimizerRule? {
        let (stepSize, correction) = corrections(step)
        return .adam(beta1: beta1, beta2: beta2, stepSize: stepSize, correction: correction, epsilon: epsilon,
                     weightDecay: weightDecay)
    }

    override public func update(value p: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                                state s: UnsafeMutableBufferPointer<Float>, count n: Int, step: Int, range: Range<Int>) {
        let (stepSize, correction2) = corrections(step)
        for i in range {
            let g = decayed(gradient[i], p[i])
            s[i] = beta1 * s[i] + (1 - beta1) * g
            s[n + i] = beta2 * s[n + i] + (1 - beta2) * g * g
            p[i] -= stepSize * s[i] / (s[n + i].squareRoot() / correction2 + epsilon)
        }
    }
}

/// Stochastic gradient descent with optional momentum (PyTorch's: the buffer starts at the first
/// gradient; b ← μb + (1−dampening)g; Nesterov uses g + μb).
public final class SGD: Optimizer, @unchecked Sendable {
    public let momentum: Float, dampening: Float, nesterov: Bool

    public init(learningRate: Float, momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false,
                weightDecay: Float = 0) {
        precondition(momentum >= 0 && dampening >= 0, "SGD: invalid hyper-parameters")
        self.momentum = momentum; self.dampening = dampening; self.nesterov = nesterov
        super.init(learningRate: learningRate, weightDecay: weightDecay)
    }

    override public var stateWidth: Int { 1 }

    override public func rule(step: Int) -> OptimizerRule? {
        .sgd(learningRate: learningRate, momentum: momentum, dampening: dampening, nesterov: nesterov,
             weightDecay: weightDecay, step: step)
    }

    override public func update(value p: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                                state b: UnsafeMutableBufferPointer<Float>, count n: Int, step: Int, range: Range<Int>) {
        for i in range {
            var g = decayed(gradient[i], p[i])
            if momentum > 0 {
                b[i] = step == 1 ? g : momentum * b[i] + (1 - dampening) * g
                g = nesterov ? g + momentum * b[i] : b[i]
            }
            p[i] -= learningRate * g
        }
    }
}
