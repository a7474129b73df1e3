import Foundation

/// Bounds on what intake will read, so that no input can exhaust memory. Defaults suit a server; the daemon
/// overrides them from configuration.
public struct IntakeLimits: Sendable, Equatable, Codable {
    public var maxBytes: Int
    /// Bound on rows * cols of one image or B-scan, checked before pixels are allocated.
    public var maxPixelsPerImage: Int
    /// Bound on channels * depth * rows * cols of a whole volume.
    public var maxVoxels: Int

    public init(maxBytes: Int = 2 << 30, maxPixelsPerImage: Int = 256 << 20, maxVoxels: Int = 1 << 30) {
        self.maxBytes = maxBytes; self.maxPixelsPerImage = maxPixelsPerImage; self.maxVoxels = maxVoxels
    }

    public static let `default` = IntakeLimits()

    /// Reads a whole file, mapping file-system failures onto reason codes.
    func readFile(_ url: URL) throws(IntakeError) -> Data {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw IntakeError(.notFound, "no such file: \(url.lastPathComponent)")
        }
        guard !isDirectory.boolValue else { throw IntakeError(.unsupportedFormat, "\(url.lastPathComponent) is a directory") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maxBytes else { throw IntakeError(.tooLarge, "\(size) bytes exceeds the limit of \(maxBytes)") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw IntakeError(.ioError, "cannot read \(url.lastPathComponent): \(error.localizedDescription)") }
        guard !data.isEmpty else { throw IntakeError(.empty, "\(url.lastPathComponent) is empty (0 bytes)") }
        return data
    }

    func checkVoxels(_ shape: Volume.Shape) throws(IntakeError) {
        guard shape.count <= maxVoxels else { throw IntakeError(.tooLarge, "volume \(shape) exceeds the limit of \(maxVoxels) voxels") }
    }
}
