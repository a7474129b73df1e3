import Foundation
@testable import MedImaging
import Testing

@Suite struct BScanFolderReaderTests {
    @Test func naturalOrderPutsB2BeforeB10() {
        let names = ["B10.tif", "B2.tif", "B1.tif", "b11.tif", "B01.tif", "NIR1.tif"]
        #expect(names.sorted(by: NaturalOrder.areInIncreasingOrder) == ["B01.tif", "B1.tif", "B2.tif", "B10.tif", "b11.tif", "NIR1.tif"])
        #expect(NaturalOrder.stem("B12.tif") == "B.tif")
    }

    @Test func readsHeyexTIFFExportAsOneVolume() throws {
        let volume = try BScanFolderReader().read(Fixtures.url("oct/heyex_xml"))
        #expect(volume.shape == Volume.Shape(channels: 1, depth: 11, rows: 40, cols: 50))
        #expect(volume.metadata.kind == "bscan-folder")
        #expect(volume.metadata.warnings == ["ignored 1 image(s) outside the B-scan series: NIR1.tif"])
        // Slice 1 is B2.tif, not B10.tif: compare with the file read on its own.
        let b2 = try TIFFDecoder.decode(Data(contentsOf: Fixtures.url("oct/heyex_xml/B2.tif")), limits: .default)
        #expect(Array(volume.voxels[2000..<4000]) == b2.planes)
        let b10 = try TIFFDecoder.decode(Data(contentsOf: Fixtures.url("oct/heyex_xml/B10.tif")), limits: .default)
        #expect(Array(volume.voxels[(9 * 2000)..<(10 * 2000)]) == b10.planes)
    }

    @Test func readsPNGBScansWrittenByOurWriter() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        for index in [1, 2, 10] {
            let pixels = (0..<12).map { UInt8($0 + 20 * index) }
            try PNGWriter.write(RasterImage(width: 4, height: 3, channels: 1, pixels: pixels), to: folder.appendingPathComponent("scan_\(index).png"))
        }
        try Data("notes".utf8).write(to: folder.appendingPathComponent("readme.txt"))
        try Data().write(to: folder.appendingPathComponent("scan_11.png"))  // a file still being written
        let volume = try BScanFolderReader().read(folder)
        #expect(volume.shape == Volume.Shape(channels: 1, depth: 3, rows: 3, cols: 4))
        #expect([volume.voxels[0], volume.voxels[12], volume.voxels[24]] == [20, 40, 200])
        #expect(volume.metadata.warnings.isEmpty)
    }

    @Test func keepsChannelsOutermostForColourSlices() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        for index in 1...2 {
            let pixels: [UInt8] = [UInt8(index), 100, 200, UInt8(index), 101, 201]  // 2 pixels, RGB interleaved
            try PNGWriter.write(RasterImage(width: 2, height: 1, channels: 3, pixels: pixels), to: folder.appendingPathComponent("B\(index).png"))
        }
        let volume = try BScanFolderReader().read(folder)
        #expect(volume.shape == Volume.Shape(channels: 3, depth: 2, rows: 1, cols: 2))
        #expect(volume.voxels == [1, 1, 2, 2, 100, 101, 100, 101, 200, 201, 200, 201])
    }

    @Test func mismatchedSizesAreAnInconsistentSeries() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try PNGWriter.write(RasterImage(width: 2, height: 2, channels: 1, pixels: [1, 2, 3, 4]), to: folder.appendingPathComponent("B1.png"))
        try PNGWriter.write(RasterImage(width: 2, height: 1, channels: 1, pixels: [1, 2]), to: folder.appendingPathComponent("B2.png"))
        #expect(Fixtures.reason { try BScanFolderReader().read(folder) } == .inconsistentSeries)
    }

    @Test func emptyMissingAndBrokenFolders() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(Fixtures.reason { try BScanFolderReader().read(folder) } == .empty)
        #expect(Fixtures.reason { try BScanFolderReader().read(folder.appendingPathComponent("absent")) } == .notFound)
        try FileManager.default.copyItem(at: Fixtures.url("photo/png/truncated.png"), to: folder.appendingPathComponent("B1.png"))
        #expect(Fixtures.reason { try BScanFolderReader().read(folder) } == .decodeFailed)
    }

    @Test func compressedTIFFIsUnsupportedWithAReason() throws {
        var bytes = [UInt8](try Data(contentsOf: Fixtures.url("oct/heyex_xml/B1.tif")))
        // Rewrite the Compression tag (259) value to 5 (LZW) in the first IFD.
        let ifd = Int(bytes[4]) | Int(bytes[5]) << 8
        let entries = Int(bytes[ifd]) | Int(bytes[ifd + 1]) << 8
        let entry = (0..<entries).map { ifd + 2 + 12 * $0 }.first { Int(bytes[$0]) | Int(bytes[$0 + 1]) << 8 == 259 }!
        bytes[entry + 8] = 5
        #expect(Fixtures.reason { try TIFFDecoder.decode(Data(bytes), limits: .default) } == .unsupportedFormat)
    }
}
