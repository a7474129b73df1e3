import Foundation
import MedEngine
import MedImaging

/// One `medtrain train`: data, model, the loop, then the package, report, plots and experiment log, all under
/// one output folder:
///
/// ```
/// <out>/checkpoint.safetensors   resumable state (kept when the run is done: it says so)
/// <out>/model/                   the model package (model.json + model.safetensors)
/// <out>/report.json, report.md   metrics of the kept weights on the validation (and test) part
/// <out>/plots/*.png              ROC + precision-recall per label, training curves
/// <out>/experiment.jsonl         the experiment log, unless another is named
/// ```
public struct TrainingRun {
    public var config: TrainingConfig
    /// Where the config's relative paths start (its file's folder).
    public var base: URL
    public var output: URL
    public var resume: Bool
    public var log: ExperimentLog
    /// The preprocessing cache; nil keeps nothing on disk.
    public var cacheRoot: URL?

    public enum Outcome {
        case finished(package: URL, report: TrainingReport)
        /// Stopped on request; `--resume` continues from (epoch, batch), both 1-based.
        case interrupted(epoch: Int, batch: Int)
    }

    public init(config: TrainingConfig, base: URL, output: URL, resume: Bool, log: ExperimentLog? = nil, cacheRoot: URL?) {
        self.config = config
        self.base = base
        self.output = output
        self.resume = resume
        self.log = log ?? ExperimentLog(url: output.appendingPathComponent("experiment.jsonl"))
        self.cacheRoot = cacheRoot
    }

    public var checkpointURL: URL { output.appendingPathComponent("checkpoint.safetensors") }
    public var packageURL: URL { output.appendingPathComponent("model") }

    public func run(shouldStop: @escaping () -> Bool = { false }, onEvent: (TrainingEvent) -> Void = { _ in },
                    onNote: (String) -> Void = { _ in }) throws -> Outcome {
        try config.validate()
        if let threads = config.threads { CPUBackend.setThreads(threads) }
        let parts: DataParts
        do { parts = try config.data.load(relativeTo: base) } catch { throw TrainingError.data(error.description) }
        guard let validation = parts.validation else { throw TrainingError.data("the data has no validation part") }
        let digests = Dictionary(uniqueKeysWithValues: DataPart.allCases.compactMap { p in parts[p].map { (p.rawValue, $0.digest()) } })

        var checkpoint: TrainingCheckpoint?
        if FileManager.default.fileExists(atPath: checkpointURL.path) {
            guard resume else {
                throw TrainingError.checkpoint("\(output.path) already holds a run; pass --resume to continue it, or choose another --out")
            }
            let saved = try TrainingCheckpoint.read(from: checkpointURL)
            guard saved.identity.configDigest == config.digest else {
                throw TrainingError.checkpoint("the run in \(output.path) was started with another configuration; a resumed run must use the same one")
            }
            guard saved.identity.dataDigests == digests else {
                throw TrainingError.checkpoint("the data changed since the run in \(output.path) started (digests \(saved.identity.dataDigests) now \(digests))")
            }
            if saved.state.finished, let report = try? Self.readReport(output), FileManager.default.fileExists(atPath: packageURL.path) {
                onNote("the run in \(output.path) has finished; nothing to resume")
                return .finished(package: packageURL, report: report)
            }
            checkpoint = saved
        }
        let started = Date()
        let identity = checkpoint?.identity ?? RunIdentity(
            run: String(UUID().uuidString.prefix(8)).lowercased(), version: config.version ?? Self.timestampVersion(started),
            configDigest: config.digest, dataDigests: digests, started: started)

        let model: any Model
        do {
            model = try ModelZoo.make(arch: config.architecture, inChannels: config.input.channels, labels: parts.labelNames.count,
                                      width: config.width, seed: config.seed)
        } catch { throw TrainingError.model("cannot build \(config.architecture): \(error)") }
        var initialWeights: String?
        if let path = config.initialWeights {
            let loaded = try InitialWeights.load(URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL, into: model)
            initialWeights = loaded.description
            if checkpoint == nil { onNote("initial weights: \(loaded.description)") }
        }
        let tensors = SampleTensors(spec: config.input, cacheRoot: cacheRoot)
        let trainer = try Trainer(config: config, model: model, train: parts.train, validation: validation, tensors: tensors)
        do { try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true) } catch {
            throw TrainingError.io("cannot create \(output.path): \(error.localizedDescription)")
        }

