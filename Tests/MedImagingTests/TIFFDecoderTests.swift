import Foundation
@testable import MedImaging
import Testing

@Suite struct TIFFDecoderTests {
    /// A one-strip uncompressed TIFF assembled from the baseline specification, in either byte order.
    static func tiff(width: Int, height: Int, bits: Int, samples: Int, photometric: Int, bigEndian: Bool, pixels: [UInt8]) -> Data {
        func put(_ value: Int, _ size: Int, into bytes: inout [UInt8]) {
            let le = (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
            bytes += bigEndian ? le.reversed() : le
        }
        var out: [UInt8] = bigEndian ? [0x4D, 0x4D, 0, 42] : [0x49, 0x49, 42, 0]
        let entries: [(tag: Int, type: Int, value: Int)] = [
            (256, 3, width), (257, 3, height), (258, 3, bits), (259, 3, 1), (262, 3, photometric),
            (273, 4, 8 + 2 + 10 * 12 + 4), (277, 3, samples), (278, 3, height), (279, 4, pixels.count), (284, 3, 1),
        ]
        put(8, 4, into: &out)
        put(entries.count, 2, into: &out)
        for entry in entries {
            put(entry.tag, 2, into: &out); put(entry.type, 2, into: &out); put(1, 4, into: &out)
            // A SHORT sits left-justified in the 4-byte value field.
            if entry.type == 3 { put(entry.value, 2, into: &out); put(0, 2, into: &out) } else { put(entry.value, 4, into: &out) }
        }
        put(0, 4, into: &out)
        return Data(out + pixels)
    }

    @Test func sixteenBitGreyInBothByteOrders() throws {
        let values: [UInt16] = [0, 1, 300, 65535, 4096, 12345]
        for bigEndian in [false, true] {
            let bytes = values.flatMap { bigEndian ? [UInt8($0 >> 8), UInt8($0 & 0xFF)] : [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            let image = try TIFFDecoder.decode(Self.tiff(width: 3, height: 2, bits: 16, samples: 1, photometric: 1,
                                                          bigEndian: bigEndian, pixels: bytes), limits: .default)
            #expect(image.planes == values.map(Float.init) && image.bitDepth == 16)
        }
    }

    @Test func whiteIsZeroIsInvertedAndRGBIsPlanar() throws {
        let inverted = try TIFFDecoder.decode(Self.tiff(width: 2, height: 1, bits: 8, samples: 1, photometric: 0,
                                                         bigEndian: false, pixels: [0, 200]), limits: .default)
        #expect(inverted.planes == [255, 55])
        let rgb = try TIFFDecoder.decode(Self.tiff(width: 2, height: 1, bits: 8, samples: 3, photometric: 2,
                                                    bigEndian: true, pixels: [1, 2, 3, 4, 5, 6]), limits: .default)
        #expect(rgb.channels == 3 && rgb.planes == [1, 4, 2, 5, 3, 6])
    }

    @Test func photoReaderTakesTIFFToo() throws {
        let fundus = try PhotoReader().read(Fixtures.url("oct/heyex_xml/NIR1.tif"))
        #expect(fundus.shape == Volume.Shape(channels: 1, depth: 1, rows: 50, cols: 50) && fundus.metadata.kind == "tiff")
    }

    @Test func realHeyexBScanTIFF() throws {
        let image = try TIFFDecoder.decode(Data(contentsOf: Fixtures.url("oct/heyex_xml/B1.tif")), limits: .default)
        #expect(image.width == 50 && image.height == 40 && image.channels == 1 && image.bitDepth == 8)
        // The pixel data is the last 2000 bytes of this 2256-byte file (one strip after the IFD).
        let tail = try Data(contentsOf: Fixtures.url("oct/heyex_xml/B1.tif")).suffix(2000)
        #expect(image.planes == tail.map(Float.init))
    }

    @Test func unsupportedLayoutsAndShortStrips() {
        #expect(Fixtures.reason { try TIFFDecoder.decode(Self.tiff(width: 2, height: 1, bits: 4, samples: 1, photometric: 1,
                                                                   bigEndian: false, pixels: [0]), limits: .default) } == .unsupportedFormat)
        #expect(Fixtures.reason { try TIFFDecoder.decode(Self.tiff(width: 4, height: 4, bits: 8, samples: 1, photometric: 1,
                                                                   bigEndian: false, pixels: [1, 2, 3]), limits: .default) } == .truncated)
    }
}
