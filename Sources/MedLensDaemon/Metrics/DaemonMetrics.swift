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

    /// swift-prometheus 2.4's descriptor: our names are already whole (`unitName` left empty is skipped).
    static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    static let secondsBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

    init() {
        queueDepth = registry.makeGauge(descriptor: Self.named("medlens_queue_depth",
                                                               "Files settling in the inboxes plus jobs taken and not finished"))
        inFlight = registry.makeGauge(descriptor: Self.named("medlens_runs_in_flight",
                                                             "Runs (series or single inputs) being decoded, inferred or written"))
        batchSize = registry.makeValueHistogram(descriptor: Self.named("medlens_batch_size", "Samples per inference batch"),
                                                buckets: [1, 2, 4, 8, 16, 32, 64])
    }

    func setQueue(depth: Int, inFlight runs: Int) {
        queueDepth.set(to: Double(depth))
        inFlight.set(to: Double(runs))
    }

    func job(outcome: String, reason: String? = nil) {
        let key = outcome + "|" + (reason ?? "")
        lock.lock()
        let counter = outcomes[key] ?? registry.makeCounter(
            descriptor: Self.named("medlens_jobs_total", "Inputs finished, by outcome (archived, quarantined) and quarantine reason"),
            labels: [("outcome", outcome), ("reason", reason ?? "")])
        outcomes[key] = counter
        lock.unlock()
        counter.increment()
    }

    /// Milliseconds of one stage of one run.
    func stage(_ name: String, milliseconds: Double) {
        lock.lock()
        let histogram = stages[name] ?? registry.makeValueHistogram(
            descriptor: Self.named("medlens_stage_seconds", "Seconds per pipeline stage and run"), labels: [("stage", name)],
            buckets: Self.secondsBuckets)
        stages[name] = histogram
        lock.unlock()
        histogram.record(milliseconds / 1000)
    }

    func batch(size: Int) { batchSize.record(Double(size)) }

    /// The served version of a model; the previous version's series is removed.
    func served(_ model: LoadedModel) {
        lock.lock(); defer { lock.unlock() }
        if let old = modelInfo[model.name] { registry.unregisterGauge(old) }
        let gauge = registry.makeGauge(
            descriptor: Self.named("medlens_model_info", "The model version being served (value 1)"),
            labels: [("model", model.name), ("version", model.version), ("sha256", model.sha256), ("backend", model.backend)])
        gauge.set(to: 1)
        modelInfo[model.name] = gauge
    }

    func refused(model name: String) {
        lock.lock()
        let counter = refusals[name] ?? registry.makeCounter(
            descriptor: Self.named("medlens_model_refused_total", "Model versions refused at load (checksum or self-test)"),
            labels: [("model", name)])
        refusals[name] = counter
        lock.unlock()
        counter.increment()
    }

    func text() -> String { registry.emitToString() }
}