        struct Start: Encodable { var config: TrainingConfig; var data: [String: String]; var split: SplitReport; var version: String; var initialWeights: String? }
        struct Resume: Encodable { var epoch: Int; var batch: Int }
        if let checkpoint {
            try trainer.restore(checkpoint)
            if !checkpoint.state.finished {
                onNote("resuming at epoch \(checkpoint.state.epoch + 1), batch \(checkpoint.state.batch + 1)")
                try log.append(run: identity.run, event: "resume", Resume(epoch: checkpoint.state.epoch + 1, batch: checkpoint.state.batch + 1))
            }
        } else {
            try log.append(run: identity.run, event: "start", Start(config: config, data: digests, split: parts.report,
                                                                   version: identity.version, initialWeights: initialWeights))
        }

        let finished = try trainer.run(shouldStop: shouldStop, save: { try $0.write(to: checkpointURL) }, identity: identity) { event in
            if case let .epoch(record, _, _) = event { try? log.append(run: identity.run, event: "epoch", record) }
            onEvent(event)
        }
        guard finished else {
            let state = trainer.state
            struct Interrupted: Encodable { var epoch: Int; var batch: Int }
            try log.append(run: identity.run, event: "interrupted", Interrupted(epoch: state.epoch + 1, batch: state.batch + 1))
            return .interrupted(epoch: state.epoch + 1, batch: state.batch + 1)
        }
        let report = try finish(trainer: trainer, parts: parts, validation: validation, tensors: tensors, identity: identity,
                                digests: digests, initialWeights: initialWeights)
        struct Finished: Encodable { var version: String; var package: String; var weightsSHA256: String?; var bestEpoch: Int; var validation: Evaluation; var test: Evaluation? }
        try log.append(run: identity.run, event: "finished", Finished(
            version: identity.version, package: packageURL.path, weightsSHA256: report.model.weightsSHA256, bestEpoch: report.bestEpoch,
            validation: report.validation.evaluation, test: report.test?.evaluation))
        return .finished(package: packageURL, report: report)
    }

    /// Evaluates the kept weights, chooses the thresholds on the validation part, writes the package, the report
    /// and the plots.
    func finish(trainer: Trainer, parts: DataParts, validation: LabelledDataset, tensors: SampleTensors, identity: RunIdentity,
                digests: [String: String], initialWeights: String?) throws -> TrainingReport {
        let model = trainer.model, labels = parts.labelNames
        let validationScores = try Scorer.score(model, dataset: validation, tensors: tensors)
        let validationEvaluation = Evaluation(validationScores.scored, labelNames: labels, rule: config.thresholdRule, fallback: 0.5,
                                              bootstrapResamples: config.bootstrapResamples, seed: config.seed)
        let thresholds = validationEvaluation.labels.map { $0.threshold ?? 0.5 }
        var testScores: ModelScores?, testEvaluation: Evaluation?
        if let test = parts.test, !test.samples.isEmpty {
            let scores = try Scorer.score(model, dataset: test, tensors: tensors)
            testScores = scores
            testEvaluation = Evaluation(scores.scored, labelNames: labels, rule: config.thresholdRule, thresholds: thresholds,
                                        bootstrapResamples: config.bootstrapResamples, seed: config.seed)
        }

        let state = trainer.state
        var metrics = Self.metrics(validationEvaluation, part: "validation")
        if let testEvaluation { metrics.merge(Self.metrics(testEvaluation, part: "test")) { $1 } }
        let compact = JSONEncoder()
        compact.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let dataJSON = String(decoding: (try? compact.encode(config.data.absolute(relativeTo: base))) ?? Data(), as: UTF8.self)
        var provenance = [
            "trainer": "medtrain (MedTrainKit)", "run": identity.run, "config": String(decoding: config.canonicalJSON, as: UTF8.self),
            "config_sha256": config.digest, "data": dataJSON, "started": ISO8601DateFormatter().string(from: identity.started),
            "finished": ISO8601DateFormatter().string(from: Date()), "best_epoch": String(state.bestEpoch ?? 0),
            "epochs_run": String(state.history.count), "mode": config.mode.rawValue,
        ]
        for (part, digest) in digests { provenance["data_\(part)_sha256"] = digest }
        if let initialWeights { provenance["initial_weights"] = initialWeights }
        let manifest = ModelManifest(
            name: config.name, version: identity.version, architecture: .init(name: config.architecture, width: config.width),
            input: config.input, labels: labels, thresholds: thresholds.map(Float.init), thresholdMethod: config.thresholdRule.method,
            metrics: metrics, provenance: provenance)
        let written: ModelManifest
        do {
            try? FileManager.default.removeItem(at: packageURL)
            written = try ModelPackage(manifest: manifest, model: model).write(to: packageURL)
        } catch { throw TrainingError.io("cannot write the package to \(packageURL.path): \(error)") }

        let plotFolder = output.appendingPathComponent("plots")
        var files = ReportPlots.Files()
        files.validation = try ReportPlots.curves(validationScores.scored, evaluation: validationEvaluation, title: "validation",
                                                  prefix: "validation", folder: plotFolder, relativeTo: output)
        if let testScores, let testEvaluation {
            files.test = try ReportPlots.curves(testScores.scored, evaluation: testEvaluation, title: "test", prefix: "test",
                                                folder: plotFolder, relativeTo: output)
        }
        files.training = "plots/training.png"
        try ReportPlots.training(state.history, bestEpoch: state.bestEpoch ?? 0, title: config.name,
                                 to: output.appendingPathComponent(files.training))
        let report = TrainingReport(
            model: ModelSummary(manifest: written, model: model), config: config, split: parts.report, history: state.history,
            bestEpoch: state.bestEpoch ?? 0, stoppedEarly: state.stoppedEarly,
            validation: PartEvaluation(part: .validation, samples: validation.samples.count, dataSHA256: digests["validation"] ?? "",
                                       thresholdsFrom: "validation part (\(config.thresholdRule.description))", evaluation: validationEvaluation),
            test: testEvaluation.map { PartEvaluation(part: .test, samples: parts.test?.samples.count ?? 0, dataSHA256: digests["test"] ?? "",
                                                      thresholdsFrom: "validation part", evaluation: $0) },
            trainingSeconds: state.history.reduce(0) { $0 + $1.seconds }, created: Date())
        do {
            try JSONEncoder.report.encode(report).write(to: output.appendingPathComponent("report.json"), options: .atomic)
            try Data(ReportMarkdown.training(report, plots: files).utf8).write(to: output.appendingPathComponent("report.md"), options: .atomic)
        } catch { throw TrainingError.io("cannot write the report into \(output.path): \(error)") }
        return report
    }

    static func readReport(_ output: URL) throws -> TrainingReport {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(TrainingReport.self, from: Data(contentsOf: output.appendingPathComponent("report.json")))
    }

    /// `<part>.mAP`, `<part>.mean_auroc`, and per label `<part>.<metric>.<label>`: the package's `metrics`.
    static func metrics(_ e: Evaluation, part: String) -> [String: Double] {
        var out: [String: Double] = [:]
        out["\(part).mAP"] = e.meanAveragePrecision
        out["\(part).mean_auroc"] = e.meanAUROC
        for l in e.labels {
            out["\(part).auroc.\(l.name)"] = l.auroc
            out["\(part).auroc_lower.\(l.name)"] = l.aurocInterval?.lower
            out["\(part).auroc_upper.\(l.name)"] = l.aurocInterval?.upper
            out["\(part).ap.\(l.name)"] = l.averagePrecision
            out["\(part).f1.\(l.name)"] = l.f1
            out["\(part).sensitivity.\(l.name)"] = l.sensitivity
            out["\(part).specificity.\(l.name)"] = l.specificity
            out["\(part).brier.\(l.name)"] = l.brier
            out["\(part).ece.\(l.name)"] = l.expectedCalibrationError
        }
        return out
    }

    /// `20261202-013000` (UTC): sorts in time order, and a store takes it as a version name.
    static func timestampVersion(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date)
    }
}

