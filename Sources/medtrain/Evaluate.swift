import ArgumentParser
import Foundation
import MedEngine
import MedTrainKit

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a model package on one part of a data set, with the package's own thresholds.",
        discussion: """
        Writes the JSON report to --report, its Markdown beside it (same name, .md) and the ROC and precision-recall \
        plots into <report name>-plots/. Without --data, the data the package was trained on (its provenance).
        """)

    @Option(help: "The model package folder.") var model: String
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "train, val or test.") var split = "val"
    @Option(help: "The JSON report to write.") var report: String
    @Option(help: "Bootstrap resamples for the AUROC confidence intervals.") var bootstrap = 1000
    @Option(help: "Seed of the bootstrap.") var seed: UInt64 = 0
    @OptionGroup var cacheOptions: CacheOptions

    func run() throws {
        guard let part = DataPart(argument: split) else { throw ValidationError("--split is train, val or test") }
        let package: ModelPackage
        do { package = try ModelPackage.load(from: URL(fileURLWithPath: model)) } catch {
            note("medtrain evaluate: \(model) does not verify: \(error)")
            throw ExitCode.failure
        }
        guard let spec = try dataOptions.spec(over: DataSpec(provenanceOf: package.manifest), labels: package.manifest.labels) else {
            throw ValidationError("\(model) records no training data; give it with --data")
        }
        try reportingFailures("evaluate") {
            let parts = try spec.load(relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            guard let dataset = parts[part], !dataset.samples.isEmpty else { throw TrainingError.data("the data has no \(part.rawValue) part") }
            let (scores, evaluation) = try package.evaluate(on: dataset, cacheRoot: cacheOptions.root, bootstrapResamples: bootstrap, seed: seed)
            let reportURL = URL(fileURLWithPath: report).standardizedFileURL
            let folder = reportURL.deletingLastPathComponent()
            let stem = reportURL.deletingPathExtension().lastPathComponent
            let result = EvaluationReport(
                model: ModelSummary(manifest: package.manifest, model: package.model), data: dataOptions.data ?? "the training data",
                result: PartEvaluation(part: part, samples: dataset.samples.count, dataSHA256: dataset.digest(),
                                       thresholdsFrom: "package (\(package.manifest.thresholdMethod))", evaluation: evaluation),
                created: Date())
            let plots = try ReportPlots.curves(scores.scored, evaluation: evaluation, title: part.rawValue, prefix: part.rawValue,
                                               folder: folder.appendingPathComponent("\(stem)-plots"), relativeTo: folder)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try JSONEncoder.report.encode(result).write(to: reportURL, options: .atomic)
            try Data(ReportMarkdown.evaluation(result, plots: plots).utf8)
                .write(to: folder.appendingPathComponent("\(stem).md"), options: .atomic)
            print("\(package.manifest.name) \(package.manifest.version) on \(dataset.samples.count) \(part.rawValue) samples: "
                  + "mAP \(Train.format(evaluation.meanAveragePrecision)), mean AUROC \(Train.format(evaluation.meanAUROC))")
            for l in evaluation.labels {
                print("  \(l.name): AUROC \(Train.format(l.auroc)), AP \(Train.format(l.averagePrecision)), sensitivity \(Train.format(l.sensitivity)), specificity \(Train.format(l.specificity))")
            }
        }
    }
}
