import ArgumentParser
import Foundation
import MedEngine
import MedExplain
import MedImaging
import NumPyFormat

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show where a model looked: Grad-CAM, HiResCAM, Grad-CAM++ or occlusion maps, overlays and peaks.",
        discussion: """
            Two forms:
              medlens explain --model PKG --input in.npy --target K --output cam.npy [--overlay out.png]
                the final map at the input's resolution (the array is 1×C×H×W or 1×C×D×H×W, already preprocessed);
              medlens explain FILE --model PKG --out DIR
                a scan as read (DICOM, photo, OCT), preprocessed by the package's input spec; maps on the scan's own
                grid, PNG overlays and explanations.json in DIR. Without --target, the positive findings are
                explained (or the most probable one, marked below threshold, when none is positive).
            An empty map (no positive evidence after the ReLU) is reported and never drawn.
            """)

    @Argument(help: "A scan file (DICOM, Spectralis .vol, PNG, JPEG, TIFF) or a folder of them.") var file: String?
    @Flag(name: .long, help: "Read the folder as one OCT volume of B-scan images in name order.") var bscanFolder = false
    @Option(help: "The model package: a folder with model.json and model.safetensors.") var model: String
    @Option(help: "A preprocessed input .npy (1×C×H×W or 1×C×D×H×W).") var input: String?
    @Option(help: "The output index to explain (repeat for several with FILE).") var target: [Int] = []
    @Flag(name: .long, help: "With FILE: explain every finding, positive or not.") var all = false
    @Option(help: "gradcam, hirescam, gradcampp or occlusion.") var method: ExplanationMethod = .gradCAM
    @Option(help: "The named activation (default: the last spatial feature map after its ReLU).") var layer: String?
    @Option(help: "With --input: the final map (.npy, the input's spatial shape).") var output: String?
    @Option(help: "With --input: the overlay PNG (volumes: the slice where the map peaks).") var overlay: String?
    @Option(help: "With FILE: the output folder.") var out: String?
    @Flag(name: .long, help: "pytorch-grad-cam 1.5.7's conventions: cubic B-spline 3D resize, jet, show_cam_on_image blend.") var compat = false
    @Option(help: "jet or turbo (default: turbo; jet with --compat).") var colormap: Colormap?
    @Option(help: "Occlusion window per spatial axis, e.g. 32x32 (default: about 1/7 of each axis in 2D, 1/4 in 3D).") var window: String?
    @Option(help: "Occlusion stride per spatial axis (default: half the window in 2D, the window in 3D).") var stride: String?
    @Option(help: "Occlusion fill value in the model's input space.") var baseline: Float = 0
    @Option(help: "Threads for the CPU backend (default: all cores).") var threads: Int?

    func validate() throws {
        guard (file == nil) != (input == nil) else { throw ValidationError("give either a scan FILE or --input in.npy") }
        if input != nil {
            guard output != nil else { throw ValidationError("--input needs --output cam.npy") }
            guard target.count == 1 else { throw ValidationError("--input needs exactly one --target K") }
        } else {
            guard out != nil else { throw ValidationError("a scan FILE needs --out DIR") }
            guard output == nil, overlay == nil else { throw ValidationError("--output and --overlay go with --input; a scan writes into --out DIR") }
        }
    }

    func run() throws {
        if let threads { CPUBackend.setThreads(threads) }
        let package: ModelPackage
        do { package = try ModelPackage.load(from: URL(fileURLWithPath: model)) } catch {
            throw ValidationError("cannot load model \(model): \(error)")
        }
        if let input { try explainArray(input, package) } else if let file { try explainScan(file, package) }
    }

    var settings: ExplainSettings {
        get throws {
            var s = compat ? ExplainSettings.compat(method: method, layer: layer) : ExplainSettings(method: method, layer: layer)
            if let colormap { s.overlay.colormap = colormap }
            s.occlusion = OcclusionSettings(window: try window.map(Self.axes), stride: try stride.map(Self.axes), baseline: baseline)
            return s
        }
    }

    static func axes(_ text: String) throws -> [Int] {
        let values = text.split(separator: "x").map { Int($0) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { throw ValidationError("\(text) is not a size like 32x32") }
        return values.map { $0! }
    }

    private func explainArray(_ path: String, _ package: ModelPackage) throws {
        let array: NPYArray
        do { array = try NPYArray.read(from: URL(fileURLWithPath: path)) } catch { throw ValidationError("cannot read \(path): \(error)") }
        let spec = package.manifest.input
        guard array.shape.count == spec.tensorShape.count + 1, array.shape[0] == 1, array.shape[1] == spec.channels else {
            throw ValidationError("input shape \(array.shape) does not fit the model: it takes 1×\(spec.tensorShape.map(String.init).joined(separator: "×"))")
        }
        let spatial = Array(array.shape.dropFirst(2))
        // The input is its own original: the map stays on its grid, and overlays show the input itself.
        let original = Volume(voxels: array.data, shape: Volume.Shape(channels: array.shape[1], depth: spatial.count == 3 ? spatial[0] : 1,
                                                                      rows: spatial[spatial.count - 2], cols: spatial[spatial.count - 1]))
        var s = try settings
        s.renderImages = overlay != nil
        s.sliceOverlays = 1
        let explanation = try Explainer.explain(model: package.model, architecture: package.manifest.architecture.name,
                                                input: array.tensor, original: original, targets: target,
                                                labels: package.manifest.labels, settings: s)[0]
        try NPYArray(shape: explanation.map.shape, data: explanation.map.values).write(to: URL(fileURLWithPath: output!))
        if let overlay {
            if let image = explanation.images.first(where: { $0.kind == .overlay || $0.kind == .slice }) {
                try image.data.write(to: URL(fileURLWithPath: overlay), options: .atomic)
            } else {
                FileHandle.standardError.write(Data("\(explanation.label): the map is empty (no positive evidence); no overlay written\n".utf8))
            }
        }
        var summary = try Self.finding(explanation)
        summary["target"] = explanation.target
        summary.merge(try Self.conventions(s)) { a, _ in a }
        print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
    }

    /// A finding as findings.json has it (docs/findings.schema.json), plus `lowSignal` and occlusion's geometry.
    static func finding(_ e: ScanExplanation, overlayPrefix: String = "") throws -> [String: Any] {
        var record = e.record
        record.overlays = record.overlays.map { overlayPrefix + $0 }
        var finding: [String: Any] = ["label": e.label, "logit": Double(e.logit), "lowSignal": e.map.lowSignal,
                                      "explanation": try JSONSerialization.jsonObject(with: JSONEncoder().encode(record))]
        if let occlusion = e.occlusion { finding["occlusion"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(occlusion)) }
        return finding
    }

    /// How the maps were made and drawn, once per run.
    static func conventions(_ s: ExplainSettings) throws -> [String: Any] {
        ["targetOutput": "logit", "normalization": "relu_minmax_eps1e-7", "volumeResampling": s.volumeResampling.rawValue,
         "colormap": s.overlay.colormap.rawValue, "blend": s.overlay.blend.rawValue]
    }

    private func explainScan(_ path: String, _ package: ModelPackage) throws {
        var arguments = [path]
        if bscanFolder { arguments.append("--bscan-folder") }
        let volumes = try InputOptions.parse(arguments).readVolumes()
        let directory = URL(fileURLWithPath: out!)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let manifest = package.manifest
        var report: [[String: Any]] = []
        for (index, volume) in volumes.enumerated() {
            let name = volumes.count == 1 ? path : "\(path) [\(index + 1)]"
            let x: Tensor
            do { x = Tensor(shape: [1] + manifest.input.tensorShape, data: try manifest.input.tensor(from: volume, name: name)) } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(2)
            }
            let probabilities = package.model.predict(x).scalars.map { 1 / (1 + exp(-$0)) }
            let positive = probabilities.indices.filter { probabilities[$0] >= manifest.thresholds[$0] }
            var targets = all ? Array(probabilities.indices) : target.isEmpty ? positive : target
            if targets.isEmpty, let best = probabilities.indices.max(by: { probabilities[$0] < probabilities[$1] }) { targets = [best] }
            for t in targets where t < 0 || t >= manifest.labels.count {
                throw ValidationError("--target \(t) is outside 0..<\(manifest.labels.count)")
            }
            let explanations = try Explainer.explain(model: package.model, architecture: manifest.architecture.name, input: x,
                                                     original: volume, targets: targets, labels: manifest.labels, settings: try settings)
            let prefix = volumes.count == 1 ? "" : "v\(index + 1)-"
            var findings: [[String: Any]] = []
            for e in explanations {
                for image in e.images { try image.data.write(to: directory.appendingPathComponent(prefix + image.fileName), options: .atomic) }
                var finding = try Self.finding(e, overlayPrefix: prefix)
                finding["probability"] = Double(probabilities[e.target])
                finding["threshold"] = Double(manifest.thresholds[e.target])
                finding["positive"] = positive.contains(e.target)
                findings.append(finding)
                let peak = e.peak.map { p in "peak column \(p.column), row \(p.row)" + (p.slice.map { ", slice \($0)" } ?? "") } ?? "empty map, nothing drawn"
                let files = e.images.map { prefix + $0.fileName }
                print(String(format: "%@%@: p = %.3f%@, %@%@", prefix, e.label, probabilities[e.target],
                             positive.contains(e.target) ? "" : " (below threshold)", peak,
                             files.isEmpty ? "" : " -> " + files.joined(separator: ", ")))
            }
            report.append(["kind": volume.metadata.kind, "shape": volume.shape.array, "findings": findings])
        }
        var document: [String: Any] = ["model": manifest.name, "modelVersion": manifest.version, "method": method.rawValue, "volumes": report]
        document.merge(try Self.conventions(try settings)) { a, _ in a }
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: directory.appendingPathComponent("explanations.json"), options: .atomic)
    }

}

extension ExplanationMethod: ExpressibleByArgument {}
extension Colormap: ExpressibleByArgument {}
