import Dispatch
import Foundation
import MedEngine
import MedExplain
import MedImaging

/// What the stages before analysis know about a scan: the job, how many files it came from, whether the series
/// is complete, and what it replaces.
public struct AnalysisContext: Sendable {
    public var jobID: String
    public var files: Int
    public var completeness: InputDescription.Completeness
    public var evidence: CompletenessEvidence?
    public var replaces: String?
    /// Milliseconds of the stages already done (read, queue).
    public var timings: [String: Double]
    public var warnings: [String]

    public init(jobID: String, files: Int, completeness: InputDescription.Completeness, evidence: CompletenessEvidence? = nil,
                replaces: String? = nil, timings: [String: Double] = [:], warnings: [String] = []) {
        self.jobID = jobID; self.files = files; self.completeness = completeness; self.evidence = evidence
        self.replaces = replaces; self.timings = timings; self.warnings = warnings
    }
}

/// The outcome for one volume.
public enum VolumeAnalysis: Sendable {
    /// Findings (possibly none, with every routed model listed as skipped) and the overlay files beside them.
    case findings(FindingsDocument, overlays: [(name: String, contents: Data)])
    /// A routing rule says a person looks at this scan.
    case held(rule: String)
    /// None of the routed models is loaded; the scan can be replayed once they are.
    case unavailable(models: [String], rule: String)
}

/// The model pipeline shared by the daemon and `medlens classify`: route → preprocess with each model's
/// `InputSpec` → inference → thresholds → findings document.
public struct ScanAnalyzer: Sendable {
    public var settings: PipelineSettings
    public var inference: any InferenceService

    public init(settings: PipelineSettings, inference: any InferenceService) {
        self.settings = settings
        self.inference = inference
    }

    public func analyse(_ volume: Volume, decision: Router.Decision, models: (String) -> LoadedModel?,
                        context: AnalysisContext) -> VolumeAnalysis {
        let names: [String], rule: String
        switch decision {
        case .hold(let r): return .held(rule: r)
        case let .run(m, r): names = m; rule = r
        }
        var skipped: [SkippedModel] = []
        var loaded: [LoadedModel] = []
        for name in names {
            if let model = models(name) { loaded.append(model) } else {
                skipped.append(SkippedModel(model: name, reason: "model_unavailable", message: "\(name) is not loaded (not in the model store, or refused)"))
            }
        }
        if loaded.isEmpty { return .unavailable(models: names, rule: rule) }

        var timings = context.timings
        var references: [ModelReference] = []
        var findings: [Finding] = []
        var overlays: [(name: String, contents: Data)] = []
        var warnings: [String] = []
        for model in loaded {
            let started = Self.now()
            let prepared: PreparedInput
            do {
                prepared = try Self.prepare(volume, for: model, settings: settings)
            } catch {
                skipped.append(SkippedModel(model: model.name, reason: error.reason, message: error.message))
                continue
            }
            timings["preprocess", default: 0] += Self.milliseconds(since: started)
            let inferStarted = Self.now()
            let logits = inference.logits(model, prepared.samples)
            timings["inference", default: 0] += Self.milliseconds(since: inferStarted)
            var reference = model.reference
            reference.sampling = prepared.sampling
            references.append(reference)
            var modelFindings = Self.findings(model: model, logits: logits, sampling: prepared.sampling)
            let explainStarted = Self.now()
            do {
                overlays += try explain(&modelFindings, model: model, volume: volume, prepared: prepared)
            } catch {
                warnings.append("\(model.name): no explanation: \(error.description)")
            }
            if settings.explain != .none { timings["explain", default: 0] += Self.milliseconds(since: explainStarted) }
            findings += modelFindings
        }
        let metadata = volume.metadata
        let document = FindingsDocument(
            jobID: context.jobID,
            study: StudyReference(studyInstanceUID: metadata.studyInstanceUID, seriesInstanceUID: metadata.seriesInstanceUID,
                                  sopInstanceUIDs: metadata.sopInstanceUIDs, modality: metadata.modality,
                                  patient: settings.patientKey.reference(for: volume.patient.patientID)),
            input: InputDescription(kind: metadata.kind, files: context.files, shape: volume.shape.array, spacing: volume.geometry.spacing,
                                    completeness: context.completeness, evidence: context.evidence),
            models: references, findings: findings, timings: timings,
            warnings: context.warnings + metadata.warnings + warnings, createdAt: Date(), replaces: context.replaces,
            route: rule, skipped: skipped)
        return .findings(document, overlays: overlays)
    }

