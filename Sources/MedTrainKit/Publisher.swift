import Foundation
import MedEngine

extension ModelPackage {
    /// Scores a data set with this package's own input spec and applies its thresholds.
    public func evaluate(on dataset: LabelledDataset, cacheRoot: URL?, bootstrapResamples: Int = 1000,
                         seed: UInt64 = 0) throws(TrainingError) -> (scores: ModelScores, evaluation: Evaluation) {
        guard dataset.labelNames == manifest.labels else {
            throw .data("\(manifest.name) \(manifest.version) predicts \(manifest.labels), the data has labels \(dataset.labelNames)")
        }
        let scores: ModelScores
        do { scores = try Scorer.score(model, dataset: dataset, tensors: SampleTensors(spec: manifest.input, cacheRoot: cacheRoot)) } catch {
            throw .data("cannot score \(manifest.name) \(manifest.version): \(error)")
        }
        let evaluation = Evaluation(scores.scored, labelNames: manifest.labels, rule: ThresholdRule(method: manifest.thresholdMethod) ?? .youden,
                                    thresholds: manifest.thresholds.map(Double.init), bootstrapResamples: bootstrapResamples, seed: seed)
        return (scores, evaluation)
    }
}

extension DataSpec {
    /// The data a package was trained on, as its provenance records it (absolute paths).
    public init?(provenanceOf manifest: ModelManifest) {
        guard let json = manifest.provenance["data"], let spec = try? JSONDecoder().decode(DataSpec.self, from: Data(json.utf8)) else { return nil }
        self = spec
    }
}

/// What publishing compares: one number per model on the same validation samples, higher is better.
public enum PublishMetric: String, Codable, Sendable, CaseIterable {
    case mAP = "map"
    case meanAUROC = "auroc"

    func value(_ e: Evaluation) -> Double? { self == .mAP ? e.meanAveragePrecision : e.meanAUROC }
    var title: String { self == .mAP ? "mAP" : "mean AUROC" }
}

/// The candidate and the champion on the same validation set, and what was decided.
public struct PublishDecision: Codable, Sendable {
    public enum Outcome: String, Codable, Sendable {
        /// `current` now names the candidate.
        case published
        /// The candidate scored below the champion by more than the tolerance; nothing changed.
        case refused
        /// This very package (same version, same weights) is in the store already; nothing changed.
        case alreadyPublished = "already_published"
    }

    public var outcome: Outcome
    public var name: String
    public var candidate: String
    public var champion: String?
    public var metric: PublishMetric
    public var candidateScore: Double?
    public var championScore: Double?
    public var tolerance: Double
    public var forced: Bool
    public var validationSamples: Int
    public var validationSHA256: String?
    public var message: String
}

/// `medtrain publish`: verify the package, evaluate it and the store's current version (the champion) on the
/// same validation set, refuse a regression beyond `tolerance` unless forced, else make it current.
public struct Publisher {
    public var store: ModelStore
    public var metric: PublishMetric
    public var tolerance: Double
    public var force: Bool
    public var cacheRoot: URL?

    public init(store: ModelStore, metric: PublishMetric = .mAP, tolerance: Double = 0.01, force: Bool = false, cacheRoot: URL? = nil) {
        self.store = store
        self.metric = metric
        self.tolerance = tolerance
        self.force = force
        self.cacheRoot = cacheRoot
    }

    /// - Parameter validation: the samples both models are scored on; nil takes the candidate's validation part
    ///   from its provenance.
    public func publish(_ packageURL: URL, validation given: LabelledDataset? = nil) throws(TrainingError) -> PublishDecision {
        let candidate: ModelPackage
        do { candidate = try ModelPackage.load(from: packageURL) } catch {
            throw .model("\(packageURL.path) does not verify: \(error)")
        }
        let m = candidate.manifest
        func decision(_ outcome: PublishDecision.Outcome, champion: String? = nil, scores: (Double?, Double?) = (nil, nil),
                      samples: Int = 0, digest: String? = nil, _ message: String) -> PublishDecision {
            PublishDecision(outcome: outcome, name: m.name, candidate: m.version, champion: champion, metric: metric,
                            candidateScore: scores.0, championScore: scores.1, tolerance: tolerance, forced: force,
                            validationSamples: samples, validationSHA256: digest, message: message)
        }
        if store.versions(of: m.name).contains(m.version) {
            let existing = try? ModelPackage.load(from: store.directory(name: m.name, version: m.version))
            guard existing?.manifest.weightsSHA256 == m.weightsSHA256 else {
                throw .model("\(m.name) \(m.version) is already in the store with other weights; give the package a new version")
            }
            return decision(.alreadyPublished, champion: store.currentVersion(of: m.name), "\(m.name) \(m.version) is already in the store")
        }
        guard let championVersion = store.currentVersion(of: m.name) else {
            try flip(packageURL, note: "first version of \(m.name)")
            return decision(.published, "\(m.name) \(m.version) published (the store had no current version)")
        }
        let champion: ModelPackage
        do { champion = try store.loadCurrent(m.name).package } catch {
            guard force else { throw .model("the current \(m.name) (\(championVersion)) does not load: \(error); publish with --force to replace it") }
            try flip(packageURL, note: "forced over an unloadable \(championVersion)")
            return decision(.published, champion: championVersion, "\(m.name) \(m.version) published over an unloadable \(championVersion) (forced)")
        }
        guard champion.manifest.labels == m.labels else {
            throw .model("\(m.name) \(championVersion) predicts \(champion.manifest.labels), the candidate \(m.labels): they cannot be compared")
        }
        let validation: LabelledDataset
        if let given {
            validation = given
        } else {
            guard let spec = DataSpec(provenanceOf: m) else {
                throw .data("\(packageURL.path) records no training data; give the validation data with --data")
            }
            do {
                guard let part = try spec.load(relativeTo: URL(fileURLWithPath: "/")).validation else { throw TrainingError.data("no validation part") }
                validation = part
            } catch { throw .data("cannot load the validation part the package was trained with: \(error); give it with --data") }
        }
        let digest = validation.digest()
        let candidateScore = metric.value(try candidate.evaluate(on: validation, cacheRoot: cacheRoot, bootstrapResamples: 0).evaluation)
        let championScore = metric.value(try champion.evaluate(on: validation, cacheRoot: cacheRoot, bootstrapResamples: 0).evaluation)
        let scores = (candidateScore, championScore)
        let comparison = "\(metric.title) \(Self.format(candidateScore)) against \(Self.format(championScore)) for \(championVersion) on \(validation.samples.count) validation samples"
        let regressed: Bool
        switch (candidateScore, championScore) {
        case let (c?, h?): regressed = c < h - tolerance
        case (nil, .some): regressed = true
        default: regressed = false
        }
        if regressed && !force {
            return decision(.refused, champion: championVersion, scores: scores, samples: validation.samples.count, digest: digest,
                            "refused: \(comparison) is a regression beyond the tolerance \(tolerance); --force publishes it anyway")
        }
        try flip(packageURL, note: comparison + (regressed ? " (forced)" : ""))
        return decision(.published, champion: championVersion, scores: scores, samples: validation.samples.count, digest: digest,
                        "\(m.name) \(m.version) published: \(comparison)\(regressed ? " (forced)" : "")")
    }

    private func flip(_ url: URL, note: String) throws(TrainingError) {
        do { try store.publish(packageAt: url, note: note) } catch { throw .io(error.description) }
    }

    static func format(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "undefined" }
}
