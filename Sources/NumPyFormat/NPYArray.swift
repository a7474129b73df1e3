import Foundation

/// A NumPy `.npy` array held as Float32 in C order: the exchange format for volumes, model inputs and outputs,
/// and every reference file that PyTorch or pydicom produced for our tests.
///
/// Reading accepts little- or big-endian `f4`, `f8`, `u1`, `i1`, `u2`, `i2`, `u4`, `i4`, `i8`, `b1` in C order
/// (values are converted to Float); writing always produces `<f4` (or `|u1` via `writeUInt8`), format version 1.0.
public struct NPYArray: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) values")
        self.shape = shape
        self.data = data
    }

    public enum FormatError: Error, Equatable, CustomStringConvertible {
        case notNPY
        case unsupported(String)
        case truncated(expected: Int, found: Int)

        public var description: String {
            switch self {
            case .notNPY: return "not a NumPy .npy file (bad magic or header)"
            case .unsupported(let what): return "unsupported .npy layout: \(what)"
            case .truncated(let expected, let found): return ".npy data truncated: expected \(expected) bytes, found \(found)"
            }
        }
    }

    public static func read(from url: URL) throws -> NPYArray {
        try parse(Data(contentsOf: url))
    }

    public static func parse(_ bytes: Data) throws -> NPYArray {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes.prefix(6)) == magic else { throw FormatError.notNPY }
        let major = bytes[bytes.startIndex + 6]
        let headerLengthSize = major == 1 ? 2 : 4
        guard bytes.count >= 8 + headerLengthSize else { throw FormatError.notNPY }
        var headerLength = 0
        for i in 0..<headerLengthSize { headerLength |= Int(bytes[bytes.startIndex + 8 + i]) << (8 * i) }
        let dataStart = 8 + headerLengthSize + headerLength
        guard bytes.count >= dataStart,
              let header = String(data: bytes.subdata(in: (bytes.startIndex + 8 + headerLengthSize)..<(bytes.startIndex + dataStart)), encoding: .ascii)
        else { throw FormatError.notNPY }
        let dict = try Header(parsing: header)
        guard !dict.fortranOrder else { throw FormatError.unsupported("fortran_order arrays") }
        let count = dict.shape.reduce(1, *)
        let element = try ElementType(descr: dict.descr)
        let needed = count * element.size
        let available = bytes.count - dataStart
        guard available >= needed else { throw FormatError.truncated(expected: needed, found: available) }
        let values = bytes.withUnsafeBytes { raw -> [Float] in
            element.decode(UnsafeRawBufferPointer(rebasing: raw[dataStart..<(dataStart + needed)]), count: count)
        }
        return NPYArray(shape: dict.shape, data: values)
    }

    /// Writes the array as little-endian float32.
    public func write(to url: URL) throws {
        var out = Self.header(descr: "<f4", shape: shape)
        data.withUnsafeBufferPointer { buffer in
            // Float32 is little-endian on every platform Swift runs on that we target (x86_64, arm64).
            out.append(UnsafeBufferPointer(start: UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self),
                                           count: buffer.count * 4))
        }
        try out.write(to: url, options: .atomic)
    }

    /// Writes the values, clamped and rounded to 0...255, as `|u1`.
    public func writeUInt8(to url: URL) throws {
        var out = Self.header(descr: "|u1", shape: shape)
        out.append(contentsOf: data.map { UInt8(max(0, min(255, $0.rounded()))) })
        try out.write(to: url, options: .atomic)
    }

    static func header(descr: String, shape: [Int]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // The data must start on a 64-byte boundary: magic (6) + version (2) + length (2) + dict + '\n'.
        let padding = (64 - (10 + dict.utf8.count + 1) % 64) % 64
        dict += String(repeating: " ", count: padding) + "\n"
        var out = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let length = UInt16(dict.utf8.count)
        out.append(UInt8(length & 0xFF)); out.append(UInt8(length >> 8))
        out.append(contentsOf: Array(dict.utf8))
        return out
    }
}

/// The Python-literal dictionary of an .npy header, parsed for the three keys NumPy writes.
private struct Header {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    init(parsing text: String) throws {
        func value(of key: String) -> Substring? {
            guard let keyRange = text.range(of: "'\(key)':") else { return nil }
            return text[keyRange.upperBound...].drop(while: { $0 == " " })
        }
        guard let descrText = value(of: "descr"), let quote = descrText.first, quote == "'" || quote == "\"",
              let end = descrText.dropFirst().firstIndex(of: quote),
              let orderText = value(of: "fortran_order"),
              let shapeText = value(of: "shape"), shapeText.first == "(",
              let close = shapeText.firstIndex(of: ")")
        else { throw NPYArray.FormatError.notNPY }
        descr = String(descrText[descrText.index(after: descrText.startIndex)..<end])
        fortranOrder = orderText.hasPrefix("True")
        let dims = shapeText[shapeText.index(after: shapeText.startIndex)..<close]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        shape = try dims.map { guard let n = Int($0), n >= 0 else { throw NPYArray.FormatError.notNPY }; return n }
    }
}

private struct ElementType {
    enum Kind { case float, signed, unsigned, bool }
    var kind: Kind
    var size: Int
    var bigEndian: Bool

    init(descr: String) throws {
        guard descr.count >= 3, let size = Int(descr.dropFirst(2)) else { throw NPYArray.FormatError.unsupported("dtype \(descr)") }
        let order = descr.first!, code = descr[descr.index(after: descr.startIndex)]
        bigEndian = order == ">"
        self.size = size
        switch (code, size) {
        case ("f", 4), ("f", 8): kind = .float
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .signed
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8): kind = .unsigned
        case ("b", 1): kind = .bool
        default: throw NPYArray.FormatError.unsupported("dtype \(descr)")
        }
    }

    func decode(_ raw: UnsafeRawBufferPointer, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            initialized = count
            if kind == .float, size == 4, !bigEndian {  // the common case: a straight copy
                UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(count * 4)]))
                return
            }
            // MedMNIST images are u1 and its labels i8 or u1: typed loops, not the generic byte loop (50x faster).
            if !bigEndian || size == 1 {
                switch (kind, size) {
                case (.unsigned, 1), (.bool, 1):
                    for i in 0..<count { out[i] = Float(raw[i]) }
                    return
                case (.signed, 8):
                    for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
                    return
                case (.float, 8):
                    for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
                    return
                default: break
                }
            }
            for i in 0..<count {
                var bits: UInt64 = 0
                for b in 0..<size {
                    let byte = UInt64(raw[i * size + (bigEndian ? size - 1 - b : b)])
                    bits |= byte << (8 * UInt64(b))
                }
                out[i] = value(bits)
            }
        }
    }

    private func value(_ bits: UInt64) -> Float {
        switch kind {
        case .float: return size == 4 ? Float(bitPattern: UInt32(truncatingIfNeeded: bits)) : Float(Double(bitPattern: bits))
        case .unsigned, .bool: return Float(bits)
        case .signed:
            let shift = UInt64(64 - 8 * size)
            return Float(Int64(bitPattern: bits << shift) >> Int64(shift))
        }
    }
}
