import ArgumentParser
import Foundation
import MedEngine
import MedTrainKit

/// Set by SIGINT/SIGTERM; the loop checks it after every batch and leaves a resumable checkpoint.
nonisolated(unsafe) var stopSignal: Int32 = 0

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model package from a training configuration and/or flags.",
        discussion: """
        Writes OUT/model (the package), OUT/report.json, OUT/report.md, OUT/plots/*.png, OUT/experiment.jsonl and \
        OUT/checkpoint.safetensors (after every epoch). Ctrl-C or SIGTERM stops after the current batch with a \
        checkpoint; the same command with --resume continues exactly where it stopped. See docs/training.md.
        """)

    @Option(help: "Training configuration (JSON); its relative paths are relative to its folder.") var config: String?
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Output folder of the run.") var out: String
    @Flag(help: "Continue the run in --out from its checkpoint (start it if there is none).") var resume = false
    @Option(help: "Append the experiment log to this JSONL file (default: OUT/experiment.jsonl).") var log: String?
    @OptionGroup var cacheOptions: CacheOptions
    @Option(help: "Model name.") var name: String?
    @Option(help: "Model version (default: the start time, UTC).") var version: String?
    @Option(help: "Architecture: \(ModelZoo.architectures.joined(separator: ", ")).") var arch: String?
    @Option(help: "First-stage width of a reduced architecture.") var width: Int?
    @Option(help: "full, frozen_backbone or linear_probe.") var mode: String?
    @Option(help: "Initial weights: a model package folder or a .safetensors state dict.") var initialWeights: String?
    @Option(help: "Epochs.") var epochs: Int?
    @Option(help: "Batch size.") var batchSize: Int?
    @Option(help: "AdamW learning rate.") var lr: Float?
    @Option(help: "Threshold rule: youden, f1, sensitivity:0.9, fixed:0.5.") var threshold: String?
    @Option(help: "Seed of initialisation, order, augmentation and bootstrap.") var seed: UInt64?
    @Option(help: "Engine threads (default: all cores).") var threads: Int?
    @OptionGroup var inputOptions: InputSpecOptions

    func run() throws {
        let (configuration, base) = try resolvedConfig()
        let outURL = URL(fileURLWithPath: out).standardizedFileURL
        let run = TrainingRun(config: configuration, base: base, output: outURL, resume: resume,
                              log: log.map { ExperimentLog(url: URL(fileURLWithPath: $0)) }, cacheRoot: cacheOptions.root)
        // A parent may hand down a mask blocking them (a test runner, a shell); this thread takes them.
        var mask = sigset_t()
        sigemptyset(&mask)
        for signalNumber in [SIGINT, SIGTERM] {
            sigaddset(&mask, signalNumber)
            signal(signalNumber) { received in
                stopSignal = received
                signal(received, SIG_DFL)  // a second one ends the process at once
            }
        }
        pthread_sigmask(SIG_UNBLOCK, &mask, nil)
        let progress = ProgressPrinter()
        let outcome = try reportingFailures("train") {
            defer { progress.clear() }
            return try run.run(shouldStop: { stopSignal != 0 }, onEvent: progress.show, onNote: { progress.clear(); note($0) })
        }
        switch outcome {
        case let .interrupted(epoch, batch):
            note("interrupted at epoch \(epoch), batch \(batch); checkpoint \(run.checkpointURL.path)")
            note("continue with the same command and --resume")
            throw ExitCode(128 + stopSignal)
        case let .finished(package, report):
            let v = report.validation.evaluation
            note("validation: mAP \(Self.format(v.meanAveragePrecision)), mean AUROC \(Self.format(v.meanAUROC)) (best epoch \(report.bestEpoch))")
            for label in v.labels {
                let ci = label.aurocInterval.map { " [\(Self.format($0.lower)), \(Self.format($0.upper))]" } ?? ""
                note("  \(label.name): AUROC \(Self.format(label.auroc))\(ci), AP \(Self.format(label.averagePrecision)), threshold \(Self.format(label.threshold))")
            }
            note("report \(outURL.appendingPathComponent("report.md").path)")
            print(package.path)
        }
    }

    /// The config file (if any) with the flags applied over it.
    func resolvedConfig() throws -> (TrainingConfig, URL) {
        var base = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        var file: TrainingConfig?
        if let config {
            let url = URL(fileURLWithPath: config).standardizedFileURL
            do { file = try TrainingConfig.read(from: url) } catch { throw ValidationError("\(error)") }
            base = url.deletingLastPathComponent()
        }
        guard let data = try dataOptions.spec(over: file?.data) else { throw ValidationError("give the data with --data or in --config") }
        guard let name = name ?? file?.name else { throw ValidationError("give the model name with --name or in --config") }
        guard let architecture = arch ?? file?.architecture else { throw ValidationError("give the architecture with --arch or in --config") }
        let input = file != nil && inputOptions.isEmpty ? file!.input : try inputOptions.spec(over: file?.input)
        var c = file ?? TrainingConfig(name: name, data: data, input: input, architecture: architecture)
        c.name = name
        c.data = data
        c.input = input
        c.architecture = architecture
        if let version { c.version = version }
        if let width { c.width = width }
        if let mode {
            guard let m = FineTuneMode(rawValue: mode) else { throw ValidationError("--mode is full, frozen_backbone or linear_probe") }
            c.mode = m
        }
        if let initialWeights { c.initialWeights = URL(fileURLWithPath: initialWeights).standardizedFileURL.path }
        if let epochs { c.epochs = epochs }
        if let batchSize { c.batchSize = batchSize }
        if let lr { c.learningRate = lr }
        if let threshold { c.threshold = threshold }
        if let seed { c.seed = seed }
        if let threads { c.threads = threads }
        do { try c.validate() } catch { throw ValidationError("\(error)") }
        return (c, base)
    }

    static func format(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "-" }
}

/// The progress bar on standard error: redrawn in place on a terminal (at most ten times a second), one line
/// every 30 s otherwise (a log file); a summary line per epoch.
final class ProgressPrinter {
    private let terminal = isatty(STDERR_FILENO) == 1
    private var lastDraw = Date.distantPast
    private var drawn = false

    func show(_ event: TrainingEvent) {
        switch event {
        case let .batch(epoch, epochs, batch, batches, loss, imagesPerSecond, remaining):
            let now = Date()
            guard now.timeIntervalSince(lastDraw) >= (terminal ? 0.1 : 30) || batch == batches else { return }
            lastDraw = now
            let line = ProgressLine.batch(epoch: epoch, epochs: epochs, batch: batch, batches: batches, loss: loss,
                                          imagesPerSecond: imagesPerSecond, remaining: remaining)
            if terminal {
                FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
                drawn = true
            } else if batch < batches {
                note(line)
            }
        case let .epoch(record, epochs, best):
            clear()
            note(ProgressLine.epoch(record, epochs: epochs, best: best))
        case let .stoppedEarly(epoch, bestEpoch):
            clear()
            note("early stopping after epoch \(epoch): no improvement since epoch \(bestEpoch)")
        }
    }

    func clear() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }
}
