import ArgumentParser
import Foundation
import MedEngine
import MedImaging

struct ImportTorch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-torch",
        abstract: "Turn a PyTorch state_dict saved as safetensors into a model package.",
        discussion: """
        Save the weights in Python with safetensors.torch.save_file(model.state_dict(), "W.safetensors"). \
        Parameter names must be torchvision's for the architecture. The package's input spec comes from \
        --size, --channels, --channel-policy, --interpolation and --intensity.
        """)

    @Option(help: "Architecture: \(ModelZoo.architectures.joined(separator: ", ")).") var arch: String
    @Option(help: "The state_dict as .safetensors.") var weights: String
    @Option(help: "Label names, comma-separated, in the order of the model's outputs.") var labels: String
    @Option(help: "Output package folder.") var out: String
    @Option(help: "Model name (default: the output folder's name).") var name: String?
    @Option(help: "Model version.") var version = "1"
    @OptionGroup var input: InputSpecOptions
    @Option(help: "First-stage width when not the architecture's standard one.") var width: Int?

    func run() throws {
        // Without flags: 3 x 224 x 224, channels kept, no intensity steps.
        let spec = try input.spec(over: InputSpec(size: [224, 224], channels: 3, intensity: IntensityPipeline([])))
        let labelNames = labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !labelNames.isEmpty else { throw ValidationError("--labels names no label") }
        let outURL = URL(fileURLWithPath: out)
        let manifest = ModelManifest(
            name: name ?? outURL.lastPathComponent, version: version,
            architecture: .init(name: arch, width: width),
            input: spec,
            labels: labelNames, provenance: ["imported_from": URL(fileURLWithPath: weights).lastPathComponent])
        let package: ModelPackage
        do { package = try ModelPackage.importTorch(weights: URL(fileURLWithPath: weights), manifest: manifest) } catch {
            throw ValidationError("cannot import \(weights) as \(arch) with \(labelNames.count) labels: \(error)")
        }
        let written = try package.write(to: outURL)
        print("wrote \(out): \(arch), \(labelNames.count) labels, weights sha256 \(written.weightsSHA256)")
    }
}
