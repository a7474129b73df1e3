/// How a model wants colour: many take three channels (grey repeated), fundus models often the green channel
/// alone (best vessel contrast).
public enum ChannelPolicy: String, Sendable, Codable {
    /// Channels as read.
    case keep
    /// One channel repeated to three; three channels stay as they are.
    case greyToRGB = "grey_to_rgb"
    /// The green channel of an RGB image; a grey image stays as it is.
    case greenOnly = "green_only"

    public func applied(to volume: Volume) throws(IntakeError) -> Volume {
        let channels = volume.shape.channels
        let block = volume.shape.depth * volume.shape.sliceCount
        var result = volume
        switch (self, channels) {
        case (.keep, _), (.greyToRGB, 3), (.greenOnly, 1):
            return volume
        case (.greyToRGB, 1):
            result.voxels = Array([[Float]](repeating: volume.voxels, count: 3).joined())
            result.shape.channels = 3
        case (.greenOnly, 3):
            result.voxels = Array(volume.voxels[block..<(2 * block)])
            result.shape.channels = 1
        default:
            throw IntakeError(.unsupportedPixelFormat, "channel policy \(rawValue) does not apply to \(channels) channels")
        }
        result.metadata.photometric = result.shape.channels == 1 ? "MONOCHROME2" : "RGB"
        return result
    }
}
