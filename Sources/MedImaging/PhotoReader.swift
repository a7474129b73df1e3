import Foundation

/// Reads PNG and JPEG photographs (fundus photos, single OCT B-scan exports), and uncompressed baseline TIFF,
/// as one-slice volumes, channels first: grey gives 1 channel, colour 3. Values are the stored samples
/// (0...255, or 0...65535 for 16-bit images). `metadata.kind` is the format found: png, jpeg or tiff.
public struct PhotoReader: Sendable {
    public var limits: IntakeLimits

    public init(limits: IntakeLimits = .default) { self.limits = limits }

    public func read(_ url: URL) throws(IntakeError) -> Volume {
        try read(data: limits.readFile(url))
    }

    public func read(data: Data) throws(IntakeError) -> Volume {
        guard !data.isEmpty else { throw IntakeError(.empty, "no image data") }
        guard let format = ImageFormat(sniffing: data) else {
            throw IntakeError(.unsupportedFormat, "not a PNG, JPEG or TIFF image (unrecognised leading bytes)")
        }
        let image = try ImageCodec.decode(data, format: format, limits: limits)
        let shape = Volume.Shape(channels: image.channels, depth: 1, rows: image.height, cols: image.width)
        try limits.checkVoxels(shape)
        var metadata = ImageMetadata()
        metadata.kind = format.rawValue
        metadata.photometric = image.channels == 1 ? "MONOCHROME2" : "RGB"
        metadata.bitsStored = image.bitDepth
        metadata.warnings = image.warnings
        return Volume(voxels: image.planes, shape: shape, metadata: metadata)
    }
}
