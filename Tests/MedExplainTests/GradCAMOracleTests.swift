import Testing
@testable import MedEngine
@testable import MedExplain

/// A conv → BN → ReLU → GAP → linear head that records its feature map both before ("pre") and after ("post")
/// the ReLU, so layer choice can be checked against closed forms.
struct GAPHead: Model {
    let spatialDims: Int
    let unit: ConvBN
    let fc: Linear

    init(inChannels: Int, channels: Int, labels: Int, spatialDims: Int, seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        self.spatialDims = spatialDims
        let k = Array(repeating: 3, count: spatialDims)
        unit = ConvBN(Conv(inChannels, channels, kernel: k, stride: Array(repeating: 2, count: spatialDims),
                           padding: Array(repeating: 1, count: spatialDims), bias: true, rng: &rng), BatchNorm(channels))
        fc = Linear(channels, labels, rng: &rng)
        // Non-trivial eval statistics, so the pre-ReLU map is signed everywhere.
        unit.bn.runningMean.value = rng.tensor([channels], scale: 0.1)
        unit.bn.bias.value = rng.tensor([channels], scale: 0.2)
    }

    func forward(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        let pre = ctx.record("pre", unit.forward(x, ctx, relu: false))
        let post = ctx.record("post", Functional.relu(pre))
        return fc.forward(Functional.flatten(Functional.adaptiveAvgPool(post, outputSize: Array(repeating: 1, count: spatialDims))), ctx)
    }

    func namedParameters() -> [(String, Parameter)] {
        unit.parameters(convPrefix: "conv", bnPrefix: "bn") + fc.parameters(prefix: "fc")
    }

    /// Zhou et al.'s CAM from the post-ReLU map: Σ_k W[c,k]·A_k / area, post-processed.
    func cam(_ input: Tensor, target: Int) -> ActivationMap {
        // The graph path, as the explanation's own pass: the identity is about the method, not batch-norm folding.
        let ctx = ForwardContext(training: false, recordsGraph: true, keepActivations: ["post"])
        _ = forward(Variable(input), ctx)
        return Self.cam(ctx.activations["post"]!.value, weight: fc.weight.value, target: target)
    }

    static func cam(_ a: Tensor, weight w: Tensor, target: Int) -> ActivationMap {
        let channels = a.shape[1], spatial = Array(a.shape.dropFirst(2)), area = spatial.reduce(1, *)
        var raw = [Float](repeating: 0, count: area)
        for c in 0..<channels { for i in 0..<area { raw[i] += w[flat: target * channels + c] * a[flat: c * area + i] } }
        return ActivationMap(raw: raw.map { $0 / Float(area) }, shape: spatial)
    }
}

/// For a GAP→linear head the class activation map is known in closed form (CAM): ∂z_c/∂A_k,u = W[c,k]/Z · 1[A_k,u > 0]
/// at the pre-ReLU map. Hence Grad-CAM on the post-ReLU map and HiResCAM on the pre-ReLU map both equal CAM/Z,
/// while Grad-CAM on the pre-ReLU map weights channel k by W[c,k]/Z · mean_u 1[A > 0] (research note §4.1).
/// The 1e-7 of the post-processing acts on the raw scale, so the comparison is with post-processed CAM/Z.
struct GradCAMOracleTests {
    static func input(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return rng.tensor(shape)
    }

    static func worst(_ a: ActivationMap, _ b: ActivationMap) -> Float {
        zip(a.values, b.values).map { abs($0 - $1) }.max()!
    }

