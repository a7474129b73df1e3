import Foundation

/// Limits checked from the header before any pixel is decoded, so that a hostile or huge file cannot
/// exhaust memory. The daemon takes them from its configuration.
public struct IntakeLimits: Sendable, Equatable, Codable {
    public var maxFileBytes: Int
    public var maxPixels: Int
    public var maxFrames: Int

    public init(maxFileBytes: Int = 2 << 30, maxPixels: Int = 1 << 30, maxFrames: Int = 4096) {
        self.maxFileBytes = maxFileBytes; self.maxPixels = maxPixels; self.maxFrames = maxFrames
    }

    public static let `default` = IntakeLimits()

    func check(_ info: PixelInfo) throws {
        if info.frames > maxFrames {
            throw IntakeError(.tooLarge, "\(info.frames) frames exceed the limit of \(maxFrames)")
        }
        let pixels = info.rows * info.cols * info.samples * info.frames
        if pixels > maxPixels {
            throw IntakeError(.tooLarge, "\(pixels) samples exceed the limit of \(maxPixels)")
        }
    }
}

/// Decodes the frames of one DICOM object into modality values, channel-first `[channel][frame][row][col]`:
/// colour made RGB (YBR converted as pydicom does, palettes expanded), the modality transform applied per
/// frame, and MONOCHROME1 inverted so that higher always means brighter.
public enum DicomPixelDecoder {
    public static func decode(file: DicomFile, header: DicomHeader, frames selection: [Int]? = nil,
                              limits: IntakeLimits = .default) throws -> (voxels: [Float], channels: Int, photometric: String) {
        guard let info = header.pixels else {
            throw header.pixelError ?? IntakeError(.noPixelData, "no pixel data")
        }
        try limits.check(info)
        let frames = selection ?? Array(0..<info.frames)
        let photometric = info.photometric.uppercased()
        let palette = photometric == "PALETTE COLOR" ? header.palette : nil
        if photometric == "PALETTE COLOR" && palette == nil {
            throw IntakeError(.unsupportedPixelFormat, "PALETTE COLOR without a usable (non-segmented) palette")
        }
        if photometric == "YBR_FULL_422" || photometric == "YBR_PARTIAL_422" || photometric == "YBR_PARTIAL_420" {
            throw IntakeError(.unsupportedPixelFormat, "\(photometric) outside a JPEG stream is not supported")
        }
        let (outChannels, resultPhotometric) = outputLayout(info: info, header: header)
        let plane = info.rows * info.cols
        let frameCount = frames.count
        var stored = [Float](repeating: 0, count: info.valuesPerFrame)
        var voxels = [Float](repeating: 0, count: outChannels * frameCount * plane)
        try voxels.withUnsafeMutableBufferPointer { out in
            try stored.withUnsafeMutableBufferPointer { frameBuffer in
                for (slot, frame) in frames.enumerated() {
                    guard frame >= 0 && frame < info.frames else { throw IntakeError(.invalidAttribute, "frame \(frame) out of range") }
                    try file.decodeFrame(frame, into: frameBuffer)
                    let transform = frame < header.frameTransforms.count ? header.frameTransforms[frame] : .identity
                    let target = { (channel: Int) in (channel * frameCount + slot) * plane }
                    if let palette {
                        for c in 0..<3 { expand(frameBuffer, through: palette[c], into: out, at: target(c), count: plane) }
                    } else if info.samples == 3 {
                        if photometric == "YBR_FULL" { ybrToRGB(frameBuffer, plane: plane) }
                        for c in 0..<3 { copy(frameBuffer, from: c * plane, into: out, at: target(c), count: plane) }
                    } else {
                        let base = target(0)
                        let invert = photometric == "MONOCHROME1"
                        let (lo, hi) = transform.outputRange(storedMin: storedRange(info).0, storedMax: storedRange(info).1)
                        for p in 0..<plane {
                            let value = transform.apply(frameBuffer[p])
                            out[base + p] = invert ? Float(lo + hi) - value : value
                        }
                    }
                }
            }
        }
        return (voxels, outChannels, resultPhotometric)
    }

    /// Channels and photometric interpretation of the decoded voxels: palettes and colour become RGB.
    public static func outputLayout(info: PixelInfo, header: DicomHeader) -> (channels: Int, photometric: String) {
        let photometric = info.photometric.uppercased()
        if photometric == "PALETTE COLOR" || info.samples == 3 { return (3, "RGB") }
        return (info.samples, photometric == "MONOCHROME1" ? "MONOCHROME1" : "MONOCHROME2")
    }

    /// Range of representable stored values.
    static func storedRange(_ info: PixelInfo) -> (Double, Double) {
        let bits = Double(info.bitsStored)
        return info.isSigned ? (-pow(2, bits - 1), pow(2, bits - 1) - 1) : (0, pow(2, bits) - 1)
    }

    private static func copy(_ source: UnsafeMutableBufferPointer<Float>, from offset: Int,
                             into out: UnsafeMutableBufferPointer<Float>, at base: Int, count: Int) {
        out.baseAddress!.advanced(by: base).update(from: source.baseAddress!.advanced(by: offset), count: count)
    }

    private static func expand(_ indices: UnsafeMutableBufferPointer<Float>, through lut: LookupTable,
                               into out: UnsafeMutableBufferPointer<Float>, at base: Int, count: Int) {
        for p in 0..<count { out[base + p] = lut.lookup(indices[p]) }
    }

    /// YCbCr (full range, ITU-R BT.601) to RGB in place, rounding and clipping to 0...255 as pydicom does.
    static func ybrToRGB(_ planes: UnsafeMutableBufferPointer<Float>, plane: Int) {
        let gCb: Float = -0.114 * 1.772 / 0.587, gCr: Float = -0.299 * 1.402 / 0.587
        for p in 0..<plane {
            let y = planes[p], cb = planes[plane + p] - 128, cr = planes[2 * plane + p] - 128
            let r = y + 1.402 * cr, g = y + gCb * cb + gCr * cr, b = y + 1.772 * cb
            planes[p] = min(255, max(0, (r + 0.5).rounded(.down)))
            planes[plane + p] = min(255, max(0, (g + 0.5).rounded(.down)))
            planes[2 * plane + p] = min(255, max(0, (b + 0.5).rounded(.down)))
        }
    }
}
