import Foundation
import MedEngine
import MedImaging

/// A sample's preprocessed array for one input spec: decoded images go through the disk cache (when there is
/// one) and are kept in memory up to a budget, so that later epochs neither decode nor read them again.
public final class SampleTensors: @unchecked Sendable {
    public let spec: InputSpec
    private let preprocessor: Preprocessor
    private let cache: PreprocessCache?
    private let budget: Int
    private let lock = NSLock()
    private var memo: [String: [Float]] = [:]
    private var held = 0

    /// - Parameter memoryBudget: bytes of decoded files kept in memory (default 1 GiB).
    public init(spec: InputSpec, cacheRoot: URL?, memoryBudget: Int = 1 << 30) {
        self.spec = spec
        preprocessor = Preprocessor(spec: spec)
        cache = cacheRoot.map { PreprocessCache(root: $0, preprocessor: Preprocessor(spec: spec)) }
        budget = memoryBudget
    }

    public func tensor(for sample: Sample) throws -> [Float] {
        guard case let .file(url) = sample.source else { return try preprocessor.tensor(for: sample) }
        lock.lock()
        let known = memo[url.path]
        lock.unlock()
        if let known { return known }
        let values = try cache?.tensor(for: sample).values ?? preprocessor.tensor(for: sample)
        lock.lock()
        if held + values.count * 4 <= budget, memo[url.path] == nil {
            memo[url.path] = values
            held += values.count * 4
        }
        lock.unlock()
        return values
    }

    /// The batch loader's view of this source.
    public var source: BatchLoader.TensorSource { { [self] in try tensor(for: $0) } }
}

/// A model's outputs for every sample of a data set, in order.
public struct ModelScores: Sendable {
    public var logits: [Float]
    /// Sigmoid probabilities with the samples' labels and mask.
    public var scored: ScoredLabels

    /// Mean binary cross-entropy over the unmasked entries (no class weights).
    public var loss: Double {
        var total = 0.0, count = 0.0
        for (i, x) in logits.enumerated() where scored.mask[i] > 0 {
            let x = Double(x), y = Double(scored.labels[i])
            total += max(x, 0) - x * y + log1p(exp(-abs(x)))
            count += 1
        }
        return count > 0 ? total / count : 0
    }
}

public enum Scorer {
    /// Runs `model` (inference path) over every sample of `dataset`, `batchSize` at a time.
    public static func score(_ model: any Model, dataset: LabelledDataset, tensors: SampleTensors, batchSize: Int = 32) throws -> ModelScores {
        let labelCount = dataset.labelNames.count
        var logits = [Float](), labels = [Float](), mask = [Float]()
        guard !dataset.samples.isEmpty else {
            return ModelScores(logits: [], scored: ScoredLabels(count: 0, labelCount: labelCount, scores: [], labels: []))
        }
        let loader = BatchLoader(dataset: dataset, batchSize: batchSize, sampleShape: tensors.spec.tensorShape, shuffle: false,
                                 seed: 0, tensor: tensors.source)
        let stream = loader.epoch(0)
        while let batch = try stream.next() {
            let output = model.predict(Tensor(shape: batch.shape, data: batch.inputs))
            guard output.count == batch.count * labelCount else {
                throw TrainingError.model("the model gives \(output.count / batch.count) outputs per sample, the data has \(labelCount) labels")
            }
            logits += output.scalars
            labels += batch.labels
            mask += batch.mask
        }
        let probabilities = logits.map { 1 / (1 + expf(-$0)) }
        return ModelScores(logits: logits, scored: ScoredLabels(count: dataset.samples.count, labelCount: labelCount,
                                                                scores: probabilities, labels: labels, mask: mask))
    }
}
