import Foundation
import MedEngine
import MedImaging

/// What a report says about the model it is about.
public struct ModelSummary: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var architecture: String
    public var width: Int?
    public var labels: [String]
    public var input: InputSpec
    public var parameters: Int
    public var weightsSHA256: String?

    public init(manifest: ModelManifest, model: any Model) {
        name = manifest.name
        version = manifest.version
        architecture = manifest.architecture.name
        width = manifest.architecture.width
        labels = manifest.labels
        input = manifest.input
        parameters = model.namedParameters().filter { !$0.1.isBuffer }.reduce(0) { $0 + $1.1.value.count }
        weightsSHA256 = manifest.weightsSHA256.isEmpty ? nil : manifest.weightsSHA256
    }
}

/// One part of the data, scored and evaluated.
public struct PartEvaluation: Codable, Sendable {
    public var part: DataPart
    public var samples: Int
    public var dataSHA256: String
    /// Where the thresholds came from: `validation` (chosen there by the rule), `package` (the model's own).
    public var thresholdsFrom: String
    public var evaluation: Evaluation

    public init(part: DataPart, samples: Int, dataSHA256: String, thresholdsFrom: String, evaluation: Evaluation) {
        self.part = part
        self.samples = samples
        self.dataSHA256 = dataSHA256
        self.thresholdsFrom = thresholdsFrom
        self.evaluation = evaluation
    }
}

/// `medtrain evaluate`'s report.
public struct EvaluationReport: Codable, Sendable {
    public var model: ModelSummary
    public var data: String
    public var result: PartEvaluation
    public var created: Date

    public init(model: ModelSummary, data: String, result: PartEvaluation, created: Date) {
        self.model = model
        self.data = data
        self.result = result
        self.created = created
    }
}

/// `medtrain train`'s report: the run, its curves and the evaluation of the kept weights.
public struct TrainingReport: Codable, Sendable {
    public var model: ModelSummary
    public var config: TrainingConfig
    public var split: SplitReport
    public var history: [EpochRecord]
    public var bestEpoch: Int
    public var stoppedEarly: Bool
    public var validation: PartEvaluation
    public var test: PartEvaluation?
    public var trainingSeconds: Double
    public var created: Date
}

extension JSONEncoder {
    /// Pretty, sorted, ISO dates, infinities as strings: how every medtrain JSON file is written.
    public static var report: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }
}

/// Markdown renderings of the reports.
public enum ReportMarkdown {
    public static func training(_ report: TrainingReport, plots: ReportPlots.Files) -> String {
        let m = report.model, c = report.config
        var out = ["# \(m.name) \(m.version): training report", ""]
        out.append("- architecture: `\(m.architecture)`\(m.width.map { " (width \($0))" } ?? ""), \(m.parameters) parameters, mode `\(c.mode.rawValue)`")
        out.append("- input: \(shape(m.input)), channel policy `\(m.input.channelPolicy.rawValue)`, interpolation `\(m.input.interpolation.rawValue)`, intensity \(intensity(m.input))")
        out.append("- labels: \(m.labels.joined(separator: ", "))")
        out.append("- epochs run: \(report.history.count) of \(c.epochs)\(report.stoppedEarly ? " (early stopping)" : ""), best epoch \(report.bestEpoch); \(String(format: "%.0f", report.trainingSeconds)) s")
        out.append("- AdamW lr \(c.learningRate), weight decay \(c.weightDecay), schedule \(describe(c.schedule)), batch \(c.batchSize), class-weighted BCE: \(c.classWeights ? "yes" : "no"), seed \(c.seed)")
        out.append("- thresholds: \(c.thresholdRule.description) on the validation part")
        if let sha = m.weightsSHA256 { out.append("- weights sha256 `\(sha)`") }
        out += ["", "## Data (samples, patients, positives per label)", "", "```", report.split.description, "```", ""]
        out += section("Validation", report.validation, plots: plots.validation)
        if let test = report.test { out += section("Test", test, plots: plots.test) }
        out += ["## Training curves", "", "![training curves](\(plots.training))", "", "| epoch | train loss | val loss | val mAP | val mean AUROC | lr | s | img/s |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in report.history {
            out.append("| \(r.epoch)\(r.epoch == report.bestEpoch ? " *" : "") | \(f(r.trainLoss)) | \(f(r.validationLoss)) | \(f(r.validationMAP)) | \(f(r.validationMeanAUROC)) | \(String(format: "%.2e", r.learningRate)) | \(String(format: "%.1f", r.seconds)) | \(String(format: "%.0f", r.imagesPerSecond)) |")
        }
        return out.joined(separator: "\n") + "\n"
    }

    public static func evaluation(_ report: EvaluationReport, plots: [String: String]) -> String {
        let m = report.model
        var out = ["# \(m.name) \(m.version) on \(report.data)", "",
                   "- architecture `\(m.architecture)`\(m.width.map { " (width \($0))" } ?? ""), input \(shape(m.input))",
                   "- created \(ISO8601DateFormatter().string(from: report.created))", ""]
        out += section(report.result.part.rawValue.capitalized, report.result, plots: plots)
        return out.joined(separator: "\n") + "\n"
    }

    static func section(_ title: String, _ part: PartEvaluation, plots: [String: String]) -> [String] {
        let e = part.evaluation
        var out = ["## \(title) (\(part.samples) samples, thresholds from the \(part.thresholdsFrom))", "",
                   "mAP \(f(e.meanAveragePrecision)), mean AUROC \(f(e.meanAUROC)); data sha256 `\(part.dataSHA256.prefix(16))…`", "",
                   "| label | n | pos | AUROC (95% CI) | AP | threshold | rule | F1 | sensitivity | specificity | Brier | ECE |",
                   "|---|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|"]
        for l in e.labels {
            let ci = l.aurocInterval.map { " (\(f($0.lower))–\(f($0.upper)))" } ?? ""
            out.append("| \(l.name) | \(l.count) | \(l.positives) | \(f(l.auroc))\(ci) | \(f(l.averagePrecision)) | \(f(l.threshold)) | \(l.thresholdRule.description) | \(f(l.f1)) | \(f(l.sensitivity)) | \(f(l.specificity)) | \(f(l.brier)) | \(f(l.expectedCalibrationError)) |")
        }
        out.append("")
        for l in e.labels { if let file = plots[l.name] { out.append("![\(l.name): ROC and precision-recall](\(file))") } }
        out.append("")
        return out
    }

    static func f(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "–" }
    static func shape(_ spec: InputSpec) -> String { "\(spec.channels) x " + spec.size.map(String.init).joined(separator: " x ") }
    static func intensity(_ spec: InputSpec) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return "`" + String(decoding: (try? encoder.encode(spec.intensity.steps)) ?? Data(), as: UTF8.self) + "`"
    }

    static func describe(_ schedule: ScheduleSpec) -> String {
        switch schedule {
        case .constant: return "constant"
        case let .cosine(minimum): return "cosine to \(minimum)"
        case let .plateau(factor, patience): return "plateau (×\(factor) after \(patience) epochs)"
        }
    }
}
