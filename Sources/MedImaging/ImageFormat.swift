import Foundation

/// Raster image formats recognised by their leading bytes, never by file extension.
public enum ImageFormat: String, Sendable, Codable {
    case png, jpeg, tiff

    public init?(sniffing data: Data) {
        let head = [UInt8](data.prefix(8))
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { self = .png }
        else if head.starts(with: [0xFF, 0xD8, 0xFF]) { self = .jpeg }
        else if head.starts(with: [0x49, 0x49, 0x2A, 0x00]) || head.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) { self = .tiff }
        else { return nil }
    }

    /// Sniffs a file from its first bytes without reading the rest; nil for unreadable or non-image files.
    public init?(sniffing url: URL) {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 8) else { return nil }
        self.init(sniffing: head)
    }
}