    /// Grad-CAM (or the configured method) for the findings the policy selects, on the sample the model saw: the
    /// whole scan, or for a 2D model on a volume the slice where that label's probability peaked. Overlays are
    /// named `<model>-<label>-<kind>.png`; an empty map is reported (`empty`, no overlays), never drawn.
    private func explain(_ findings: inout [Finding], model: LoadedModel, volume: Volume,
                         prepared: PreparedInput) throws(ExplainError) -> [(name: String, contents: Data)] {
        let targets = findings.indices.filter { settings.explain == .all || (settings.explain == .positive && findings[$0].positive) }
        guard !targets.isEmpty else { return [] }
        let spec = model.manifest.input
        // Targets grouped by the sample they are explained on.
        var bySample: [Int: [Int]] = [:]
        for target in targets {
            let sample = prepared.sampling.flatMap { sampling in findings[target].slice.flatMap { sampling.slices.firstIndex(of: $0) } } ?? 0
            bySample[sample, default: []].append(target)
        }
        var files: [(name: String, contents: Data)] = []
        for (sample, group) in bySample.sorted(by: { $0.key < $1.key }) {
            let slice = prepared.sampling?.slices[sample]
            let original = slice.map { volume.slice($0) } ?? volume
            let input = Tensor(shape: [1] + spec.tensorShape, data: prepared.samples[sample])
            let explained = try model.withModel { network throws(ExplainError) in
                try Explainer.explain(model: network, architecture: model.manifest.architecture.name, input: input, original: original,
                                      targets: group, labels: model.manifest.labels, settings: ExplainSettings(method: settings.explainMethod))
            }
            for explanation in explained {
                let suffix = slice.map { "-slice\($0)" } ?? ""
                let names = explanation.images.map { image in
                    "\(model.name)-" + (image.fileName as NSString).deletingPathExtension + suffix + ".png"
                }
                files += zip(names, explanation.images.map(\.data)).map { ($0, $1) }
                let record = explanation.record
                findings[explanation.target].explanation = Explanation(
                    method: record.method.rawValue, targetLayer: record.targetLayer, mapMin: Double(record.mapMin),
                    mapMax: Double(record.mapMax), mapMean: Double(record.mapMean), empty: record.empty,
                    peak: record.peak.map { $0 + (slice.map { [$0] } ?? []) }, overlays: names)
            }
        }
        return files
    }

    /// Samples for one model: the volume as it is, or the central slices of a volume for a 2D model.
    struct PreparedInput {
        var samples: [[Float]]
        var sampling: ModelReference.Sampling?
    }

    struct SkipReason: Error {
        var reason: String
        var message: String
    }

    static func prepare(_ volume: Volume, for model: LoadedModel, settings: PipelineSettings) throws(SkipReason) -> PreparedInput {
        let spec = model.manifest.input
        let name = model.name
        func tensor(_ v: Volume) throws(SkipReason) -> [Float] {
            do { return try spec.tensor(from: v, name: name) } catch {
                if case .channels = error { throw SkipReason(reason: "channels", message: error.description) }
                throw SkipReason(reason: "preprocess_failed", message: error.description)
            }
        }
        if spec.isVolumetric {
            guard volume.shape.depth > 1 else {
                throw SkipReason(reason: "needs_volume", message: "\(name) is a 3D model; this scan is one 2D image")
            }
            return PreparedInput(samples: [try tensor(volume)], sampling: nil)
        }
        guard volume.shape.depth > 1 else { return PreparedInput(samples: [try tensor(volume)], sampling: nil) }
        let indices = volume.centralSliceIndices(settings.slices2D)
        var samples: [[Float]] = []
        for index in indices { samples.append(try tensor(volume.slice(index))) }
        return PreparedInput(samples: samples, sampling: .init(slices: indices, of: volume.shape.depth, aggregation: settings.aggregation))
    }

    /// One finding per label: the sigmoid of the logit against the label's threshold. Over several slices the
    /// probabilities are combined as `sampling` says; the logit reported is that of the combined probability.
    static func findings(model: LoadedModel, logits: [[Float]], sampling: ModelReference.Sampling?) -> [Finding] {
        let manifest = model.manifest
        return manifest.labels.enumerated().map { index, label in
            let probabilities = logits.map { sigmoid(Double($0[index])) }
            var probability = probabilities[0], slice: Int?
            if let sampling {
                let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
                slice = sampling.slices[best]
                switch sampling.aggregation {
                case .mean: probability = probabilities.reduce(0, +) / Double(probabilities.count)
                case .max: probability = probabilities[best]
                }
            }
            let logit = sampling == nil ? Double(logits[0][index]) : log(max(probability, 1e-12) / max(1 - probability, 1e-12))
            let threshold = index < manifest.thresholds.count ? Double(manifest.thresholds[index]) : 0.5
            return Finding(model: model.name, label: label, logit: logit, probability: probability, threshold: threshold, slice: slice)
        }
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    public static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    public static func milliseconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
}
