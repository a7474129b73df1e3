import Foundation
import MedLensCore

/// Inference batched across jobs: one thread takes the oldest request, waits up to `maxWait` for more samples
/// for the same model instance (across jobs), and runs up to `maxBatch` samples as one batch. Callers (the run
/// threads) block until their logits are back. A new model version is a different instance, so batches never
/// mix versions and a swap happens between batches.
final class Batcher: InferenceService, @unchecked Sendable {
    private final class Request {
        let model: LoadedModel
        let samples: [[Float]]
        var logits: [[Float]] = []
        let done = DispatchSemaphore(value: 0)
        init(model: LoadedModel, samples: [[Float]]) { self.model = model; self.samples = samples }
    }

    private let condition = NSCondition()
    private var queue: [Request] = []
    private let maxBatch: Int
    private let maxWait: Double
    private let onBatch: @Sendable (_ model: LoadedModel, _ size: Int, _ seconds: Double) -> Void

    init(maxBatch: Int, maxWait: Double, onBatch: @escaping @Sendable (LoadedModel, Int, Double) -> Void) {
        self.maxBatch = max(1, maxBatch)
        self.maxWait = maxWait
        self.onBatch = onBatch
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "medlensd-inference"
        thread.stackSize = 8 << 20
        thread.start()
    }

    func logits(_ model: LoadedModel, _ samples: [[Float]]) -> [[Float]] {
        let request = Request(model: model, samples: samples)
        condition.lock()
        queue.append(request)
        condition.broadcast()
        condition.unlock()
        request.done.wait()
        return request.logits
    }

    private func samples(for model: LoadedModel) -> Int {
        queue.reduce(0) { $0 + ($1.model === model ? $1.samples.count : 0) }
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let model = queue[0].model
            let deadline = Date().addingTimeInterval(maxWait)
            while samples(for: model) < maxBatch, condition.wait(until: deadline) {}
            var taken: [Request] = []
            var count = 0
            queue.removeAll { request in
                guard request.model === model, taken.isEmpty || count + request.samples.count <= maxBatch else { return false }
                taken.append(request)
                count += request.samples.count
                return true
            }
            condition.unlock()

            let started = Date()
            let all = taken.flatMap(\.samples)
            let logits = DirectInference(maxBatch: maxBatch).logits(model, all)
            onBatch(model, all.count, Date().timeIntervalSince(started))
            var offset = 0
            for request in taken {
                request.logits = Array(logits[offset..<(offset + request.samples.count)])
                offset += request.samples.count
                request.done.signal()
            }
        }
    }
}
