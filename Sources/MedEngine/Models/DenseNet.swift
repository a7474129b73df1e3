/// torchvision DenseNet (121: growth 32, blocks 6/12/24/16, 64 initial features, bottleneck ×4).
public struct DenseNet: Model {
    public var spatialDims: Int { 2 }
    let stem: ConvBN
    let blocks: [[DenseLayer]]
    let transitions: [(bn: BatchNorm, conv: Conv)]
    let finalNorm: BatchNorm
    let classifier: Linear

    public init(inChannels: Int, labels: Int, growth: Int = 32, blockConfig: [Int] = [6, 12, 24, 16],
                initialFeatures: Int = 64, bottleneckSize: Int = 4, seed: UInt64 = 0) {
        var rng = SeededRandom(seed: seed)
        stem = ConvBN(Conv(inChannels, initialFeatures, kernel: [7, 7], stride: [2, 2], padding: [3, 3], bias: false, rng: &rng),
                      BatchNorm(initialFeatures))
        var c = initialFeatures
        var blocks: [[DenseLayer]] = [], transitions: [(BatchNorm, Conv)] = []
        for (i, count) in blockConfig.enumerated() {
            blocks.append((0..<count).map { j in
                DenseLayer(c + j * growth, growth: growth, bottleneck: bottleneckSize, rng: &rng)
            })
            c += count * growth
            if i < blockConfig.count - 1 {
                transitions.append((BatchNorm(c), Conv(c, c / 2, kernel: [1, 1], bias: false, rng: &rng)))
                c /= 2
            }
        }
        self.blocks = blocks
        self.transitions = transitions
        finalNorm = BatchNorm(c)
        classifier = Linear(c, labels, rng: &rng)
    }

    public func forward(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        var h = stem.forward(x, ctx, relu: true)
        h = Functional.maxPool(h, geometry: .pool(dims: 2, kernel: 3, stride: 2, padding: 1))
        for (i, block) in blocks.enumerated() {
            var features = [h]
            for layer in block { features.append(layer.forward(Functional.concat(features), ctx)) }
            h = Functional.concat(features)
            ctx.record("features.denseblock\(i + 1)", h)
            if i < transitions.count {
                let t = transitions[i]
                h = t.conv.forward(bnReLU(t.bn, h, ctx), ctx)
                h = Functional.avgPool(h, geometry: .pool(dims: 2, kernel: 2))
            }
        }
        h = ctx.record("features", bnReLU(finalNorm, h, ctx))
        h = Functional.flatten(Functional.adaptiveAvgPool(h, outputSize: [1, 1]))
        return classifier.forward(h, ctx)
    }

    public func namedParameters() -> [(String, Parameter)] {
        var out = stem.parameters(convPrefix: "features.conv0", bnPrefix: "features.norm0")
        for (i, block) in blocks.enumerated() {
            for (j, layer) in block.enumerated() {
                out += layer.parameters(prefix: "features.denseblock\(i + 1).denselayer\(j + 1)")
            }
            if i < transitions.count {
                out += transitions[i].bn.parameters(prefix: "features.transition\(i + 1).norm")
                out += transitions[i].conv.parameters(prefix: "features.transition\(i + 1).conv")
            }
        }
        return out + finalNorm.parameters(prefix: "features.norm5") + classifier.parameters(prefix: "classifier")
    }
}

/// BN-ReLU-Conv1×1 then BN-ReLU-Conv3×3, producing `growth` new channels.
struct DenseLayer {
    let norm1: BatchNorm, conv1: Conv, norm2: BatchNorm, conv2: Conv

    init(_ inC: Int, growth: Int, bottleneck: Int, rng: inout SeededRandom) {
        norm1 = BatchNorm(inC)
        conv1 = Conv(inC, bottleneck * growth, kernel: [1, 1], bias: false, rng: &rng)
        norm2 = BatchNorm(bottleneck * growth)
        conv2 = Conv(bottleneck * growth, growth, kernel: [3, 3], padding: [1, 1], bias: false, rng: &rng)
    }

    func forward(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        let h = conv1.forward(bnReLU(norm1, x, ctx), ctx)
        return conv2.forward(bnReLU(norm2, h, ctx), ctx)
    }

    func parameters(prefix: String) -> [(String, Parameter)] {
        norm1.parameters(prefix: join(prefix, "norm1")) + conv1.parameters(prefix: join(prefix, "conv1"))
            + norm2.parameters(prefix: join(prefix, "norm2")) + conv2.parameters(prefix: join(prefix, "conv2"))
    }
}
