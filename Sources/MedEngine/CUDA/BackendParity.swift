import Foundation

/// One model run on a device backend and on a reference backend (the CPU) from the same weights and inputs:
/// inference logits (folded path), eval logits with the graph, the Grad-CAM gradient of a named activation, and a
/// training step's loss, input gradient and every parameter gradient. Errors are tensor-wide relative,
/// max|Δ| / max|reference|, as the engine's own parity tests measure them.
public enum BackendParity {
    /// The acceptance bound in FP32.
    public static let tolerance: Float = 1e-3

    public struct Case: Sendable, Equatable {
        public var architecture: String
        public var input: [Int]
        /// The activation whose gradient Grad-CAM reads.
        public var layer: String
        public init(architecture: String, input: [Int], layer: String) {
            self.architecture = architecture
            self.input = input
            self.layer = layer
        }
    }

    /// Every `ModelZoo` architecture at full size, on inputs small enough for the CPU side to stay quick.
    public static let standardCases: [Case] = [
        Case(architecture: "small_cnn", input: [4, 1, 28, 28], layer: "conv3"),
        Case(architecture: "small_cnn3d", input: [2, 1, 16, 28, 28], layer: "conv3"),
        Case(architecture: "resnet18", input: [4, 3, 64, 64], layer: "layer4"),
        Case(architecture: "resnet34", input: [4, 3, 64, 64], layer: "layer4"),
        Case(architecture: "resnet50", input: [4, 3, 64, 64], layer: "layer4"),
        Case(architecture: "resnet18_28", input: [4, 3, 28, 28], layer: "layer4"),
        Case(architecture: "resnet50_28", input: [4, 3, 28, 28], layer: "layer4"),
        Case(architecture: "resnet18_3d", input: [2, 1, 16, 32, 32], layer: "layer4"),
        Case(architecture: "r3d_18", input: [2, 3, 8, 56, 56], layer: "layer4"),
        Case(architecture: "densenet121", input: [4, 3, 64, 64], layer: "features"),
        Case(architecture: "vgg16", input: [4, 3, 64, 64], layer: "features"),
    ]

    public struct Result: Sendable, Codable, Equatable {
        public var name: String
        public var input: [Int]
        public var logits: Float
        public var graphLogits: Float
        public var activationGradient: Float
        public var loss: Float
        public var inputGradient: Float
        public var parameterGradient: Float
        public var worstParameter: String
        public var parameters: Int
        /// Operations the device backend sent to the CPU: a comparison with any is not one of the device.
        public var fallbacks: Int
        /// How far the reference's own gradients move when one input element moves by one ulp (nil: not measured).
        /// Near a ReLU kink a network's gradients jump on any rounding difference; a failure where this is large
        /// says more about the input than about the backend.
        public var referenceSensitivity: Float?
        public var seconds: Double

        public var worst: Float { [logits, graphLogits, activationGradient, loss, inputGradient, parameterGradient].max()! }
        public var passed: Bool { worst <= BackendParity.tolerance && fallbacks == 0 && !worst.isNaN }
    }

    /// A standard case: the architecture with seeded weights and randomised batch-norm statistics (so that eval
    /// mode is not an identity), a seeded input and seeded 0/1 targets over 3 labels.
    public static func run(_ c: Case, device: any Backend, reference: any Backend = CPUBackend(), seed: UInt64 = 7) throws -> Result {
        let make = { () throws -> any Model in
            let model = try ModelZoo.make(arch: c.architecture, inChannels: c.input[1], labels: 3, seed: seed)
            var rng = SeededRandom(seed: seed, stream: 1)
            for (name, p) in model.namedParameters() {
                let n = p.value.count
                if name.hasSuffix("running_mean") { p.value = Tensor(shape: p.value.shape, data: (0..<n).map { _ in rng.uniform(-0.1, 0.1) }) }
                if name.hasSuffix("running_var") { p.value = Tensor(shape: p.value.shape, data: (0..<n).map { _ in rng.uniform(0.5, 1.5) }) }
            }
            return model
        }
        var rng = SeededRandom(seed: seed, stream: 2)
        let x = rng.tensor(c.input)
        let targets = Tensor(shape: [c.input[0], 3], data: (0..<(3 * c.input[0])).map { _ in rng.uniform() < 0.5 ? 0 : 1 })
        var result = compare(name: c.architecture, reference: try make(), device: try make(), input: x, targets: targets,
                             layer: c.layer, on: device, against: reference)
        var nudged = x
        nudged.withUnsafeMutableBufferPointer { $0[0] = $0[0].nextUp }
        let a = Outputs(try make(), on: reference, input: x, targets: targets, layer: nil)
        let b = Outputs(try make(), on: reference, input: nudged, targets: targets, layer: nil)
        result.referenceSensitivity = zip(a.gradients, b.gradients).map { relativeError($0.1, $1.1) }.max() ?? 0
        return result
    }

