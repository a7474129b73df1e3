/// A small CNN for 28–64 pixel inputs: three conv-BN-ReLU stages (two followed by 2×2 max-pools),
/// global average pooling and a linear head, so any input size works.
/// PyTorch twin (same names): tools/engine/make_references.py `SmallCNN`.
public struct SmallCNN: Model {
    public let spatialDims: Int
    let units: [ConvBN]
    let fc: Linear

    public init(inChannels: Int, labels: Int, width: Int = 16, spatialDims: Int = 2, seed: UInt64 = 0) {
        var rng = SeededRandom(seed: seed)
        self.spatialDims = spatialDims
        let widths = [inChannels, width, width * 2, width * 4]
        units = (0..<3).map { i in
            ConvBN(Conv(widths[i], widths[i + 1], kernel: cube(3, spatialDims), padding: cube(1, spatialDims), bias: false, rng: &rng),
                   BatchNorm(widths[i + 1]))
        }
        fc = Linear(widths[3], labels, rng: &rng)
    }

    public func forward(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        var h = x
        for (i, unit) in units.enumerated() {
            h = unit.forward(h, ctx, relu: true)
            if i < 2 { h = Functional.maxPool(h, geometry: .pool(dims: spatialDims, kernel: 2)) }
            ctx.record("conv\(i + 1)", h)
        }
        h = Functional.flatten(Functional.adaptiveAvgPool(h, outputSize: cube(1, spatialDims)))
        return fc.forward(h, ctx)
    }

    public func namedParameters() -> [(String, Parameter)] {
        units.enumerated().flatMap { i, u in u.parameters(convPrefix: "conv\(i + 1)", bnPrefix: "bn\(i + 1)") }
            + fc.parameters(prefix: "fc")
    }
}
