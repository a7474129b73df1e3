import ArgumentParser
import Foundation
import MedImaging

/// What a model takes, as flags (import-torch, train): each one overrides the configuration's value.
struct InputSpecOptions: ParsableArguments {
    @Option(help: "Input size: HxW for 2D, DxHxW for 3D.") var size: String?
    @Option(help: "Input channels.") var channels: Int?
    @Option(help: "Channel policy: keep, grey_to_rgb, green_only.") var channelPolicy: String?
    @Option(help: "Resampling: bilinear, area, trilinear.") var interpolation: String?
    @Option(help: #"Intensity pipeline as JSON, e.g. '[{"op":"min_max"},{"op":"normalize","mean":[0.5],"std":[0.5]}]'."#)
    var intensity: String?

    var isEmpty: Bool { size == nil && channels == nil && channelPolicy == nil && interpolation == nil && intensity == nil }

    /// `base` with the given flags applied; without a base, `--size` is required.
    func spec(over base: InputSpec?) throws -> InputSpec {
        var dims = base?.size
        if let size {
            let parsed = size.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parsed.count == 2 || parsed.count == 3, parsed.count == size.split(separator: "x").count, parsed.allSatisfy({ $0 > 0 })
            else { throw ValidationError("--size \(size) is not HxW or DxHxW") }
            dims = parsed
        }
        guard let dims else { throw ValidationError("give the input size with --size (or an input in --config)") }
        var policy = base?.channelPolicy ?? .keep
        if let channelPolicy {
            guard let p = ChannelPolicy(rawValue: channelPolicy) else { throw ValidationError("unknown --channel-policy \(channelPolicy)") }
            policy = p
        }
        var mode = base.flatMap { $0.size.count == dims.count ? $0.interpolation : nil }
        if let interpolation {
            guard let m = InterpolationMode(rawValue: interpolation) else { throw ValidationError("unknown --interpolation \(interpolation)") }
            mode = m
        }
        var steps = base?.intensity ?? IntensityPipeline([])
        if let intensity {
            do { steps = IntensityPipeline(try JSONDecoder().decode([IntensityStep].self, from: Data(intensity.utf8))) } catch {
                throw ValidationError("--intensity is not a JSON list of steps: \(error)")
            }
        }
        return InputSpec(size: dims, channels: channels ?? base?.channels ?? 1, channelPolicy: policy, intensity: steps, interpolation: mode)
    }
}
