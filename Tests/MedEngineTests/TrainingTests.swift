import Foundation
import NumPyFormat
import Testing
@testable import MedEngine

/// Area under the ROC curve by the rank-sum (Mann–Whitney) statistic; ties count one half.
func auroc(scores: [Float], labels: [Float]) -> Double {
    let pos = zip(scores, labels).filter { $0.1 == 1 }.map(\.0), neg = zip(scores, labels).filter { $0.1 == 0 }.map(\.0)
    var wins = 0.0
    for p in pos { for n in neg { wins += p > n ? 1 : (p == n ? 0.5 : 0) } }
    return wins / Double(pos.count * neg.count)
}

@Suite struct TrainingTests {
    /// uint8 images → N×1×28×28 in [−1, 1].
    static func load(_ split: String) throws -> (images: Tensor, labels: [Float]) {
        let x = try NPYArray.read(from: Fixtures.url("pneumonia_\(split)_images.npy"))
        let y = try NPYArray.read(from: Fixtures.url("pneumonia_\(split)_labels.npy"))
        return (Tensor(shape: [x.shape[0], 1, 28, 28], data: x.data.map { $0 / 127.5 - 1 }), y.data)
    }

    static func batch(_ t: Tensor, _ rows: [Int]) -> Tensor {
        let per = t.count / t.shape[0]
        var data: [Float] = []
        data.reserveCapacity(rows.count * per)
        let all = t.scalars
        for r in rows { data += all[(r * per)..<((r + 1) * per)] }
        return Tensor(shape: [rows.count] + t.shape.dropFirst(), data: data)
    }

    @Test(.timeLimit(.minutes(1)))
    func smallCNNLearnsPneumoniaMNIST() throws {
        let train = try Self.load("train"), test = try Self.load("test")
        let model = SmallCNN(inChannels: 1, labels: 1, width: 8, seed: 1)
        var optimizer = AdamW(learningRate: 3e-3, weightDecay: 1e-4)
        var rng = SeededRandom(seed: 2)
        let before = auroc(scores: model.predict(test.images).scalars, labels: test.labels)
        let start = Date()
        for epoch in 0..<5 {
            let order = (0..<train.labels.count).shuffled(using: &rng)
            for b in stride(from: 0, to: order.count, by: 32) {
                let rows = Array(order[b..<min(b + 32, order.count)])
                model.zeroGradients()
                let ctx = ForwardContext(training: true, seed: UInt64(epoch * 1000 + b))
                let logits = model.forward(Variable(Self.batch(train.images, rows)), ctx)
                let loss = Functional.bceWithLogits(logits, targets: Tensor(shape: [rows.count, 1], data: rows.map { train.labels[$0] }))
                loss.backward()
                optimizer.step(model.trainableParameters)
            }
        }
        let seconds = Date().timeIntervalSince(start)
        let after = auroc(scores: model.predict(test.images).scalars, labels: test.labels)
        print("training: test AUROC \(before) → \(after) in \(seconds) s")
        #expect(after > 0.9)
        #expect(after > before)
    }
}
