import Foundation

/// Bounds-checked reads of fixed-width fields from a byte buffer: a field past the end is `truncated`,
/// never a crash.
struct ByteReader {
    let bytes: [UInt8]
    let littleEndian: Bool

    init(_ data: Data, littleEndian: Bool = true) {
        bytes = [UInt8](data)
        self.littleEndian = littleEndian
    }

    var count: Int { bytes.count }

    func check(_ offset: Int, _ size: Int, _ what: @autoclosure () -> String) throws(IntakeError) {
        guard offset >= 0, size >= 0, offset <= bytes.count - size else {
            throw IntakeError(.truncated, "\(what()) at byte \(offset) lies past the end of the data (\(bytes.count) bytes)")
        }
    }

    func unsigned(_ offset: Int, size: Int, _ what: @autoclosure () -> String) throws(IntakeError) -> UInt64 {
        try check(offset, size, what())
        var value: UInt64 = 0
        for i in 0..<size {
            let byte = UInt64(bytes[offset + (littleEndian ? i : size - 1 - i)])
            value |= byte << (8 * UInt64(i))
        }
        return value
    }

    func uint16(_ offset: Int, _ what: @autoclosure () -> String) throws(IntakeError) -> Int {
        Int(try unsigned(offset, size: 2, what()))
    }

    func uint32(_ offset: Int, _ what: @autoclosure () -> String) throws(IntakeError) -> Int {
        Int(try unsigned(offset, size: 4, what()))
    }

    func int32(_ offset: Int, _ what: @autoclosure () -> String) throws(IntakeError) -> Int {
        Int(Int32(truncatingIfNeeded: try unsigned(offset, size: 4, what())))
    }

    func float32(_ offset: Int, _ what: @autoclosure () -> String) throws(IntakeError) -> Float {
        Float(bitPattern: UInt32(try unsigned(offset, size: 4, what())))
    }

    func float64(_ offset: Int, _ what: @autoclosure () -> String) throws(IntakeError) -> Double {
        Double(bitPattern: try unsigned(offset, size: 8, what()))
    }

    /// A NUL-padded ASCII field, trimmed of padding and spaces.
    func string(_ offset: Int, length: Int, _ what: @autoclosure () -> String) throws(IntakeError) -> String {
        try check(offset, length, what())
        let field = bytes[offset..<(offset + length)].prefix { $0 != 0 }
        return String(decoding: field, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }
}
