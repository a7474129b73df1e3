import Foundation
import MedEngine

/// N samples stacked: `inputs` is N x (sample shape), `labels` and `mask` are N x labels, all row-major.
public struct Batch: Sendable {
    public var inputs: [Float]
    public var labels: [Float]
    public var mask: [Float]
    /// `[N] + sampleShape`.
    public var shape: [Int]
    /// Which samples of the data set, in batch order.
    public var indices: [Int]
    public var count: Int { indices.count }
}

/// Batches of a data set's samples, reshuffled each epoch from a seed, built ahead on a background queue.
/// What a sample draws for augmentation depends only on (seed, epoch, sample index), so a run repeats exactly
/// however the work is scheduled.
public struct BatchLoader: Sendable {
    public typealias TensorSource = @Sendable (Sample) throws -> [Float]

    public var samples: [Sample]
    public var indices: [Int]
    public var batchSize: Int
    public var sampleShape: [Int]
    public var shuffle: Bool
    public var dropLast: Bool
    public var augmentation: AugmentationSpec
    public var seed: UInt64
    /// How many batches are built ahead of the one being consumed.
    public var prefetch: Int
    private let tensor: TensorSource

    public init(dataset: LabelledDataset, indices: [Int]? = nil, batchSize: Int, sampleShape: [Int], shuffle: Bool,
                dropLast: Bool = false, augmentation: AugmentationSpec = .none, seed: UInt64, prefetch: Int = 2,
                tensor: @escaping TensorSource) {
        precondition(batchSize > 0 && prefetch > 0, "batch size and prefetch must be positive")
        samples = dataset.samples
        self.indices = indices ?? Array(dataset.samples.indices)
        self.batchSize = batchSize
        self.sampleShape = sampleShape
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.augmentation = augmentation
        self.seed = seed
        self.prefetch = prefetch
        self.tensor = tensor
    }

    /// The sample order of one epoch, cut into batches.
    public func plan(epoch: Int) -> [[Int]] {
        var order = indices
        if shuffle {
            var rng = SeededRandom(seed: seed, stream: UInt64(epoch), 0)
            order.shuffle(using: &rng)
        }
        var batches = stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
        if dropLast, let last = batches.last, last.count < batchSize { batches.removeLast() }
        return batches
    }

    /// The batches of one epoch from batch `first` on (a resumed run skips those it has trained on).
    public func epoch(_ epoch: Int, from first: Int = 0) -> BatchStream {
        BatchStream(plan: Array(plan(epoch: epoch).dropFirst(first)), prefetch: prefetch) { try self.makeBatch($0, epoch: epoch) }
    }

    /// Builds one batch, its samples in parallel, each into its own slice of the output.
    public func makeBatch(_ members: [Int], epoch: Int) throws -> Batch {
        let elementCount = sampleShape.reduce(1, *)
        let labelCount = samples[members[0]].labels.count
        var inputs = [Float](repeating: 0, count: members.count * elementCount)
        var labels: [Float] = [], mask: [Float] = []
        for index in members { labels += samples[index].labels; mask += samples[index].mask }
        precondition(labels.count == members.count * labelCount, "samples disagree on the number of labels")
        let failure = FirstError()
        inputs.withUnsafeMutableBufferPointer { output in
            let out = SendableBuffer(base: output.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: members.count) { slot in
                do {
                    let index = members[slot]
                    var values = try tensor(samples[index])
                    guard values.count == elementCount else {
                        throw BatchError.shape(index: index, found: values.count, expected: sampleShape)
                    }
                    if augmentation != .none {
                        var rng = SeededRandom(seed: seed, stream: UInt64(epoch), UInt64(index) + 1)
                        augmentation.apply(to: &values, shape: sampleShape, using: &rng)
                    }
                    values.withUnsafeBufferPointer { (out.base + slot * elementCount).update(from: $0.baseAddress!, count: elementCount) }
                } catch { failure.record(error) }
            }
        }
        if let error = failure.error { throw error }
        return Batch(inputs: inputs, labels: labels, mask: mask, shape: [members.count] + sampleShape, indices: members)
    }
}

public enum BatchError: Error, Equatable, CustomStringConvertible {
    case shape(index: Int, found: Int, expected: [Int])

    public var description: String {
        switch self {
        case let .shape(index, found, expected): return "sample \(index) has \(found) values, expected shape \(expected)"
        }
    }
}

/// One epoch's batches in order. `next()` waits for the batch being built and starts the one after the prefetch
/// window; a batch that failed to build throws when it is reached.
public final class BatchStream: @unchecked Sendable {
    private let plan: [[Int]]
    private let prefetch: Int
    private let build: @Sendable ([Int]) throws -> Batch
    private let queue = DispatchQueue(label: "medtrain.batches")
    private let condition = NSCondition()
    private var ready: [Int: Result<Batch, Error>] = [:]
    private var consumed = 0
    private var scheduled = 0

    init(plan: [[Int]], prefetch: Int, build: @escaping @Sendable ([Int]) throws -> Batch) {
        self.plan = plan
        self.prefetch = prefetch
        self.build = build
        scheduleAhead()
    }

    public var batchCount: Int { plan.count }

    public func next() throws -> Batch? {
        guard consumed < plan.count else { return nil }
        condition.lock()
        while ready[consumed] == nil { condition.wait() }
        let result = ready.removeValue(forKey: consumed)!
        condition.unlock()
        consumed += 1
        scheduleAhead()
        return try result.get()
    }

    private func scheduleAhead() {
        while scheduled < min(plan.count, consumed + prefetch) {
            let number = scheduled, members = plan[number]
            scheduled += 1
            queue.async { [self] in
                let result = Result { try build(members) }
                condition.lock()
                ready[number] = result
                condition.broadcast()
                condition.unlock()
            }
        }
    }
}

/// The output pointer, shared by the parallel writers of disjoint slices.
private struct SendableBuffer: @unchecked Sendable { let base: UnsafeMutablePointer<Float> }

/// Keeps the first error thrown by any parallel worker.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func record(_ error: Error) { lock.lock(); if self.error == nil { self.error = error }; lock.unlock() }
}
