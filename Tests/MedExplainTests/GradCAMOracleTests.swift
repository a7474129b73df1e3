import MedEngine
import MedExplain
import Testing

/// For a GAP→linear head the class activation map is known in closed form (Zhou et al.'s CAM):
/// CAM_k = Σ_c W[k,c]·A_c. Grad-CAM's weights are W[k,c]/area and HiResCAM's products are W[k,c]·A_c/area,
/// so both raw maps are CAM/area, and after post-processing (whose 1e-7 acts on the raw scale) they must
/// equal post-processed CAM/area.
struct GradCAMOracleTests {
    static func cam(_ model: SmallCNN, input: Tensor, target: Int) -> ActivationMap {
        let ctx = ForwardContext(training: false, recordsGraph: false, keepActivations: ["conv3"])
        _ = model.forward(Variable(input), ctx)
        let a = ctx.activations["conv3"]!.value
        let w = model.namedParameters().first { $0.0 == "fc.weight" }!.1.value
        let channels = a.shape[1], spatial = Array(a.shape.dropFirst(2)), area = spatial.reduce(1, *)
        var raw = [Float](repeating: 0, count: area)
        for c in 0..<channels { for i in 0..<area { raw[i] += w[flat: target * channels + c] * a[flat: c * area + i] } }
        return ActivationMap(raw: raw.map { $0 / Float(area) }, shape: spatial)
    }

    static func input(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return rng.tensor(shape)
    }

    @Test(arguments: [[1, 1, 24, 24], [1, 1, 12, 16, 16]])
    func gradCAMAndHiResCAMEqualCAM(shape: [Int]) {
        let model = SmallCNN(inChannels: 1, labels: 3, width: 4, spatialDims: shape.count - 2, seed: 11)
        let x = Self.input(shape, seed: 5)
        for method in CAMMethod.allCases {
            let maps = ClassActivation.maps(model: model, input: x, layer: "conv3", targets: [0, 1, 2], method: method)
            for (target, map) in maps.enumerated() {
                let reference = Self.cam(model, input: x, target: target)
                #expect(map.shape == reference.shape)
                let worst = zip(map.values, reference.values).map { abs($0 - $1) }.max()!
                #expect(worst <= 4e-6, "\(method) target \(target): max abs \(worst)")
                #expect(map.isEmpty == reference.isEmpty)
                if !map.isEmpty { #expect(map.peakIndex == reference.peakIndex) }
            }
        }
    }

    @Test func sharedForwardPassGivesTheSameMapsAsSeparateOnes() {
        let model = SmallCNN(inChannels: 1, labels: 3, width: 4, seed: 2)
        let x = Self.input([1, 1, 20, 20], seed: 9)
        let shared = ClassActivation.maps(model: model, input: x, layer: "conv3", targets: [2, 0, 1])
        // Backward stops at the target layer: no parameter gradient is computed.
        #expect(model.namedParameters().allSatisfy { $0.1.grad == nil })
        for (i, target) in [2, 0, 1].enumerated() {
            let alone = ClassActivation.maps(model: model, input: x, layer: "conv3", targets: [target])[0]
            #expect(shared[i] == alone)
        }
    }
}
