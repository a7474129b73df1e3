/// torchvision ResNet (BasicBlock / Bottleneck), in 2D or 3D, and the video r3d_18 layout.
public struct ResNet: Model {
    public enum Stem: String, Sendable {
        /// 7×7 stride-2 convolution and 3×3 max-pool (torchvision).
        case imagenet
        /// 3×3 stride-1 convolution, no max-pool (MedMNIST's 28-pixel variant).
        case small
        /// r3d_18: 3×7×7 convolution with stride (1,2,2), named `stem.0` / `stem.1`.
        case video
    }

    public let spatialDims: Int
    let stem: Stem
    let stemUnit: ConvBN
    let stages: [[ResidualBlock]]
    let fc: Linear

    /// - Parameters: blocks per stage ([2,2,2,2] for 18, [3,4,6,3] for 34/50), bottleneck for 50,
    ///   width the first stage's channels (64 in torchvision; smaller for tests).
    public init(blocks: [Int], bottleneck: Bool, inChannels: Int, labels: Int, stem: Stem = .imagenet,
                spatialDims: Int = 2, width: Int = 64, seed: UInt64 = 0) {
        var rng = SeededRandom(seed: seed)
        let d = stem == .video ? 3 : spatialDims
        self.spatialDims = d
        self.stem = stem
        let stemConv: Conv
        switch stem {
        case .imagenet: stemConv = Conv(inChannels, width, kernel: cube(7, d), stride: cube(2, d), padding: cube(3, d), bias: false, rng: &rng)
        case .small: stemConv = Conv(inChannels, width, kernel: cube(3, d), padding: cube(1, d), bias: false, rng: &rng)
        case .video: stemConv = Conv(inChannels, width, kernel: [3, 7, 7], stride: [1, 2, 2], padding: [1, 3, 3], bias: false, rng: &rng)
        }
        stemUnit = ConvBN(stemConv, BatchNorm(width))
        var inC = width
        var stages: [[ResidualBlock]] = []
        for (i, count) in blocks.enumerated() {
            let planes = width << i
            var stage: [ResidualBlock] = []
            for b in 0..<count {
                let block = ResidualBlock(inC, planes, stride: b == 0 && i > 0 ? 2 : 1, bottleneck: bottleneck,
                                          dims: d, videoNames: stem == .video, rng: &rng)
                inC = block.outChannels
                stage.append(block)
            }
            stages.append(stage)
        }
        self.stages = stages
        fc = Linear(inC, labels, rng: &rng)
    }

    public func forward(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        var h = stemUnit.forward(x, ctx, relu: true)
        if stem == .imagenet { h = Functional.maxPool(h, geometry: .pool(dims: spatialDims, kernel: 3, stride: 2, padding: 1)) }
        for (i, stage) in stages.enumerated() {
            for block in stage { h = block.forward(h, ctx) }
            ctx.record("layer\(i + 1)", h)
        }
        h = Functional.flatten(Functional.adaptiveAvgPool(h, outputSize: cube(1, spatialDims)))
        return fc.forward(h, ctx)
    }

    public func namedParameters() -> [(String, Parameter)] {
        var out = stem == .video ? stemUnit.parameters(convPrefix: "stem.0", bnPrefix: "stem.1")
                                 : stemUnit.parameters(convPrefix: "conv1", bnPrefix: "bn1")
        for (i, stage) in stages.enumerated() {
            for (b, block) in stage.enumerated() { out += block.parameters(prefix: "layer\(i + 1).\(b)") }
        }
        return out + fc.parameters(prefix: "fc")
    }
}

/// BasicBlock (two 3×3 convolutions) or Bottleneck (1×1, 3×3 with the stride, 1×1 ×4), plus the
/// projection shortcut when the shape changes.
struct ResidualBlock {
    let units: [ConvBN]
    let downsample: ConvBN?
    let videoNames: Bool
    let outChannels: Int

    init(_ inC: Int, _ planes: Int, stride: Int, bottleneck: Bool, dims: Int, videoNames: Bool, rng: inout SeededRandom) {
        self.videoNames = videoNames
        func unit(_ i: Int, _ o: Int, _ k: Int, _ s: Int) -> ConvBN {
            ConvBN(Conv(i, o, kernel: cube(k, dims), stride: cube(s, dims), padding: cube(k / 2, dims), bias: false, rng: &rng),
                   BatchNorm(o))
        }
        if bottleneck {
            outChannels = planes * 4
            units = [unit(inC, planes, 1, 1), unit(planes, planes, 3, stride), unit(planes, outChannels, 1, 1)]
        } else {
            outChannels = planes
            units = [unit(inC, planes, 3, stride), unit(planes, planes, 3, 1)]
        }
        downsample = stride != 1 || inC != outChannels ? unit(inC, outChannels, 1, stride) : nil
    }

    func forward(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        var h = x
        for (i, u) in units.enumerated() { h = u.forward(h, ctx, relu: i < units.count - 1) }
        let shortcut = downsample?.forward(x, ctx, relu: false) ?? x
        return Functional.relu(Functional.add(h, shortcut))
    }

    func parameters(prefix: String) -> [(String, Parameter)] {
        var out: [(String, Parameter)] = []
        for (i, u) in units.enumerated() {
            out += videoNames ? u.parameters(convPrefix: join(prefix, "conv\(i + 1).0"), bnPrefix: join(prefix, "conv\(i + 1).1"))
                              : u.parameters(convPrefix: join(prefix, "conv\(i + 1)"), bnPrefix: join(prefix, "bn\(i + 1)"))
        }
        if let downsample {
            out += downsample.parameters(convPrefix: join(prefix, "downsample.0"), bnPrefix: join(prefix, "downsample.1"))
        }
        return out
    }
}
