import Foundation

/// Baseline TIFF without compression (what Heidelberg's XML export and many OCT tools write for B-scans):
/// 8- or 16-bit grey (BlackIsZero or WhiteIsZero) and 8-bit RGB, chunky, in strips. Anything else is
/// `unsupported_format` with the reason; libtiff is not a dependency.
enum TIFFDecoder {
    private enum Tag: Int {
        case width = 256, height = 257, bitsPerSample = 258, compression = 259, photometric = 262,
             stripOffsets = 273, samplesPerPixel = 277, stripByteCounts = 279, planarConfiguration = 284
    }

    static func decode(_ data: Data, limits: IntakeLimits) throws(IntakeError) -> DecodedImage {
        guard data.count >= 8, let order = data.first, order == 0x49 || order == 0x4D else {
            throw IntakeError(.unsupportedFormat, "not a TIFF file")
        }
        let reader = ByteReader(data, littleEndian: order == 0x49)
        let ifd = try reader.uint32(4, "TIFF first IFD offset")
        let entryCount = try reader.uint16(ifd, "TIFF IFD entry count")
        var fields: [Int: [Int]] = [:]
        for index in 0..<entryCount {
            let entry = ifd + 2 + index * 12
            let tag = try reader.uint16(entry, "TIFF tag")
            guard Tag(rawValue: tag) != nil else { continue }
            fields[tag] = try values(reader, entry: entry)
        }
        func field(_ tag: Tag, default value: Int? = nil) throws(IntakeError) -> Int {
            if let found = fields[tag.rawValue]?.first { return found }
            if let value { return value }
            throw IntakeError(.invalidAttribute, "TIFF lacks required tag \(tag)")
        }
        let width = try field(.width), height = try field(.height)
        let samples = try field(.samplesPerPixel, default: 1), bits = try field(.bitsPerSample, default: 1)
        let compression = try field(.compression, default: 1), photometric = try field(.photometric)
        let planar = try field(.planarConfiguration, default: 1)
        guard compression == 1 else { throw IntakeError(.unsupportedFormat, "compressed TIFF (compression \(compression)) is not supported") }
        guard (samples == 1 && (photometric == 0 || photometric == 1) && (bits == 8 || bits == 16))
                || (samples == 3 && photometric == 2 && bits == 8 && planar == 1) else {
            throw IntakeError(.unsupportedFormat, "TIFF with \(samples) sample(s) of \(bits) bits, photometric \(photometric), is not supported")
        }
        guard width > 0, height > 0 else { throw IntakeError(.invalidAttribute, "TIFF has zero width or height") }
        guard width <= limits.maxPixels, height <= limits.maxPixels,  // keeps the product from overflowing
              width * height <= limits.maxPixels else { throw IntakeError(.tooLarge, "TIFF exceeds the pixel limit") }

        let offsets = fields[Tag.stripOffsets.rawValue] ?? [], counts = fields[Tag.stripByteCounts.rawValue] ?? []
        guard !offsets.isEmpty, offsets.count == counts.count else { throw IntakeError(.invalidAttribute, "TIFF strip tables are missing or differ in length") }
        let bytesPerSample = bits / 8, needed = width * height * samples * bytesPerSample
        var raw = [UInt8]()
        raw.reserveCapacity(needed)
        for (offset, count) in zip(offsets, counts) where raw.count < needed {
            let take = min(count, needed - raw.count)
            try reader.check(offset, take, "TIFF strip")
            raw.append(contentsOf: reader.bytes[offset..<(offset + take)])
        }
        guard raw.count == needed else { throw IntakeError(.truncated, "TIFF strips hold \(raw.count) of \(needed) bytes") }

        var image: DecodedImage
        if bits == 16 {
            let words = (0..<(width * height)).map { i -> UInt16 in
                let a = UInt16(raw[2 * i]), b = UInt16(raw[2 * i + 1])
                return reader.littleEndian ? a | b << 8 : a << 8 | b
            }
            image = words.withUnsafeBufferPointer {
                DecodedImage(interleaved: $0, width: width, height: height, channels: 1, keptChannels: 1, bitDepth: 16)
            }
        } else {
            image = raw.withUnsafeBufferPointer {
                DecodedImage(interleaved: $0, width: width, height: height, channels: samples, keptChannels: samples, bitDepth: 8)
            }
        }
        if photometric == 0 {  // WhiteIsZero: invert so that higher means brighter
            let maximum = Float((1 << bits) - 1)
            image.planes.withUnsafeMutableBufferPointer { planes in
                for i in planes.indices { planes[i] = maximum - planes[i] }
            }
        }
        return image
    }

    /// The values of one IFD entry (SHORT or LONG), inline or at the offset the entry gives.
    private static func values(_ reader: ByteReader, entry: Int) throws(IntakeError) -> [Int] {
        let type = try reader.uint16(entry + 2, "TIFF field type")
        let count = try reader.uint32(entry + 4, "TIFF field count")
        let size: Int
        switch type {
        case 3: size = 2
        case 4: size = 4
        default: return []
        }
        guard count <= reader.count / size else { throw IntakeError(.truncated, "TIFF field count \(count) exceeds the file") }
        let start = count * size <= 4 ? entry + 8 : try reader.uint32(entry + 8, "TIFF field offset")
        var result: [Int] = []
        result.reserveCapacity(count)
        for i in 0..<count {
            result.append(size == 2 ? try reader.uint16(start + i * size, "TIFF value") : try reader.uint32(start + i * size, "TIFF value"))
        }
        return result
    }
}
