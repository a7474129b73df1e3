extension Functional {
    /// Batch-norm with batch statistics; returns the output and the batch mean and (biased) variance.
    public static func batchNormTraining(_ x: Variable, gamma: Variable, beta: Variable, eps: Float)
        -> (output: Variable, mean: Tensor, variance: Tensor) {
        let be = Engine.backend
        let r = be.batchNormTrain(x.value, gamma: gamma.value, beta: beta.value, eps: eps)
        let y = Variable(r.output, inputs: [x, gamma, beta]) { g in
            let b = be.batchNormBackward(x.value, gamma: gamma.value, mean: r.mean, invStd: r.invStd, outputGradient: g)
            return [b.input, b.gamma, b.beta]
        }
        return (y, r.mean, r.variance)
    }

    /// Per-channel y = x·scale + shift (batch-norm with fixed statistics).
    public static func channelAffine(_ x: Variable, scale: Variable, shift: Variable) -> Variable {
        let be = Engine.backend
        let y = be.channelAffine(x.value, scale: scale.value, shift: shift.value, fuseReLU: false)
        return Variable(y, inputs: [x, scale, shift]) { g in
            let c = x.shape[1]
            let ones = Tensor(shape: [c], repeating: 1), zeros = Tensor(shape: [c])
            let gx = be.channelAffine(g, scale: scale.value, shift: zeros, fuseReLU: false)
            let xg = be.multiply(x.value, g)
            return [gx, channelSums(xg, ones), channelSums(g, ones)]
        }
    }
}

/// Σ over batch and space per channel.
func channelSums(_ t: Tensor, _ weights: Tensor) -> Tensor {
    let n = t.shape[0], c = t.shape[1], plane = t.count / (n * c)
    let out = Tensor(shape: [c])
    for b in 0..<n { for ch in 0..<c {
        let row = t.ptr + (b * c + ch) * plane
        var s: Float = 0
        for i in 0..<plane { s += row[i] }
        out.ptr[ch] += s * weights.ptr[ch]
    }}
    return out
}

/// torch.nn.BatchNorm2d / BatchNorm3d (the layout decides; the maths is per channel).
public struct BatchNorm {
    public let weight, bias, runningMean, runningVar, batchesTracked: Parameter
    public let eps: Float
    public let momentum: Float

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        weight = Parameter(Tensor(shape: [channels], repeating: 1))
        bias = Parameter(Tensor(shape: [channels]))
        runningMean = Parameter(Tensor(shape: [channels]), isBuffer: true)
        runningVar = Parameter(Tensor(shape: [channels], repeating: 1), isBuffer: true)
        batchesTracked = Parameter(Tensor(shape: []), isBuffer: true)
        self.eps = eps
        self.momentum = momentum
    }

    /// scale = γ/√(var+ε), shift = β − mean·scale: the eval-mode affine map.
    public var evalScaleShift: (scale: Tensor, shift: Tensor) {
        let c = weight.value.count
        let scale = Tensor.uninitialized([c]), shift = Tensor.uninitialized([c])
        for i in 0..<c {
            scale.ptr[i] = weight.value.ptr[i] / (runningVar.value.ptr[i] + eps).squareRoot()
            shift.ptr[i] = bias.value.ptr[i] - runningMean.value.ptr[i] * scale.ptr[i]
        }
        return (scale, shift)
    }

    public func forward(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        if ctx.training {
            let r = Functional.batchNormTraining(x, gamma: ctx.leaf(weight), beta: ctx.leaf(bias), eps: eps)
            updateRunningStatistics(mean: r.mean, variance: r.variance, count: x.value.count / x.shape[1])
            return r.output
        }
        if !ctx.recordsGraph {
            let s = evalScaleShift
            return Variable(Engine.backend.channelAffine(x.value, scale: s.scale, shift: s.shift, fuseReLU: false))
        }
        return evalGraph(x, ctx)
    }

    /// Eval mode with gradients (Grad-CAM on a frozen model): γ and β stay differentiable.
    private func evalGraph(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        let c = weight.value.count
        let inv = Tensor.uninitialized([c]), negMeanInv = Tensor.uninitialized([c])
        for i in 0..<c {
            inv.ptr[i] = 1 / (runningVar.value.ptr[i] + eps).squareRoot()
            negMeanInv.ptr[i] = -runningMean.value.ptr[i] * inv.ptr[i]
        }
        let normalised = Functional.channelAffine(x, scale: Variable(inv), shift: Variable(negMeanInv))
        return Functional.channelAffine(normalised, scale: ctx.leaf(weight), shift: ctx.leaf(bias))
    }

    /// PyTorch's update: exponential average with the unbiased batch variance.
    private func updateRunningStatistics(mean: Tensor, variance: Tensor, count: Int) {
        let unbias = Float(count) / Float(max(count - 1, 1))
        var rm = runningMean.value, rv = runningVar.value
        rm.withUnsafeMutableBufferPointer { m in
            rv.withUnsafeMutableBufferPointer { v in
                for i in m.indices {
                    m[i] = (1 - momentum) * m[i] + momentum * mean.ptr[i]
                    v[i] = (1 - momentum) * v[i] + momentum * variance.ptr[i] * unbias
                }
            }
        }
        runningMean.value = rm
        runningVar.value = rv
        batchesTracked.value = Tensor(shape: [], data: [batchesTracked.value.ptr[0] + 1])
    }

    public func parameters(prefix: String) -> [(String, Parameter)] {
        [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar),
         ("num_batches_tracked", batchesTracked)].map { (join(prefix, $0.0), $0.1) }
    }
}