/// Weights a run starts from: a package (verified) or a safetensors state dict. Tensors are taken by name where
/// the shapes agree; the rest (typically a head for other labels) keep their fresh initialisation.
enum InitialWeights {
    struct Loaded: CustomStringConvertible {
        var source: String
        var sha256: String
        var loaded: Int
        var skipped: [String]
        var description: String {
            "\(source) (sha256 \(sha256.prefix(16))…): \(loaded) tensors" + (skipped.isEmpty ? "" : ", kept fresh: \(skipped.joined(separator: ", "))")
        }
    }

    static func load(_ url: URL, into model: any Model) throws(TrainingError) -> Loaded {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw .config("initial weights \(url.path) do not exist")
        }
        let weightsFile = isDirectory.boolValue ? url.appendingPathComponent("model.safetensors") : url
        let state: [String: Tensor]
        do {
            state = isDirectory.boolValue ? try ModelPackage.load(from: url).model.stateDictionary() : try SafeTensors.read(from: url).tensors
        } catch { throw .config("cannot read initial weights \(url.path): \(error)") }
        let sha = (try? Data(contentsOf: weightsFile, options: .mappedIfSafe)).map(Checksum.sha256Hex) ?? ""
        var loaded = 0, skipped: [String] = []
        for (name, parameter) in model.namedParameters() {
            guard let tensor = state[name], tensor.count == parameter.value.count else {
                if !name.hasSuffix("num_batches_tracked") { skipped.append(name) }
                continue
            }
            parameter.value = tensor.reshaped(parameter.value.shape)
            loaded += 1
        }
        guard loaded > 0 else { throw .config("initial weights \(url.path) share no tensor with \(model.namedParameters().first?.0 ?? "the model")…") }
        return Loaded(source: url.path, sha256: sha, loaded: loaded, skipped: skipped)
    }
}
