/// torchvision VGG-16 (configuration D, no batch-norm): `features.N` convolutions, a 7×7 adaptive pool and
/// `classifier.0/3/6`.
public struct VGG: Model {
    public var spatialDims: Int { 2 }
    /// nil entries are 2×2 max-pools; indices follow torchvision's Sequential numbering.
    let features: [(index: Int, conv: Conv?)]
    let classifier: [Linear]
    let dropout: Float

    public static let vgg16Config: [Int?] = [64, 64, nil, 128, 128, nil, 256, 256, 256, nil, 512, 512, 512, nil, 512, 512, 512, nil]

    /// `widthDivisor` shrinks every convolution (tests); `hidden` is the classifier width (4096).
    public init(inChannels: Int, labels: Int, widthDivisor: Int = 1, hidden: Int = 4096, dropout: Float = 0.5, seed: UInt64 = 0) {
        var rng = SeededRandom(seed: seed)
        var c = inChannels, index = 0
        var features: [(Int, Conv?)] = []
        for entry in Self.vgg16Config {
            if let width = entry {
                let o = width / widthDivisor
                features.append((index, Conv(c, o, kernel: [3, 3], padding: [1, 1], rng: &rng)))
                c = o
                index += 2
            } else {
                features.append((index, nil))
                index += 1
            }
        }
        self.features = features
        classifier = [Linear(c * 49, hidden, rng: &rng), Linear(hidden, hidden, rng: &rng), Linear(hidden, labels, rng: &rng)]
        self.dropout = dropout
    }

    public func forward(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        var h = x
        for (_, conv) in features {
            if let conv {
                if ctx.recordsGraph {
                    h = Functional.relu(conv.forward(h, ctx))
                } else {
                    h = Variable(Engine.backend.convolution(h.value, weight: conv.weight.value, bias: conv.bias?.value,
                                                            geometry: conv.geometry, groups: 1, fuseReLU: true))
                }
            } else {
                h = Functional.maxPool(h, geometry: .pool(dims: 2, kernel: 2))
            }
        }
        ctx.record("features", h)
        h = Functional.flatten(Functional.adaptiveAvgPool(h, outputSize: [7, 7]))
        for (i, layer) in classifier.enumerated() {
            h = layer.forward(h, ctx)
            if i < 2 { h = Functional.dropout(Functional.relu(h), p: dropout, ctx) }
        }
        return h
    }

    public func namedParameters() -> [(String, Parameter)] {
        features.flatMap { f in f.conv?.parameters(prefix: "features.\(f.index)") ?? [] }
            + zip([0, 3, 6], classifier).flatMap { $1.parameters(prefix: "classifier.\($0)") }
    }
}
