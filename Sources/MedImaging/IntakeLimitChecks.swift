import Foundation

/// The checks the photo, TIFF and OCT readers make against the configured limits. `maxPixels` bounds every
/// decoded sample count: one image before its pixels are allocated, and a whole volume.
extension IntakeLimits {
    /// Reads a whole file, mapping file-system failures onto reason codes.
    func readFile(_ url: URL) throws(IntakeError) -> Data {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw IntakeError(.notFound, "no such file: \(url.lastPathComponent)")
        }
        guard !isDirectory.boolValue else { throw IntakeError(.unsupportedFormat, "\(url.lastPathComponent) is a directory") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maxFileBytes else { throw IntakeError(.tooLarge, "\(size) bytes exceed the limit of \(maxFileBytes)") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw IntakeError(.ioError, "cannot read \(url.lastPathComponent): \(error.localizedDescription)") }
        guard !data.isEmpty else { throw IntakeError(.empty, "\(url.lastPathComponent) is empty (0 bytes)") }
        return data
    }

    func checkVoxels(_ shape: Volume.Shape) throws(IntakeError) {
        guard shape.count <= maxPixels else { throw IntakeError(.tooLarge, "volume \(shape) exceeds the limit of \(maxPixels) samples") }
    }
}
