import Foundation

/// What a model takes as input. Codable: a training config and a model package (`model.json`) state it.
public struct InputSpec: Codable, Sendable, Equatable {
    /// `[rows, cols]` for 2D inputs (C x H x W), `[depth, rows, cols]` for 3D (C x D x H x W).
    public var size: [Int]
    public var channels: Int
    public var channelPolicy: ChannelPolicy
    public var intensity: IntensityPipeline
    /// `bilinear` or `area` for 2D, `trilinear` for 3D.
    public var interpolation: InterpolationMode

    public init(size: [Int], channels: Int, channelPolicy: ChannelPolicy = .keep, intensity: IntensityPipeline,
                interpolation: InterpolationMode? = nil) {
        precondition(size.count == 2 || size.count == 3, "size is [rows, cols] or [depth, rows, cols]")
        self.size = size
        self.channels = channels
        self.channelPolicy = channelPolicy
        self.intensity = intensity
        self.interpolation = interpolation ?? (size.count == 3 ? .trilinear : .bilinear)
    }

    public var isVolumetric: Bool { size.count == 3 }
    /// The array shape of one sample: `[C, H, W]` or `[C, D, H, W]`.
    public var tensorShape: [Int] { [channels] + size }
    public var elementCount: Int { tensorShape.reduce(1, *) }
}

public enum PreprocessError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case channels(path: String, found: Int, wanted: Int)
    case notVolumetric(path: String, depth: Int)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): \(reason)"
        case let .channels(path, found, wanted): return "\(path): \(found) channels after the channel policy, model wants \(wanted)"
        case let .notVolumetric(path, depth): return "\(path): a 2D input was asked for, but the image has \(depth) slices"
        }
    }
}

extension InputSpec {
    /// Converts channels, resizes and normalises a volume into a contiguous array of `tensorShape`: the same
    /// steps for training, evaluation and serving, so a model sees at run time what it saw in training.
    public func tensor(from input: Volume, name: String) throws(PreprocessError) -> [Float] {
        // The policy runs on whichever side of the resize has fewer channels: a full-size radiograph is
        // resized once, not three times, for a model that takes grey repeated to RGB. Both steps commute.
        let expands = channelPolicy == .greyToRGB
        var volume = input
        if !expands { volume = try policyApplied(to: volume, name: name) }
        let rows = size[size.count - 2], cols = size[size.count - 1]
        if isVolumetric {
            if volume.shape.depth != size[0] || volume.shape.rows != rows || volume.shape.cols != cols {
                volume = volume.resized(depth: size[0], rows: rows, cols: cols, mode: interpolation)
            }
        } else {
            guard volume.shape.depth == 1 else { throw .notVolumetric(path: name, depth: volume.shape.depth) }
            if volume.shape.rows != rows || volume.shape.cols != cols {
                volume = volume.resized(rows: rows, cols: cols, mode: interpolation)
            }
        }
        if expands { volume = try policyApplied(to: volume, name: name) }
        do { try intensity.apply(to: &volume) } catch { throw .unreadable(path: name, reason: error.description) }
        return volume.voxels
    }

    private func policyApplied(to input: Volume, name: String) throws(PreprocessError) -> Volume {
        let volume: Volume
        do { volume = try channelPolicy.applied(to: input) } catch {
            throw .unreadable(path: name, reason: error.description)
        }
        guard volume.shape.channels == channels else {
            throw .channels(path: name, found: volume.shape.channels, wanted: channels)
        }
        return volume
    }
}
