import ArgumentParser
import Dispatch
import Foundation
import MedEngine
import MedExplain
import MedImaging

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure decoding speed (--decode) or a model's inference or training step (--arch).")

    @Option(name: .long, help: "A DICOM file or folder to decode.") var decode: String?
    @Option(name: .long, help: "Decode the inputs this many times; the median pass is reported.") var repeats = 5
    @Option(name: .long, help: "Name of the case in the JSON output.") var name = "decode"

    @Option(name: .long, help: "A model architecture: \(ModelZoo.architectures.joined(separator: ", ")).") var arch: String?
    @Option(name: .long, help: "Input shape, e.g. 1x3x224x224 (N×C×H×W) or 1x1x28x28x28.") var input = "1x3x224x224"
    @Option(name: .long, help: "Output labels of the benchmarked model.") var labels = 14
    @Option(name: .long, help: "Threads (default: all cores).") var threads: Int?
    @Option(name: .long, help: "Compute backend for --arch: auto, cpu or cuda.") var backend = "cpu"
    @Option(name: .long, help: "Matrix products on CUDA: fp32, tf32 or bf16.") var math: String?
    @Option(name: .long, help: "A folder searched first for the CUDA libraries (repeatable).") var cudaLibraryPath: [String] = []
    @Option(name: .long, help: "Timed iterations.") var iterations = 10
    @Flag(name: .long, help: "Time a training step (forward, loss, backward, SGD) instead of inference.") var train = false
    @Option(name: .long, help: "Also time explaining this many findings as the daemon does (Grad-CAM: one forward pass, one backward each, post-processing, overlay and map PNGs) and report its cost relative to one inference.")
    var explain: Int?
    @Option(name: .long, help: "With --explain: the scan the overlays are drawn on, at its own size (default: the input itself).")
    var scan: String?
    @Flag(name: .long, help: "Print one JSON object.") var json = false
    @Flag(name: .long, help: "Also time every engine operation (time_by_op in the JSON; a table otherwise).") var profile = false

    func validate() throws {
        guard (decode == nil) != (arch == nil) else { throw ValidationError("give either --decode PATH or --arch NAME") }
    }

    func run() throws {
        if let decode { try benchDecode(decode) } else if let arch { try benchModel(arch) }
    }

    private func benchModel(_ arch: String) throws {
        guard let shape = Benchmark.parseShape(input) else { throw ValidationError("--input \(input) is not a shape like 1x3x224x224") }
        if let threads { CPUBackend.setThreads(threads) }
        let compute = try selectBackend(backend, libraryPaths: cudaLibraryPath, math: math)
        try Engine.withBackend(compute) { try benchModel(arch, shape: shape, on: compute) }
    }

    private func benchModel(_ arch: String, shape: [Int], on compute: any Backend) throws {
        let model: any Model
        do { model = try ModelZoo.make(arch: arch, inChannels: shape[1], labels: labels) } catch {
            throw ValidationError("\(error)")
        }
        if let explain {
            guard shape[0] == 1, explain > 0, explain <= labels else {
                throw ValidationError("--explain needs batch 1 and 1...\(labels) findings")
            }
            try benchExplain(model, arch: arch, shape: shape, findings: explain)
            return
        }
        let result = Benchmark.run(model: model, inputShape: shape, iterations: iterations, train: train, profile: profile)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            let mode = train ? "training step" : "inference"
            var line = String(format: "%@ %@ %@ on %@: median %.2f ms (min %.2f, max %.2f), %.1f GFLOP/s, peak RSS %.0f MB",
                              arch, input, mode, compute.name, result.medianMs, result.minMs, result.maxMs, result.gflops, result.peakRSSMB)
            if let cuda = compute as? CUDABackend {
                line += String(format: ", device memory peak %.0f MB, %d operations on the CPU",
                               Double(cuda.memory.peakInUseBytes) / 1e6, cuda.fallbacks)
            }
            print(line)
            for t in result.timeByOp ?? [] {
                let rate = t.gflops.map { String(format: "%7.1f GFLOP/s", $0) } ?? ""
                print("  " + t.op.padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: "%8.2f ms %5d calls ", t.ms, t.calls) + rate)
            }
        }
    }

    private func benchExplain(_ model: any Model, arch: String, shape: [Int], findings: Int) throws {
        var rng = SeededRandom(seed: 1)
        let x = rng.tensor(shape)
        let original: Volume
        if let scan {
            guard let volume = ScanReader.read(URL(fileURLWithPath: scan)).volumes.first else { throw ValidationError("cannot read \(scan)") }
            original = volume
        } else {
            let s = Array(shape.dropFirst(2))
            original = Volume(voxels: x.scalars, shape: Volume.Shape(channels: shape[1], depth: s.count == 3 ? s[0] : 1,
                                                                     rows: s[s.count - 2], cols: s[s.count - 1]))
        }
        let labels = (0..<self.labels).map { "finding \($0)" }
        func time(_ body: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        func explain(render: Bool) throws {
            _ = try Explainer.explain(model: model, architecture: arch, input: x, original: original, targets: Array(0..<findings),
                                      labels: labels, settings: ExplainSettings(renderImages: render))
        }
        // Interleaved, so that one inference and one explanation see the same load; the ratio is the median of
        // the per-round ratios.
        var inference: [Double] = [], full: [Double] = [], maps: [Double] = []
        for round in 0..<(iterations + 1) {
            let i = time { _ = model.predict(x) }, f = try time { try explain(render: true) }, m = try time { try explain(render: false) }
            if round > 0 { inference.append(i); full.append(f); maps.append(m) }
        }
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        let report: [String: Any] = ["arch": arch, "layer": ClassActivation.defaultLayer(forArchitecture: arch), "findings": findings,
                                     "original": original.shape.description, "explain_ms": median(full), "maps_only_ms": median(maps),
                                     "inference_ms": median(inference),
                                     "explain_over_inference": median(zip(full, inference).map { $0 / $1 }),
                                     "maps_only_over_inference": median(zip(maps, inference).map { $0 / $1 })]
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }

    private func benchDecode(_ path: String) throws {
        let url = URL(fileURLWithPath: path)
        var passes: [Double] = []
        var slices = 0, bytes = 0
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            let result = ScanReader.read(url)
            passes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            guard result.failures.isEmpty, !result.volumes.isEmpty else {
                throw ValidationError("cannot decode \(path): \(result.failures.first?.message ?? "nothing read")")
            }
            slices = result.volumes.reduce(0) { $0 + $1.shape.depth }
            bytes = result.volumes.reduce(0) { $0 + $1.voxels.count * MemoryLayout<Float>.size }
        }
        let median = passes.sorted()[passes.count / 2]
        let report: [String: Any] = [
            "case": name, "slices": slices, "ms_per_slice": median / Double(slices),
            "mb_per_s": Double(bytes) / 1e6 / (median / 1e3), "passes": passes.count,
        ]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
