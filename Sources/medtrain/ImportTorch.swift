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
    @Option(help: "Input size: HxW for 2D, DxHxW for 3D.") var size = "224x224"
    @Option(help: "Input channels.") var channels = 3
    @Option(help: "Channel policy: keep, grey_to_rgb, green_only.") var channelPolicy = "keep"
    @Option(help: "Resampling: bilinear, area, trilinear.") var interpolation: String?
    @Option(help: #"Intensity pipeline as JSON, e.g. '[{"op":"min_max"},{"op":"normalize","mean":[0.5],"std":[0.5]}]'."#)
    var intensity = "[]"
    @Option(help: "First-stage width when not the architecture's standard one.") var width: Int?

    func run() throws {
        let dims = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard dims.count == 2 || dims.count == 3, dims.count == size.split(separator: "x").count, dims.allSatisfy({ $0 > 0 })
        else { throw ValidationError("--size \(size) is not HxW or DxHxW") }
        guard let policy = ChannelPolicy(rawValue: channelPolicy) else { throw ValidationError("unknown --channel-policy \(channelPolicy)") }
        var mode: InterpolationMode?
        if let interpolation {
            guard let m = InterpolationMode(rawValue: interpolation) else { throw ValidationError("unknown --interpolation \(interpolation)") }
            mode = m
        }
        let steps: [IntensityStep]
        do { steps = try JSONDecoder().decode([IntensityStep].self, from: Data(intensity.utf8)) } catch {
            throw ValidationError("--intensity is not a JSON list of steps: \(error)")
        }
        let labelNames = labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !labelNames.isEmpty else { throw ValidationError("--labels names no label") }
        let outURL = URL(fileURLWithPath: out)
        let manifest = ModelManifest(
            name: name ?? outURL.lastPathComponent, version: version,
            architecture: .init(name: arch, width: width),
            input: InputSpec(size: dims, channels: channels, channelPolicy: policy, intensity: IntensityPipeline(steps), interpolation: mode),
            labels: labelNames, provenance: ["imported_from": URL(fileURLWithPath: weights).lastPathComponent])
        let package: ModelPackage
        do { package = try ModelPackage.importTorch(weights: URL(fileURLWithPath: weights), manifest: manifest) } catch {
            throw ValidationError("cannot import \(weights) as \(arch) with \(labelNames.count) labels: \(error)")
        }
        let written = try package.write(to: outURL)
        print("wrote \(out): \(arch), \(labelNames.count) labels, weights sha256 \(written.weightsSHA256)")
    }
}
