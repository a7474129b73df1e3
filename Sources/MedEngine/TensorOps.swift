extension Functional {
    public static func add(_ a: Variable, _ b: Variable) -> Variable {
        Variable(Engine.backend.axpby(a.value, alpha: 1, b.value, beta: 1), inputs: [a, b]) { g in [g, g] }
    }

    /// Concatenation along channels (dimension 1), as DenseNet needs.
    public static func concat(_ parts: [Variable]) -> Variable {
        let be = Engine.backend
        let sizes = parts.map { $0.shape[1] }
        return Variable(be.concatChannels(parts.map(\.value)), inputs: parts) { g in be.splitChannels(g, sizes: sizes) }
    }

    /// N×… → N×(…): a reshape, so the gradient is reshaped back.
    public static func flatten(_ x: Variable) -> Variable {
        let shape = x.shape
        return Variable(x.value.reshaped([shape[0], -1]), inputs: [x]) { g in [g.reshaped(shape)] }
    }

    /// Inverted dropout: zeroes with probability p and scales survivors by 1/(1−p); identity in eval.
    public static func dropout(_ x: Variable, p: Float, _ ctx: ForwardContext) -> Variable {
        guard ctx.training, p > 0 else { return x }
        var mask = Tensor.uninitialized(x.shape)
        let keep = 1 / (1 - p)
        mask.withUnsafeMutableBufferPointer { m in for i in m.indices { m[i] = ctx.rng.uniform() < p ? 0 : keep } }
        let be = Engine.backend
        return Variable(be.multiply(x.value, mask), inputs: [x]) { g in [be.multiply(g, mask)] }
    }
}
