import Foundation
import Testing
@testable import MedEngine

/// Optimisers, clipping and schedules against torch.optim (fixtures/engine/optim.safetensors).
@Suite struct OptimizerTests {
    let ref: [String: Tensor]

    init() throws { ref = try SafeTensors.read(from: Fixtures.url("optim.safetensors")).tensors }

    /// Five steps on Σ s·(w−t)²/2, whose gradient is s·(w−t).
    func run(_ optimizer: inout some Optimizer) -> Tensor {
        let w = Parameter(ref["init"]!)
        for _ in 0..<5 {
            let diff = Engine.backend.axpby(w.value, alpha: 1, ref["target"]!, beta: -1)
            w.grad = Engine.backend.multiply(ref["scale"]!, diff)
            optimizer.step([w])
        }
        return w.value
    }

    @Test func sgdWithMomentumDampeningAndWeightDecay() {
        var sgd = SGD(learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01)
        #expect(relativeError(run(&sgd), ref["sgd"]!) < 1e-6)
    }

    @Test func sgdNesterov() {
        var sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true)
        #expect(relativeError(run(&sgd), ref["nesterov"]!) < 1e-6)
    }

    @Test func adamW() {
        var adam = AdamW(learningRate: 0.05, weightDecay: 0.1)
        #expect(relativeError(run(&adam), ref["adamw"]!) < 1e-5)
    }

    @Test func gradientClipping() {
        let w = Parameter(ref["init"]!)
        w.grad = Engine.backend.multiply(ref["scale"]!, Engine.backend.axpby(w.value, alpha: 1, ref["target"]!, beta: -1))
        let norm = clipGradientNorm([w], maxNorm: 0.5)
        #expect(abs(norm - ref["clip_norm"]![flat: 0]) < 1e-5)
        #expect(relativeError(w.grad!, ref["clipped"]!) < 1e-6)
    }

    @Test func stepAndCosineSchedules() {
        let step = (1...12).map { LearningRateSchedule.step(stepSize: 3, gamma: 0.5).rate(base: 0.1, epoch: $0) }
        let cosine = (1...12).map { LearningRateSchedule.cosine(period: 10, minimum: 0.001).rate(base: 0.1, epoch: $0) }
        #expect(relativeError(Tensor(shape: [12], data: step), ref["lr_step"]!) < 1e-6)
        #expect(relativeError(Tensor(shape: [12], data: cosine), ref["lr_cosine"]!) < 1e-5)
    }

    @Test func reduceOnPlateau() {
        var plateau = ReduceOnPlateau(factor: 0.5, patience: 2, cooldown: 1)
        var rate: Float = 0.1
        let rates = ref["plateau_metrics"]!.scalars.map { metric in
            rate = plateau.step(metric: metric, rate: rate)
            return rate
        }
        #expect(rates == ref["lr_plateau"]!.scalars)
    }

    @Test func seededRandomIsReproducible() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42), c = SeededRandom(seed: 43)
        let x = a.tensor([16]).scalars, y = b.tensor([16]).scalars, z = c.tensor([16]).scalars
        #expect(x == y)
        #expect(x != z)
        // Same seed, same model weights.
        let m1 = SmallCNN(inChannels: 1, labels: 2, seed: 9), m2 = SmallCNN(inChannels: 1, labels: 2, seed: 9)
        #expect(m1.namedParameters().map { $0.1.value.scalars } == m2.namedParameters().map { $0.1.value.scalars })
    }
}
