import Foundation
@testable import NumPyFormat
import Testing

struct NPYArrayTests {
    @Test func float32RoundTripKeepsShapeAndValues() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString).npy")
        defer { try? FileManager.default.removeItem(at: url) }
        let array = NPYArray(shape: [2, 3, 4], data: (0..<24).map { Float($0) * 0.5 - 3 })
        try array.write(to: url)
        let bytes = try Data(contentsOf: url)
        // Data starts on a 64-byte boundary, as NumPy's format 1.0 requires.
        #expect((bytes.count - 24 * 4) % 64 == 0)
        #expect(try NPYArray.read(from: url) == array)
    }

    @Test func readsOtherDtypesAndByteOrders() throws {
        // Hand-assembled headers for '>i2' and '|u1': the header text is NumPy's own format.
        func file(_ descr: String, _ shape: String, _ payload: [UInt8]) -> Data {
            var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
            dict += String(repeating: " ", count: (64 - (10 + dict.utf8.count + 1) % 64) % 64) + "\n"
            var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(dict.utf8.count & 0xFF), UInt8(dict.utf8.count >> 8)])
            data.append(contentsOf: Array(dict.utf8))
            data.append(contentsOf: payload)
            return data
        }
        let big = try NPYArray.parse(file(">i2", "(3,)", [0xFF, 0xFE, 0x01, 0x00, 0x00, 0x02]))
        #expect(big.shape == [3] && big.data == [-2, 256, 2])
        let bytes = try NPYArray.parse(file("|u1", "(2, 2)", [0, 1, 254, 255]))
        #expect(bytes.shape == [2, 2] && bytes.data == [0, 1, 254, 255])
    }

    @Test func rejectsWhatItCannotRead() {
        #expect(throws: NPYArray.FormatError.notNPY) { try NPYArray.parse(Data("not numpy".utf8)) }
        var truncated = NPYArray.header(descr: "<f4", shape: [10])
        truncated.append(contentsOf: [0, 0, 0, 0])
        #expect(throws: NPYArray.FormatError.truncated(expected: 40, found: 4)) { try NPYArray.parse(truncated) }
    }
}
