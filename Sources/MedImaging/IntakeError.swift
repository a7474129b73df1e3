import Foundation

/// Why an input could not be read. The reason codes are stable: they appear in `medlens inspect`,
/// in quarantine records and in metrics, so never rename one.
public struct IntakeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable, Codable, CaseIterable {
        case notFound = "not_found"
        case ioError = "io_error"
        case notDicom = "not_dicom"
        case truncated = "truncated"
        case unsupportedTransferSyntax = "unsupported_transfer_syntax"
        case unsupportedPixelFormat = "unsupported_pixel_format"
        case noPixelData = "no_pixel_data"
        case decodeFailed = "decode_failed"
        case tooLarge = "too_large"
        case inconsistentSeries = "inconsistent_series"
        case invalidAttribute = "invalid_attribute"
        case unsupportedFormat = "unsupported_format"
        case empty = "empty"
    }

    public var reason: Reason
    public var message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason.rawValue): \(message)" }
}
