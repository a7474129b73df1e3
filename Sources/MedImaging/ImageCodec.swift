import CImageCodecs
import Foundation

/// Swift face of the CImageCodecs shim: turns its status codes into reason codes.
enum ImageCodec {
    static func decode(_ data: Data, format: ImageFormat, limits: IntakeLimits) throws(IntakeError) -> DecodedImage {
        switch format {
        case .png: return try decodeWithShim(data, format: format, limits: limits, ic_png_decode)
        case .jpeg: return try decodeWithShim(data, format: format, limits: limits, ic_jpeg_decode)
        case .tiff: return try TIFFDecoder.decode(data, limits: limits)
        }
    }

    private typealias ShimDecoder = (UnsafePointer<UInt8>?, Int, UInt64, UnsafeMutablePointer<ic_image>?,
                                     UnsafeMutablePointer<CChar>?) -> Int32

    private static func decodeWithShim(_ data: Data, format: ImageFormat, limits: IntakeLimits,
                                       _ decoder: ShimDecoder) throws(IntakeError) -> DecodedImage {
        var image = ic_image()
        var message = [CChar](repeating: 0, count: Int(IC_MESSAGE_SIZE))
        let status = data.withUnsafeBytes { raw in
            decoder(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, UInt64(limits.maxPixels), &image, &message)
        }
        defer { ic_image_free(&image) }
        guard status == Int32(IC_OK.rawValue) else {
            throw IntakeError(reason(for: status), "\(format.rawValue): \(String(cString: message))")
        }
        let width = Int(image.width), height = Int(image.height), channels = Int(image.channels)
        // Alpha carries no anatomy; models take grey or RGB.
        let kept = channels == 2 || channels == 4 ? channels - 1 : channels
        let count = width * height * channels
        var decoded: DecodedImage
        if image.bit_depth == 16 {
            decoded = DecodedImage(interleaved: UnsafeBufferPointer(start: image.pixels.assumingMemoryBound(to: UInt16.self), count: count),
                                   width: width, height: height, channels: channels, keptChannels: kept, bitDepth: 16)
        } else {
            decoded = DecodedImage(interleaved: UnsafeBufferPointer(start: image.pixels.assumingMemoryBound(to: UInt8.self), count: count),
                                   width: width, height: height, channels: channels, keptChannels: kept, bitDepth: 8)
        }
        if kept != channels { decoded.warnings.append("alpha channel dropped") }
        if image.warnings > 0 { decoded.warnings.append("\(format.rawValue) decoder recovered from \(image.warnings) corrupt-data warning(s)") }
        return decoded
    }

    static func reason(for status: Int32) -> IntakeError.Reason {
        switch UInt32(bitPattern: status) {
        case IC_ERR_UNSUPPORTED.rawValue: return .unsupportedPixelFormat
        case IC_ERR_TOO_LARGE.rawValue: return .tooLarge
        case IC_ERR_NOMEM.rawValue: return .tooLarge
        default: return .decodeFailed
        }
    }
}
