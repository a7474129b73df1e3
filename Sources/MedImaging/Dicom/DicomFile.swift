import CDicom
import Foundation

/// An open DICOM object, read through DCMTK. Pixel data stays on disk until `decodeFrame` asks for it.
/// Not thread-safe: one file, one thread at a time (DCMTK datasets are mutable while values load lazily).
public final class DicomFile {
    private let handle: OpaquePointer
    public let transferSyntax: String

    public init(url: URL) throws {
        var status = cdicom_status()
        guard let handle = url.withUnsafeFileSystemRepresentation({ path in path.flatMap { cdicom_open_file($0, &status) } }) else {
            throw IntakeError(status: status)
        }
        self.handle = handle
        self.transferSyntax = Self.readTransferSyntax(handle)
    }

    public init(bytes: Data) throws {
        var status = cdicom_status()
        let opened = bytes.withUnsafeBytes { raw in
            cdicom_open_memory(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &status)
        }
        guard let handle = opened else { throw IntakeError(status: status) }
        self.handle = handle
        self.transferSyntax = Self.readTransferSyntax(handle)
    }

    deinit { cdicom_close(handle) }

    /// Set when the object could only be read by recovering from a parse error.
    public var parseWarning: String? {
        var buffer = [CChar](repeating: 0, count: 256)
        cdicom_parse_warning(handle, &buffer, buffer.count)
        let text = String(cString: buffer)
        return text.isEmpty ? nil : text
    }

    private static func readTransferSyntax(_ handle: OpaquePointer) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        cdicom_transfer_syntax(handle, &buffer, buffer.count)
        return String(cString: buffer)
    }

    /// The value of a string-like attribute, trimmed of DICOM padding; nil when absent.
    public func string(_ path: DicomPath) -> String? {
        path.withC { cPath in
            let length = cdicom_get_string(handle, cPath, nil, 0)
            guard length >= 0 else { return nil }
            var buffer = [CChar](repeating: 0, count: length + 1)
            _ = cdicom_get_string(handle, cPath, &buffer, buffer.count)
            return String(cString: buffer).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
        }
    }

    public func string(_ tag: DicomTag) -> String? { string(DicomPath(tag)) }

    /// Multi-valued numeric attribute (DS, IS, US, FD, ...) as Doubles; nil when absent or unparsable.
    public func doubles(_ path: DicomPath) -> [Double]? {
        guard let text = string(path), !text.isEmpty else { return nil }
        let values = text.split(separator: "\\").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        return values.contains(where: { $0 == nil }) ? nil : values.compactMap { $0 }
    }

    public func doubles(_ tag: DicomTag) -> [Double]? { doubles(DicomPath(tag)) }
    public func double(_ tag: DicomTag) -> Double? { doubles(tag)?.first }
    public func int(_ tag: DicomTag) -> Int? { double(tag).map { Int($0) } }

    public func sequenceCount(_ path: DicomPath) -> Int? {
        let count = path.withC { cdicom_sequence_count(handle, $0) }
        return count >= 0 ? count : nil
    }

    public func uint16Array(_ path: DicomPath) -> [UInt16]? {
        path.withC { cPath in
            let count = cdicom_get_u16_array(handle, cPath, nil, 0)
            guard count >= 0 else { return nil }
            var values = [UInt16](repeating: 0, count: count)
            _ = cdicom_get_u16_array(handle, cPath, &values, values.count)
            return values
        }
    }

    public func pixelInfo() throws -> PixelInfo {
        var info = cdicom_pixel_info()
        var status = cdicom_status()
        guard cdicom_get_pixel_info(handle, &info, &status) != 0 else { throw IntakeError(status: status) }
        return PixelInfo(info)
    }

    /// Stored values of one frame, planar [sample][row][col], written into `out` (rows*cols*samples floats).
    public func decodeFrame(_ index: Int, into out: UnsafeMutableBufferPointer<Float>) throws {
        var status = cdicom_status()
        guard cdicom_decode_frame(handle, UInt32(index), out.baseAddress, out.count, &status) != 0 else {
            throw IntakeError(status: status)
        }
    }
}

/// The image pixel module as decoding sees it.
public struct PixelInfo: Sendable, Equatable {
    public var rows, cols, frames, samples: Int
    public var bitsAllocated, bitsStored, highBit: Int
    public var isSigned: Bool
    public var planarConfiguration: Int
    /// The photometric interpretation of the decoded samples (a JPEG decoder may already have made YBR into RGB).
    public var photometric: String
    public var encapsulated: Bool
    /// 32 or 64 for Float / Double Float Pixel Data, else 0.
    public var floatBits: Int

    init(_ info: cdicom_pixel_info) {
        rows = Int(info.rows); cols = Int(info.cols); frames = Int(info.frames); samples = Int(info.samples)
        bitsAllocated = Int(info.bits_allocated); bitsStored = Int(info.bits_stored); highBit = Int(info.high_bit)
        isSigned = info.pixel_representation == 1
        planarConfiguration = Int(info.planar_configuration)
        photometric = withUnsafeBytes(of: info.photometric) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        encapsulated = info.encapsulated != 0
        floatBits = Int(info.float_bits)
    }

    public var valuesPerFrame: Int { rows * cols * samples }
}

extension IntakeError {
    init(status: cdicom_status) {
        let message = withUnsafeBytes(of: status.message) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let reason: Reason
        switch status.reason {
        case CDICOM_IO_ERROR: reason = .ioError
        case CDICOM_NOT_DICOM: reason = .notDicom
        case CDICOM_TRUNCATED: reason = .truncated
        case CDICOM_UNSUPPORTED_TRANSFER_SYNTAX: reason = .unsupportedTransferSyntax
        case CDICOM_UNSUPPORTED_PIXEL_FORMAT: reason = .unsupportedPixelFormat
        case CDICOM_NO_PIXEL_DATA: reason = .noPixelData
        case CDICOM_NOT_FOUND: reason = .notFound
        default: reason = .decodeFailed
        }
        self.init(reason, message)
    }
}