    /// Two models with identical weights, one per backend.
    public static func compare(name: String, reference referenceModel: any Model, device deviceModel: any Model,
                               input: Tensor, targets: Tensor, layer: String, on device: any Backend,
                               against reference: any Backend = CPUBackend()) -> Result {
        let start = DispatchTime.now().uptimeNanoseconds
        let ref = Outputs(referenceModel, on: reference, input: input, targets: targets, layer: layer)
        let before = (device as? CUDABackend)?.fallbacks ?? 0
        let dev = Outputs(deviceModel, on: device, input: input, targets: targets, layer: layer)
        let fallbacks = ((device as? CUDABackend)?.fallbacks ?? 0) - before
        var worstParameter = "", parameterError: Float = 0
        for ((pname, r), (_, d)) in zip(ref.gradients, dev.gradients) {
            let e = relativeError(d, r)
            if e > parameterError || worstParameter.isEmpty { parameterError = e; worstParameter = pname }
        }
        let lossError = abs(dev.loss - ref.loss) / max(abs(ref.loss), 1e-12)
        return Result(name: name, input: input.shape, logits: relativeError(dev.logits, ref.logits),
                      graphLogits: relativeError(dev.graphLogits, ref.graphLogits),
                      activationGradient: relativeError(dev.activationGradient, ref.activationGradient), loss: lossError,
                      inputGradient: relativeError(dev.inputGradient, ref.inputGradient), parameterGradient: parameterError,
                      worstParameter: worstParameter, parameters: ref.gradients.count, fallbacks: fallbacks,
                      referenceSensitivity: nil, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// max|a − b| / max|b| (NaN anywhere gives NaN).
    public static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        guard a.count == b.count else { return .infinity }
        let pa = a.ptr, pb = b.ptr
        var diff: Float = 0, scale: Float = 0
        for i in 0..<a.count {
            let d = abs(pa[i] - pb[i])
            if d.isNaN { return .nan }
            diff = max(diff, d)
            scale = max(scale, abs(pb[i]))
        }
        return diff / max(scale, 1e-12)
    }

    private struct Outputs {
        var logits, graphLogits, activationGradient, inputGradient: Tensor
        var loss: Float
        var gradients: [(String, Tensor)]

        /// Without `layer`, only the training step (the other outputs are left empty).
        init(_ model: any Model, on backend: any Backend, input x: Tensor, targets: Tensor, layer: String?) {
            (logits, graphLogits, activationGradient, inputGradient, loss, gradients) = Engine.withBackend(backend) {
                var folded = Tensor(shape: [0]), evalLogits = Tensor(shape: [0]), cam = Tensor(shape: [0])
                if let layer {
                    folded = model.predict(x)
                    let ctx = ForwardContext(training: false, recordsGraph: true, keepActivations: [layer])
                    let eval = model.forward(Variable(x), ctx)
                    guard let recorded = ctx.activations[layer] else { preconditionFailure("the model records no \(layer)") }
                    var seed = Tensor(shape: eval.shape)
                    for b in 0..<eval.shape[0] { seed[flat: b * eval.shape[1]] = 1 }
                    eval.backward(seed: seed, downTo: recorded)
                    evalLogits = eval.value
                    cam = recorded.grad ?? Tensor(shape: recorded.shape)
                }
                model.zeroGradients()
                let input = Variable(x, requiresGradient: true)
                let loss = Functional.bceWithLogits(model.forward(input, ForwardContext(training: true, seed: 3)), targets: targets)
                loss.backward()
                let grads = model.namedParameters().compactMap { name, p in p.grad.map { (name, $0) } }
                return (folded, evalLogits, cam, input.grad ?? Tensor(shape: x.shape), loss.value[flat: 0], grads)
            }
        }
    }
}
