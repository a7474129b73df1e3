import Foundation

/// Updates parameters from their accumulated gradients.
public protocol Optimizer {
    var learningRate: Float { get set }
    mutating func step(_ parameters: [Parameter])
}

/// Per-parameter state keyed by identity (the same Parameter object across steps).
typealias OptimizerState = [ObjectIdentifier: Tensor]

/// torch.optim.SGD: weight decay (L2, added to the gradient), momentum with dampening, Nesterov.
public struct SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    public var dampening: Float
    public var weightDecay: Float
    public var nesterov: Bool
    private var buffers: OptimizerState = [:]

    public init(learningRate: Float, momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        self.learningRate = learningRate; self.momentum = momentum; self.dampening = dampening
        self.weightDecay = weightDecay; self.nesterov = nesterov
    }

    public mutating func step(_ parameters: [Parameter]) {
        for p in parameters where !p.isBuffer {
            guard let grad = p.grad else { continue }
            var g = weightDecay == 0 ? grad : Engine.backend.axpby(grad, alpha: 1, p.value, beta: weightDecay)
            if momentum != 0 {
                let id = ObjectIdentifier(p)
                let buf = buffers[id].map { Engine.backend.axpby($0, alpha: momentum, g, beta: 1 - dampening) } ?? g.copy()
                buffers[id] = buf
                g = nesterov ? Engine.backend.axpby(g, alpha: 1, buf, beta: momentum) : buf
            }
            p.value = Engine.backend.axpby(p.value, alpha: 1, g, beta: -learningRate)
        }
    }
}

/// torch.optim.AdamW: decoupled weight decay, bias-corrected moments.
public struct AdamW: Optimizer {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    private var moments: [ObjectIdentifier: (m: Tensor, v: Tensor)] = [:]
    private var steps = 0

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 1e-2) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    public mutating func step(_ parameters: [Parameter]) {
        steps += 1
        let c1 = 1 - powf(beta1, Float(steps)), c2 = 1 - powf(beta2, Float(steps))
        for p in parameters where !p.isBuffer {
            guard let g = p.grad else { continue }
            let id = ObjectIdentifier(p)
            var (m, v) = moments[id] ?? (Tensor(shape: g.shape), Tensor(shape: g.shape))
            var value = p.value
            m.withUnsafeMutableBufferPointer { m in
                v.withUnsafeMutableBufferPointer { v in
                    value.withUnsafeMutableBufferPointer { w in
                        g.withUnsafeBufferPointer { g in
                            for i in w.indices {
                                w[i] *= 1 - learningRate * weightDecay
                                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                                w[i] -= learningRate * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
                            }
                        }
                    }
                }
            }
            moments[id] = (m, v)
            p.value = value
        }
    }
}

/// Scales all gradients so their joint L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_);
/// returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var sum = 0.0
    for p in parameters { p.grad?.withUnsafeBufferPointer { for v in $0 { sum += Double(v * v) } } }
    let norm = Float(sum.squareRoot())
    let scale = maxNorm / (norm + 1e-6)
    if scale < 1 {
        for p in parameters { if let g = p.grad { p.grad = Engine.backend.axpby(g, alpha: scale, g, beta: 0) } }
    }
    return norm
}

extension AdamW {
    /// The step count and each parameter's first and second moments (PyTorch's `exp_avg`, `exp_avg_sq`), in the
    /// order of `parameters`; nil for a parameter that has not been stepped. A training checkpoint saves them.
    public func state(of parameters: [Parameter]) -> (step: Int, moments: [(m: Tensor, v: Tensor)?]) {
        (steps, parameters.map { moments[ObjectIdentifier($0)] })
    }

    /// Restores what `state(of:)` returned, for the same parameters in the same order (possibly new objects
    /// after a restart), so that resumed training takes exactly the steps it would have taken.
    public mutating func restore(step: Int, moments saved: [(m: Tensor, v: Tensor)?], for parameters: [Parameter]) {
        precondition(saved.count == parameters.count, "one saved moment pair per parameter")
        steps = step
        moments = [:]
        for (p, m) in zip(parameters, saved) { if let m { moments[ObjectIdentifier(p)] = m } }
    }
}
