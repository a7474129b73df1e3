import Foundation

public enum NPYError: Error, Equatable {
    case unreadable(String)
    case notNPY
    case unsupported(String)
    case truncated
}

/// A NumPy .npy array as Float32 in C order. Reads <f4 (and, converted, <f8, |u1, <i8); writes <f4.
public struct NPYArray: Equatable, Sendable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not match \(data.count) values")
        self.shape = shape
        self.data = data
    }

    public init(_ tensor: Tensor) { self.init(shape: tensor.shape, data: tensor.scalars) }
    public var tensor: Tensor { Tensor(shape: shape, data: data) }

    public static func read(from url: URL) throws(NPYError) -> NPYArray {
        let bytes: Data
        do { bytes = try Data(contentsOf: url) } catch { throw .unreadable(url.path) }
        return try decode(bytes)
    }

    public static func decode(_ bytes: Data) throws(NPYError) -> NPYArray {
        let b = [UInt8](bytes)
        guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else { throw .notNPY }
        let major = b[6]
        let lengthBytes = major == 1 ? 2 : 4
        guard b.count >= 8 + lengthBytes else { throw .truncated }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(b[8 + $1]) << (8 * $1) }
        let start = 8 + lengthBytes + headerLength
        guard b.count >= start, let header = String(bytes: b[(8 + lengthBytes)..<start], encoding: .ascii) else { throw .truncated }
        guard !header.contains("'fortran_order': True") else { throw .unsupported("Fortran order") }
        guard let descr = field(header, "descr")?.trimmingCharacters(in: CharacterSet(charactersIn: "'\" ")) else { throw .notNPY }
        guard let shapeText = header.range(of: "(").flatMap({ open in header.range(of: ")", range: open.upperBound..<header.endIndex).map { header[open.upperBound..<$0.lowerBound] } })
        else { throw .notNPY }
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let widths = ["<f4": 4, "<f8": 8, "|u1": 1, "<u1": 1, "<i8": 8]
        guard let width = widths[descr] else { throw .unsupported(descr) }
        guard b.count >= start + count * width else { throw .truncated }
        let values: [Float] = b.withUnsafeBytes { raw in
            (0..<count).map { i in
                let o = start + i * width
                switch descr {
                case "<f4": return Float(bitPattern: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self))
                case "<f8": return Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)))
                case "<i8": return Float(raw.loadUnaligned(fromByteOffset: o, as: Int64.self))
                default: return Float(raw[o])
                }
            }
        }
        return NPYArray(shape: shape, data: values)
    }

    private static func field(_ header: String, _ key: String) -> String? {
        guard let r = header.range(of: "'\(key)':") else { return nil }
        return header[r.upperBound...].split(separator: ",").first.map(String.init)
    }

    public func encoded() -> Data {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        // Version 1.0: the header plus its newline pads the preamble to a multiple of 64 bytes.
        while (10 + header.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)])
        out.append(Data(header.utf8))
        data.withUnsafeBufferPointer { out.append($0) }
        return out
    }

    public func write(to url: URL) throws {
        try encoded().write(to: url, options: .atomic)
    }
}