    /// Non-square 2D (60×50 → 30×25) and anisotropic 3D grids.
    @Test(arguments: [[1, 2, 60, 50], [1, 1, 10, 24, 18]])
    func layerChoiceMatchesTheClosedForms(shape: [Int]) throws {
        let model = GAPHead(inChannels: shape[1], channels: 24, labels: 5, spatialDims: shape.count - 2, seed: 3)
        let x = Self.input(shape, seed: 4)
        let targets = Array(0..<5)
        let gradPost = try ClassActivation.maps(model: model, input: x, layer: "post", targets: targets, method: .gradCAM)
        let hiResPre = try ClassActivation.maps(model: model, input: x, layer: "pre", targets: targets, method: .hiResCAM)
        let gradPre = try ClassActivation.maps(model: model, input: x, layer: "pre", targets: targets, method: .gradCAM)
        let pass = try GradientPass(model: model, input: x, layer: "pre")
        var nonEmpty = 0
        for target in targets {
            let cam = model.cam(x, target: target)
            for (name, map) in [("Grad-CAM post-ReLU", gradPost[target]), ("HiResCAM pre-ReLU", hiResPre[target])] {
                #expect(map.shape == cam.shape)
                #expect(map.isEmpty == cam.isEmpty, "\(name) target \(target)")
                #expect(Self.worst(map, cam) <= 4e-6, "\(name) target \(target): max abs \(Self.worst(map, cam))")
                if !cam.isEmpty { #expect(map.peakIndex == cam.peakIndex) }
            }
            if !cam.isEmpty { nonEmpty += 1 }

            // Grad-CAM at the pre-ReLU map: its channel weights have the closed form W[c,k]/Z · mean_u 1[A_k,u > 0].
            let (a, g) = try pass.activationAndGradient(target: target)
            let channels = a.shape[1], area = a.count / channels
            var expected = [Float](repeating: 0, count: area)
            for k in 0..<channels {
                let active = (0..<area).filter { a[flat: k * area + $0] > 0 }.count
                let weight = model.fc.weight.value[flat: target * channels + k] / Float(area) * Float(active) / Float(area)
                var measured: Float = 0
                for u in 0..<area { measured += g[flat: k * area + u] }
                #expect(abs(measured / Float(area) - weight) <= 1e-6 * max(1, abs(weight)) + 1e-9, "weight of channel \(k)")
                for u in 0..<area { expected[u] += weight * a[flat: k * area + u] }
            }
            let closedForm = ActivationMap(raw: expected, shape: cam.shape)
            #expect(Self.worst(gradPre[target], closedForm) <= 4e-6)
        }
        #expect(nonEmpty >= 2, "the draw should give maps to compare")
        // The choice of layer is not cosmetic: pre-ReLU Grad-CAM is a different map.
        let differences = targets.filter { !gradPost[$0].isEmpty }.map { Self.worst(gradPre[$0], gradPost[$0]) }
        #expect(differences.max()! > 0.05, "pre- and post-ReLU Grad-CAM differ by \(differences)")
    }

    /// SmallCNN (GAP→linear) at its last block, post-ReLU: every method of the family but Grad-CAM++ equals CAM.
    @Test(arguments: [[1, 1, 24, 24], [1, 1, 12, 16, 16]])
    func gradCAMAndHiResCAMEqualCAM(shape: [Int]) throws {
        let model = SmallCNN(inChannels: 1, labels: 3, width: 4, spatialDims: shape.count - 2, seed: 11)
        let x = Self.input(shape, seed: 5)
        let ctx = ForwardContext(training: false, recordsGraph: true, keepActivations: ["conv3"])
        _ = model.forward(Variable(x), ctx)
        let a = ctx.activations["conv3"]!.value
        let w = model.namedParameters().first { $0.0 == "fc.weight" }!.1.value
        for method in [CAMMethod.gradCAM, .hiResCAM] {
            let maps = try ClassActivation.maps(model: model, input: x, layer: "conv3", targets: [0, 1, 2], method: method)
            for (target, map) in maps.enumerated() {
                let reference = GAPHead.cam(a, weight: w, target: target)
                #expect(map.shape == reference.shape)
                #expect(Self.worst(map, reference) <= 4e-6, "\(method) target \(target): max abs \(Self.worst(map, reference))")
                #expect(map.isEmpty == reference.isEmpty)
                if !map.isEmpty { #expect(map.peakIndex == reference.peakIndex) }
            }
        }
    }

    @Test func sharedForwardPassGivesTheSameMapsAsSeparateOnes() throws {
        let model = SmallCNN(inChannels: 1, labels: 3, width: 4, seed: 2)
        let x = Self.input([1, 1, 20, 20], seed: 9)
        for method in CAMMethod.allCases {
            let shared = try ClassActivation.maps(model: model, input: x, layer: "conv3", targets: [2, 0, 1], method: method)
            // Backward stops at the target layer: no parameter gradient is computed.
            #expect(model.namedParameters().allSatisfy { $0.1.grad == nil })
            for (i, target) in [2, 0, 1].enumerated() {
                let alone = try ClassActivation.maps(model: model, input: x, layer: "conv3", targets: [target], method: method)[0]
                #expect(shared[i] == alone)
            }
        }
    }

    /// A model with left-right symmetric kernels is exactly flip-equivariant; so must be its maps at the
    /// input's resolution (the resize included).
    @Test func mapsOfAFlippedInputAreFlipped() throws {
        let model = SmallCNN(inChannels: 1, labels: 2, width: 4, seed: 21)
        for (name, p) in model.namedParameters() where name.hasSuffix("weight") && p.value.rank == 4 {
            let s = p.value.shape, kw = s[3]
            var t = p.value.copy()
            for i in 0..<(t.count / kw) {
                for j in 0..<kw { t[flat: i * kw + j] = (p.value[flat: i * kw + j] + p.value[flat: i * kw + kw - 1 - j]) / 2 }
            }
            p.value = t
        }
        let (rows, cols) = (36, 28)
        let x = Self.input([1, 1, rows, cols], seed: 8)
        var flipped = x.copy()
        for r in 0..<rows { for c in 0..<cols { flipped[flat: r * cols + c] = x[flat: r * cols + cols - 1 - c] } }
        for method in ExplanationMethod.allCases where method != .occlusion {
            let settings = ExplainSettings(method: method)
            let a = try Explainer.maps(model: model, architecture: "small_cnn", input: x, targets: [0, 1], settings: settings)
            let b = try Explainer.maps(model: model, architecture: "small_cnn", input: flipped, targets: [0, 1], settings: settings)
            for t in 0..<2 {
                var worst: Float = 0
                for r in 0..<rows { for c in 0..<cols { worst = max(worst, abs(a[t].values[r * cols + c] - b[t].values[r * cols + cols - 1 - c])) } }
                #expect(worst <= 1e-5, "\(method) target \(t): \(worst)")
            }
        }
    }

    @Test func emptyAndLowSignalMapsAreFlagged() {
        let empty = ActivationMap(raw: [-1, -0.5, 0, -2], shape: [2, 2])
        #expect(empty.isEmpty && !empty.lowSignal)
        #expect(empty.values == [0, 0, 0, 0])
        #expect(empty.raw == RawStatistics(min: -2, max: 0, mean: -0.875))
        let faint = ActivationMap(raw: [-10, 0.001, -3, -4], shape: [2, 2])
        #expect(!faint.isEmpty && faint.lowSignal)
        let clear = ActivationMap(raw: [-1, 2, 0.5, 1], shape: [2, 2])
        #expect(!clear.isEmpty && !clear.lowSignal)
        #expect(clear.peakIndex == 1 && clear.coordinates(of: 1) == [0, 1])
        #expect(abs(clear.values[1] - 1) < 1e-6 && clear.values[0] == 0)
    }
}
