import Foundation
import MedImaging
import Testing
@testable import MedTrainKit

@Suite struct BatchLoaderTests {
    static let spec = InputSpec(size: [28, 28], channels: 1, intensity: IntensityPipeline([.scale(factor: 1 / 255, offset: 0)]))

    static func loader(batchSize: Int = 16, shuffle: Bool = true, dropLast: Bool = false, augmentation: AugmentationSpec = .none,
                       seed: UInt64 = 9, prefetch: Int = 2) throws -> (LabelledDataset, BatchLoader) {
        let dataset = try LabelledDataset.medMNIST(npz: TrainFixtures.url("medmnist/pneumoniamnist_subset.npz"), split: "val")
        let preprocessor = Preprocessor(spec: spec)
        let loader = BatchLoader(dataset: dataset, batchSize: batchSize, sampleShape: spec.tensorShape, shuffle: shuffle,
                                 dropLast: dropLast, augmentation: augmentation, seed: seed, prefetch: prefetch) {
            try preprocessor.tensor(for: $0)
        }
        return (dataset, loader)
    }

    static func drain(_ stream: BatchStream) throws -> [Batch] {
        var batches: [Batch] = []
        while let batch = try stream.next() { batches.append(batch) }
        return batches
    }

    @Test func anEpochStacksEverySampleOnce() throws {
        let (dataset, loader) = try Self.loader(batchSize: 10)
        let batches = try Self.drain(loader.epoch(0))
        #expect(batches.map(\.count) == [10, 10, 10, 2])
        #expect(batches.flatMap(\.indices).sorted() == Array(0..<32))
        let preprocessor = Preprocessor(spec: Self.spec)
        for batch in batches {
            #expect(batch.shape == [batch.count, 1, 28, 28] && batch.inputs.count == batch.count * 784)
            for (slot, index) in batch.indices.enumerated() {
                let expected = try preprocessor.tensor(for: dataset.samples[index])
                #expect(Array(batch.inputs[(slot * 784)..<((slot + 1) * 784)]) == expected)
                #expect(batch.labels[slot] == dataset.samples[index].labels[0] && batch.mask[slot] == 1)
            }
        }
        // 24 of these 32 validation images are pneumonia (NumPy's count, fixtures/train/medmnist/expected.json).
        #expect(batches.reduce(0) { $0 + $1.labels.reduce(0, +) } == 24)
    }

    @Test func orderIsSeededAndChangesEachEpoch() throws {
        let (_, loader) = try Self.loader()
        #expect(loader.plan(epoch: 0) == (try Self.loader()).1.plan(epoch: 0))
        #expect(loader.plan(epoch: 0) != loader.plan(epoch: 1))
        #expect(loader.plan(epoch: 0) != (try Self.loader(seed: 10)).1.plan(epoch: 0))
        #expect((try Self.loader(shuffle: false)).1.plan(epoch: 3).flatMap { $0 } == Array(0..<32))
        #expect((try Self.loader(batchSize: 12, dropLast: true)).1.plan(epoch: 0).map(\.count) == [12, 12])
    }

    @Test func augmentedBatchesRepeatWhateverThePrefetch() throws {
        let augmentation = AugmentationSpec(rotationDegrees: 10, minScale: 0.9, maxScale: 1.1, translation: 0.05, brightness: 0.1)
        let a = try Self.drain(Self.loader(augmentation: augmentation, prefetch: 1).1.epoch(2))
        let b = try Self.drain(Self.loader(augmentation: augmentation, prefetch: 4).1.epoch(2))
        #expect(a.map(\.inputs) == b.map(\.inputs) && a.map(\.indices) == b.map(\.indices))
        let plain = try Self.drain(Self.loader(prefetch: 1).1.epoch(2))
        #expect(plain.map(\.indices) == a.map(\.indices) && plain.map(\.inputs) != a.map(\.inputs))
    }

    @Test func aFailingSampleFailsItsBatch() throws {
        var dataset = try LabelledDataset.medMNIST(npz: TrainFixtures.url("medmnist/pneumoniamnist_subset.npz"), split: "val")
        let missing = URL(fileURLWithPath: "/nonexistent/scan.png")
        dataset.samples[5] = Sample(source: .file(missing), patient: "x", labels: [0])
        let preprocessor = Preprocessor(spec: Self.spec)
        let loader = BatchLoader(dataset: dataset, batchSize: 8, sampleShape: Self.spec.tensorShape, shuffle: false, seed: 1) {
            try preprocessor.tensor(for: $0)
        }
        let stream = loader.epoch(0)
        #expect(throws: PreprocessError.self) { try stream.next() }
        #expect(try stream.next()?.indices == Array(8..<16))
    }
}
