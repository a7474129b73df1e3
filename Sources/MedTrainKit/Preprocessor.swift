import Foundation
import MedImaging

/// What a model takes as input. Codable: a training config and a model package state it.
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

/// Decodes, converts channels, resizes and normalises one sample into a contiguous array of `spec.tensorShape`.
public struct Preprocessor: Sendable {
    public var spec: InputSpec

    public init(spec: InputSpec) { self.spec = spec }

    public func tensor(for sample: Sample) throws(PreprocessError) -> [Float] {
        switch sample.source {
        case let .file(url):
            let result = ScanReader.read(url)
            guard let volume = result.volumes.first else {
                throw .unreadable(path: url.path, reason: result.failures.first?.message ?? "no image")
            }
            return try tensor(for: volume, name: url.path)
        case let .memory(volume):
            return try tensor(for: volume, name: "sample of patient \(sample.patient)")
        }
    }

    public func tensor(for input: Volume, name: String) throws(PreprocessError) -> [Float] {
        var volume: Volume
        do { volume = try spec.channelPolicy.applied(to: input) } catch {
            throw .unreadable(path: name, reason: error.description)
        }
        guard volume.shape.channels == spec.channels else {
            throw .channels(path: name, found: volume.shape.channels, wanted: spec.channels)
        }
        let rows = spec.size[spec.size.count - 2], cols = spec.size[spec.size.count - 1]
        if spec.isVolumetric {
            if volume.shape.depth != spec.size[0] || volume.shape.rows != rows || volume.shape.cols != cols {
                volume = volume.resized(depth: spec.size[0], rows: rows, cols: cols, mode: spec.interpolation)
            }
        } else {
            guard volume.shape.depth == 1 else { throw .notVolumetric(path: name, depth: volume.shape.depth) }
            if volume.shape.rows != rows || volume.shape.cols != cols {
                volume = volume.resized(rows: rows, cols: cols, mode: spec.interpolation)
            }
        }
        do { try spec.intensity.apply(to: &volume) } catch { throw .unreadable(path: name, reason: error.description) }
        return volume.voxels
    }

    /// A stable text form of the spec: part of the cache key, so any change to it misses the cache.
    public var specKey: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(spec)) ?? Data()
        return String(SHA256.hexDigest(of: json).prefix(16))
    }
}
