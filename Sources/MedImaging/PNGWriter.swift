import CImageCodecs
import Foundation

/// Writes PNG files through libpng: 8-bit grey, RGB and RGBA raster images, and 16-bit grey.
public enum PNGWriter {
    public static func encode(_ image: RasterImage) throws(IntakeError) -> Data {
        try image.pixels.withUnsafeBytes { raw in
            encode(raw, width: image.width, height: image.height, channels: image.channels, bitDepth: 8)
        }.get()
    }

    /// 16-bit grey samples, rows top to bottom.
    public static func encodeGray16(_ samples: [UInt16], width: Int, height: Int) throws(IntakeError) -> Data {
        precondition(samples.count == width * height, "sample count does not match \(width)x\(height)")
        return try samples.withUnsafeBytes { raw in
            encode(raw, width: width, height: height, channels: 1, bitDepth: 16)
        }.get()
    }

    public static func write(_ image: RasterImage, to url: URL) throws(IntakeError) {
        let data = try encode(image)
        do { try data.write(to: url, options: .atomic) } catch {
            throw IntakeError(.ioError, "cannot write \(url.lastPathComponent): \(error.localizedDescription)")
        }
    }

    // Returns a Result because Array.withUnsafeBytes only rethrows untyped errors.
    private static func encode(_ raw: UnsafeRawBufferPointer, width: Int, height: Int, channels: Int,
                               bitDepth: Int) -> Result<Data, IntakeError> {
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message = [CChar](repeating: 0, count: Int(IC_MESSAGE_SIZE))
        let status = ic_png_encode(raw.baseAddress, UInt32(width), UInt32(height), UInt32(channels), UInt32(bitDepth),
                                   &output, &length, &message)
        guard status == Int32(IC_OK.rawValue), let output else {
            return .failure(IntakeError(.unsupportedPixelFormat, "png encode: \(String(cString: message))"))
        }
        defer { ic_buffer_free(output) }
        return .success(Data(bytes: output, count: length))
    }
}
