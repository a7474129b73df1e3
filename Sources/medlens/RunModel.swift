import ArgumentParser
import Foundation
import MedEngine
import NumPyFormat

struct RunModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-model",
        abstract: "Run a model package on a NumPy array and write its logits.",
        discussion: "The input is float32 N×C×H×W (2D models) or N×C×D×H×W (3D models), already preprocessed; the output is N×labels logits.")

    @Option(help: "The model package: a folder with model.json and model.safetensors.") var model: String
    @Option(help: "Input .npy.") var input: String
    @Option(help: "Output .npy (logits).") var output: String
    @Option(help: "Compute backend: auto, cpu or cuda.") var backend = "cpu"
    @Option(help: "Threads for the CPU backend (default: all cores).") var threads: Int?

    func run() throws {
        if let threads { CPUBackend.setThreads(threads) }
        let compute = try selectBackend(backend)
        let package: ModelPackage
        do { package = try ModelPackage.load(from: URL(fileURLWithPath: model)) } catch {
            throw ValidationError("cannot load model \(model): \(error)")
        }
        let array: NPYArray
        do { array = try NPYArray.read(from: URL(fileURLWithPath: input)) } catch {
            throw ValidationError("cannot read \(input): \(error)")
        }
        let spec = package.manifest.input
        let expected = spec.tensorShape
        guard array.shape.count == expected.count + 1, array.shape[1] == spec.channels else {
            throw ValidationError("input shape \(array.shape) does not fit the model: it takes N×\(expected.map(String.init).joined(separator: "×"))")
        }
        let logits = Engine.withBackend(compute) { package.model.predict(array.tensor) }
        try NPYArray(logits).write(to: URL(fileURLWithPath: output))
    }
}
