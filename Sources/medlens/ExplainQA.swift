import ArgumentParser
import Foundation
import MedEngine
import MedExplain
import MedImaging
import NumPyFormat

struct ExplainQA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain-qa",
        abstract: "Check a model's explanations offline: cascading randomisation, ROAD faithfulness, pointing game.",
        discussion: """
            The sanity check re-initialises the model's modules from the output down and compares each map with the
            trained model's (SSIM and Spearman); maps must decorrelate, ending below the SSIM of random pairs of
            trained maps and below Spearman 0.5. ROAD (MoRF/LeRF, noisy linear imputation) is reported for the
            method, RandomCAM and a Sobel edge map (2D only). With --masks, the pointing game: the share of maps
            whose peak lies inside the mask.
            """)

    @Option(help: "The model package.") var model: String
    @Option(help: "Samples .npy: N×C×H×W or N×C×D×H×W preprocessed, or raw images (N×H×W, N×C×…) with --preprocess.") var inputs: String
    @Flag(name: .long, help: "Run each sample through the package's input spec first (raw images).") var preprocess = false
    @Option(help: "The output index to explain.") var target = 0
    @Option(help: "Ground truth .npy (N or N×labels): only samples positive for --target are used.") var truth: String?
    @Option(help: "Masks .npy on the input grid (N×H×W or N×D×H×W, nonzero: the finding) for the pointing game.") var masks: String?
    @Option(help: "gradcam, hirescam, gradcampp or occlusion.") var method: ExplanationMethod = .gradCAM
    @Option(help: "The named activation (default: the last spatial feature map after its ReLU).") var layer: String?
    @Option(help: "At most this many samples.") var samples = 50
    @Option(help: "At most this many samples for ROAD (18 imputations and passes per sample and map).") var roadSamples = 50
    @Option(help: "Seed for the re-initialisation, the SSIM baseline pairs, RandomCAM, ROAD noise and bootstrap.") var seed: UInt64 = 1
    @Option(help: "Also write the report as JSON here.") var out: String?
    @Option(help: "Threads for the CPU backend (default: all cores).") var threads: Int?

    func run() throws {
        if let threads { CPUBackend.setThreads(threads) }
        let package: ModelPackage
        do { package = try ModelPackage.load(from: URL(fileURLWithPath: model)) } catch {
            throw ValidationError("cannot load model \(model): \(error)")
        }
        let spec = package.manifest.input
        let array = try Self.read(inputs)
        var chosen = Array(0..<array.shape[0])
        if let truth {
            let y = try Self.read(truth)
            let per = y.data.count / max(y.shape[0], 1)
            guard y.shape[0] == array.shape[0], target < per else { throw ValidationError("\(truth) has no column \(target) for each of the \(array.shape[0]) samples") }
            chosen = chosen.filter { y.data[$0 * per + target] == 1 }
        }
        chosen = Array(chosen.prefix(samples))
        guard chosen.count >= 2 else { throw ValidationError("the sanity check needs at least two samples, found \(chosen.count)") }
        let per = array.data.count / array.shape[0]
        var tensors: [Tensor] = []
        for i in chosen {
            let sample = Array(array.data[(i * per)..<((i + 1) * per)])
            if preprocess {
                let dims = Array(array.shape.dropFirst())
                let shape = dims.count == 2 ? [1] + dims : dims
                let volume = Volume(voxels: sample, shape: Volume.Shape(channels: shape[0], depth: shape.count == 4 ? shape[1] : 1,
                                                                        rows: shape[shape.count - 2], cols: shape[shape.count - 1]))
                tensors.append(Tensor(shape: [1] + spec.tensorShape, data: try spec.tensor(from: volume, name: "\(inputs)[\(i)]")))
            } else {
                guard Array(array.shape.dropFirst()) == spec.tensorShape else {
                    throw ValidationError("samples of shape \(Array(array.shape.dropFirst())) do not fit the model (\(spec.tensorShape)); raw images need --preprocess")
                }
                tensors.append(Tensor(shape: [1] + spec.tensorShape, data: sample))
            }
        }
        var maskRows: [[Float]]?
        if let masks {
            let m = try Self.read(masks)
            guard m.shape[0] == array.shape[0] else { throw ValidationError("\(masks) has \(m.shape[0]) masks for \(array.shape[0]) samples") }
            let size = m.data.count / m.shape[0]
            maskRows = chosen.map { Array(m.data[($0 * size)..<(($0 + 1) * size)]) }
        }
        let report = try ExplanationQA.run(model: package.model, architecture: package.manifest.architecture.name, inputs: tensors,
                                           targets: Array(repeating: target, count: tensors.count), masks: maskRows,
                                           settings: ExplainSettings(method: method, layer: layer), roadSamples: roadSamples, seed: seed,
                                           progress: Self.statusLine)
        if isatty(STDERR_FILENO) != 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        print(Self.summary(report, label: package.manifest.labels[target]))
        if let out {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: out), options: .atomic)
        }
        if !report.sanity.passes { throw ExitCode(1) }
    }

    /// Progress on standard error: rewritten in place on a terminal, a line each in a log.
    static func statusLine(_ message: String) {
        let line = isatty(STDERR_FILENO) != 0 ? "\r\u{1B}[K\(message)" : "\(message)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func read(_ path: String) throws -> NPYArray {
        do { return try NPYArray.read(from: URL(fileURLWithPath: path)) } catch { throw ValidationError("cannot read \(path): \(error)") }
    }

    static func summary(_ r: ExplanationQA.Report, label: String) -> String {
        let s = r.sanity
        var lines = [String(format: "%@ of %@ at %@, %d samples: cascading randomisation (SSIM baseline of random pairs %.3f)",
                            s.method.rawValue, label, s.layer, s.samples, s.baselineSSIM)]
        for stage in s.stages {
            lines.append(String(format: "  + %@ SSIM %6.3f  Spearman %@  empty maps %d", stage.randomised.padding(toLength: 22, withPad: " ", startingAt: 0), stage.meanSSIM,
                                stage.meanSpearman.map { String(format: "%6.3f", $0) } ?? "   n/a", stage.emptyMaps))
        }
        lines.append("  sanity check: " + (s.passes ? "passed (maps decorrelate)" : "FAILED (maps do not decorrelate)"))
        func interval(_ i: ExplanationQA.Interval) -> String { String(format: "%+.4f [%+.4f, %+.4f]", i.mean, i.low, i.high) }
        if !r.faithfulness.isEmpty { lines.append("ROAD (change of probability; 95 % bootstrap intervals):") }
        for f in r.faithfulness {
            lines.append("  \(f.map.padding(toLength: 10, withPad: " ", startingAt: 0)) MoRF \(interval(f.morf))  LeRF \(interval(f.lerf))  combined \(interval(f.combined))")
        }
        if let p = r.pointingGame {
            lines.append(String(format: "pointing game: %d of %d hits, rate %.3f [%.3f, %.3f]", p.hits, p.samples, p.hitRate.mean, p.hitRate.low, p.hitRate.high))
        }
        return lines.joined(separator: "\n")
    }
}
