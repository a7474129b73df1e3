extension Functional {
    /// y = x·Wᵀ + b with x: N×in, W: out×in (torch.nn.Linear).
    public static func linear(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
        let be = Engine.backend
        var y = be.matmul(x.value, weight.value, transposeA: false, transposeB: true)
        if let bias { y = be.addRowBias(y, bias: bias.value) }
        return Variable(y, inputs: [x, weight] + (bias.map { [$0] } ?? [])) { g in
            [x.tracksGradient ? be.matmul(g, weight.value, transposeA: false, transposeB: false) : nil,
             be.matmul(g, x.value, transposeA: true, transposeB: false),
             be.sumRows(g)]
        }
    }
}

/// torch.nn.Linear.
public struct Linear {
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout SeededRandom) {
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Parameter(uniformTensor([outFeatures, inFeatures], bound: bound, rng: &rng))
        self.bias = bias ? Parameter(uniformTensor([outFeatures], bound: bound, rng: &rng)) : nil
    }

    public func forward(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        Functional.linear(x, weight: ctx.leaf(weight), bias: bias.map(ctx.leaf))
    }

    public func parameters(prefix: String) -> [(String, Parameter)] {
        [(join(prefix, "weight"), weight)] + (bias.map { [(join(prefix, "bias"), $0)] } ?? [])
    }
}
