/// Expands a segmented palette colour LUT (PS3.3 C.7.9.2): discrete, linear and indirect segments, with the
/// same rounding as pydicom (linear segments are NumPy's linspace, rounded half to even).
enum SegmentedPalette {
    /// Entries beyond this, or indirections deeper than `maxDepth`, mean a corrupt table.
    static let maxEntries = 65536
    static let maxDepth = 4

    static func expand(_ data: [UInt16]) throws -> [UInt16] {
        var lut: [UInt16] = []
        try expand(data, from: 0, segments: Int.max, depth: 0, into: &lut)
        return lut
    }

    private static func expand(_ data: [UInt16], from start: Int, segments: Int, depth: Int, into lut: inout [UInt16]) throws {
        guard depth <= maxDepth else { throw IntakeError(.decodeFailed, "segmented palette nests too deep") }
        var offset = start, done = 0
        while offset + 1 < data.count && done < segments {
            let opcode = data[offset], length = Int(data[offset + 1])
            offset += 2
            switch opcode {
            case 0:
                guard offset + length <= data.count else { throw IntakeError(.decodeFailed, "discrete palette segment overruns its data") }
                lut += data[offset..<(offset + length)]
                offset += length
            case 1:
                guard let y0 = lut.last, offset < data.count, length > 0 else {
                    throw IntakeError(.decodeFailed, "linear palette segment without a start value")
                }
                let y1 = Double(data[offset])
                offset += 1
                let first = Double(y0) + (y1 - Double(y0)) / Double(length)
                for i in 0..<length {
                    let t = length == 1 ? y1 : first + Double(i) * (y1 - first) / Double(length - 1)
                    lut.append(UInt16(max(0, min(65535, t.rounded(.toNearestOrEven)))))
                }
            case 2:
                guard offset + 1 < data.count else { throw IntakeError(.decodeFailed, "indirect palette segment truncated") }
                let target = Int(data[offset]) | Int(data[offset + 1]) << 16
                offset += 2
                try expand(data, from: target, segments: length, depth: depth + 1, into: &lut)
            default:
                throw IntakeError(.decodeFailed, "unknown palette segment opcode \(opcode)")
            }
            done += 1
            guard lut.count <= maxEntries else { throw IntakeError(.decodeFailed, "segmented palette expands past 65536 entries") }
        }
    }
}
