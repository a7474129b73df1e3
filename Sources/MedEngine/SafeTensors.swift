import Foundation

public enum SafeTensorsError: Error, Equatable {
    case unreadable(String)
    case malformedHeader(String)
    case unsupportedDType(String)
    case outOfBounds(String)
}

/// The safetensors format: an 8-byte little-endian header length, a JSON header
/// {name: {dtype, shape, data_offsets}}, then the raw little-endian data.
public enum SafeTensors {
    /// Reads every tensor as Float32 (F32, F16, BF16, F64, I64 and I32 are converted). The file is memory-mapped,
    /// so only the pages being converted are resident.
    public static func read(from url: URL) throws(SafeTensorsError) -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch { throw .unreadable(url.path) }
        return try decode(data)
    }

    public static func decode(_ data: Data) throws(SafeTensorsError) -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard data.count >= 8 else { throw .malformedHeader("file shorter than 8 bytes") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else { throw .malformedHeader("header length \(headerLength) past end") }
        let start = data.startIndex + 8, base = start + Int(headerLength)
        guard let json = try? JSONSerialization.jsonObject(with: data[start..<base]) as? [String: Any] else {
            throw .malformedHeader("header is not a JSON object")
        }
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in json {
            if name == "__metadata__" { metadata = value as? [String: String] ?? [:]; continue }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw .malformedHeader("entry \(name)") }
            guard let width = byteWidth[dtype] else { throw .unsupportedDType(dtype) }
            let count = shape.reduce(1, *)
            guard offsets[0] >= 0, offsets[1] - offsets[0] == count * width, base + offsets[1] <= data.endIndex else {
                throw .outOfBounds(name)
            }
            var t = Tensor.uninitialized(shape)
            data[(base + offsets[0])..<(base + offsets[1])].withUnsafeBytes { raw in
                t.withUnsafeMutableBufferPointer { out in convert(raw, dtype: dtype, into: out) }
            }
            tensors[name] = t
        }
        return (tensors, metadata)
    }

    private static let byteWidth = ["F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4]

    private static func convert(_ raw: UnsafeRawBufferPointer, dtype: String, into out: UnsafeMutableBufferPointer<Float>) {
        for i in out.indices {
            switch dtype {
            case "F32": out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            case "F16": out[i] = Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
            case "BF16": out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
            case "F64": out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            case "I64": out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
            default: out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            }
        }
    }

    /// Encodes tensors as F32, except `num_batches_tracked`, which PyTorch keeps as I64.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> Data {
        var header: [String: Any] = metadata.isEmpty ? [:] : ["__metadata__": metadata]
        var body = Data()
        for name in tensors.keys.sorted() {
            let t = tensors[name]!
            let start = body.count
            if name.hasSuffix("num_batches_tracked") {
                for v in t.scalars { withUnsafeBytes(of: Int64(v).littleEndian) { body.append(contentsOf: $0) } }
            } else {
                t.withUnsafeBufferPointer { b in body.append(UnsafeBufferPointer(start: b.baseAddress, count: b.count)) }
            }
            header[name] = ["dtype": name.hasSuffix("num_batches_tracked") ? "I64" : "F32", "shape": t.shape,
                            "data_offsets": [start, body.count]] as [String: Any]
        }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while (json.count + 8) % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + body
    }

    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        try encode(tensors, metadata: metadata).write(to: url, options: .atomic)
    }
}
