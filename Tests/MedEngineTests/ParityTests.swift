import Foundation
import Testing
@testable import MedEngine

/// Each architecture at reduced width against PyTorch references from tools/engine/make_references.py.
@Suite struct ParityTests {
    static let cases: [String] = ["small_cnn", "resnet18", "resnet18_28", "resnet50", "resnet18_3d", "r3d_18",
                                  "densenet121", "vgg16"]

    /// The Swift twin of each reference model (same widths as make_references.py).
    static func model(_ name: String) throws -> any Model {
        switch name {
        case "densenet121": return DenseNet(inChannels: 3, labels: 3, growth: 4, initialFeatures: 8, bottleneckSize: 2)
        case "vgg16": return VGG(inChannels: 3, labels: 3, widthDivisor: 32, hidden: 16, dropout: 0)
        case "small_cnn": return try ModelZoo.make(arch: name, inChannels: 1, labels: 3, width: 4)
        case "resnet18_28": return try ModelZoo.make(arch: name, inChannels: 1, labels: 3, width: 4)
        case "resnet18": return try ModelZoo.make(arch: name, inChannels: 3, labels: 3, width: 4)
        case "resnet18_3d": return try ModelZoo.make(arch: name, inChannels: 1, labels: 3, width: 2)
        default: return try ModelZoo.make(arch: name, inChannels: 3, labels: 3, width: 2)
        }
    }

    static func loaded(_ name: String) throws -> any Model {
        let m = try model(name)
        try m.load(SafeTensors.read(from: Fixtures.url("\(name).weights.safetensors")).tensors)
        return m
    }

    /// max over logits of |ours − ref| / (1 + |ref|); the acceptance bound is 1e-4.
    static func logitError(_ ours: Tensor, _ ref: Tensor) -> Float {
        (0..<ref.count).map { abs(ours[flat: $0] - ref[flat: $0]) / (1 + abs(ref[flat: $0])) }.max() ?? .infinity
    }

    @Test(arguments: cases)
    func evalLogitsMatchPyTorch(_ name: String) throws {
        let model = try Self.loaded(name)
        let x = try Fixtures.npy("\(name).input.npy"), ref = try Fixtures.npy("\(name).logits.npy")
        // The folded inference path and the unfused eval graph must both agree with PyTorch.
        let folded = model.predict(x)
        let graph = model.forward(Variable(x), ForwardContext(training: false, recordsGraph: true)).value
        #expect(folded.shape == ref.shape)
        #expect(Self.logitError(folded, ref) <= 1e-4)
        #expect(Self.logitError(graph, ref) <= 1e-4)
        print("parity \(name): logits error folded \(Self.logitError(folded, ref)), graph \(Self.logitError(graph, ref))")
    }

    @Test(arguments: cases)
    func bceStepGradientsMatchPyTorch(_ name: String) throws {
        let model = try Self.loaded(name)
        let x = try Fixtures.npy("\(name).input.npy"), targets = try Fixtures.npy("\(name).targets.npy")
        let ref = try SafeTensors.read(from: Fixtures.url("\(name).grads.safetensors")).tensors
        let input = Variable(x, requiresGradient: true)
        let loss = Functional.bceWithLogits(model.forward(input, ForwardContext(training: true)), targets: targets,
                                            posWeight: Tensor(shape: [3], data: [1, 2, 0.5]))
        loss.backward()
        #expect(abs(loss.value[flat: 0] - ref["loss"]![flat: 0]) <= 1e-5)
        #expect(relativeError(input.grad!, ref["input"]!) <= 1e-3)
        var checked = 0, worst = relativeError(input.grad!, ref["input"]!)
        for (pname, p) in model.namedParameters() where !p.isBuffer {
            guard let r = ref[pname], let g = p.grad else {
                Issue.record("no gradient for \(pname)")
                continue
            }
            let err = relativeError(g.reshaped(r.shape), r)
            #expect(err <= 1e-3, "\(pname): relative error \(err)")
            worst = max(worst, err)
            checked += 1
        }
        print("parity \(name): worst gradient relative error \(worst) over \(checked) parameters and the input")
        #expect(checked == ref.count - 2)
    }
}
