import Foundation
import MedLensCore
import Prometheus

/// The daemon's Prometheus metrics: queue depth, jobs by outcome, per-stage latency, batch sizes and the model
/// versions being served (an info gauge per name, version, sha256 and backend).
final class DaemonMetrics: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    private let lock = NSLock()
    private let queueDepth: Gauge
    private let inFlight: Gauge
    private var outcomes: [String: Counter] = [:]
    private var stages: [String: ValueHistogram] = [:]
    private let batchSize: ValueHistogram
    private var modelInfo: [String: Gauge] = [:]
    private var refusals: [String: Counter] = [:]

    static let secondsBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

    init() {
        queueDepth = registry.makeGauge(name: "medlens_queue_depth", help: "Files settling in the inboxes plus jobs taken and not finished")
        inFlight = registry.makeGauge(name: "medlens_runs_in_flight", help: "Runs (series or single inputs) being decoded, inferred or written")
        batchSize = registry.makeValueHistogram(name: "medlens_batch_size", buckets: [1, 2, 4, 8, 16, 32, 64], help: "Samples per inference batch")
    }

    func setQueue(depth: Int, inFlight runs: Int) {
        queueDepth.set(to: Double(depth))
        inFlight.set(to: Double(runs))
    }

    func job(outcome: String, reason: String? = nil) {
        let key = outcome + "|" + (reason ?? "")
        lock.lock()
        let counter = outcomes[key] ?? registry.makeCounter(name: "medlens_jobs_total", labels: [("outcome", outcome), ("reason", reason ?? "")],
                                                             help: "Inputs finished, by outcome (archived, quarantined) and quarantine reason")
        outcomes[key] = counter
        lock.unlock()
        counter.increment()
    }

    /// Milliseconds of one stage of one run.
    func stage(_ name: String, milliseconds: Double) {
        lock.lock()
        let histogram = stages[name] ?? registry.makeValueHistogram(name: "medlens_stage_seconds", labels: [("stage", name)],
                                                                    buckets: Self.secondsBuckets, help: "Seconds per pipeline stage and run")
        stages[name] = histogram
        lock.unlock()
        histogram.record(milliseconds / 1000)
    }

    func batch(size: Int) { batchSize.record(Double(size)) }

    /// The served version of a model; the previous version's series is removed.
    func served(_ model: LoadedModel) {
        lock.lock(); defer { lock.unlock() }
        if let old = modelInfo[model.name] { registry.unregisterGauge(old) }
        let gauge = registry.makeGauge(name: "medlens_model_info",
                                       labels: [("model", model.name), ("version", model.version), ("sha256", model.sha256), ("backend", model.backend)],
                                       help: "The model version being served (value 1)")
        gauge.set(to: 1)
        modelInfo[model.name] = gauge
    }

    func refused(model name: String) {
        lock.lock()
        let counter = refusals[name] ?? registry.makeCounter(name: "medlens_model_refused_total", labels: [("model", name)],
                                                             help: "Model versions refused at load (checksum or self-test)")
        refusals[name] = counter
        lock.unlock()
        counter.increment()
    }

    func text() -> String { registry.emitToString() }
}
