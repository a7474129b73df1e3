import Foundation
import MedImaging
import Testing

@Suite struct PhotoReaderTests {
    let reader = PhotoReader()

    @Test func readsColourFundusJPEG() throws {
        let volume = try reader.read(Fixtures.url("photo/1681_left.jpg"))
        #expect(volume.shape == Volume.Shape(channels: 3, depth: 1, rows: 512, cols: 512))
        #expect(volume.metadata.kind == "jpeg")
        #expect(volume.metadata.photometric == "RGB")
        #expect(volume.voxels.allSatisfy { $0 >= 0 && $0 <= 255 })
        // A cropped fundus photograph: black corner, lit centre, red the strongest channel at the centre.
        let plane = 512 * 512, centre = 256 * 512 + 256
        #expect(volume.voxels[0] < 20)
        #expect(volume.voxels[centre] > 40)
        #expect(volume.voxels[centre] > volume.voxels[2 * plane + centre])
    }

    @Test func readsGreyOCTBScanJPEG() throws {
        let volume = try reader.read(Fixtures.url("photo/DME-9603124-1.jpeg"))
        #expect(volume.shape == Volume.Shape(channels: 1, depth: 1, rows: 496, cols: 512))
        #expect(volume.metadata.photometric == "MONOCHROME2")
        let mean = volume.voxels.reduce(0, +) / Float(volume.voxels.count)
        #expect(mean > 20 && mean < 120)  // the data set's B-scans average 31...72 grey levels
    }

    /// Pillow (its own libjpeg build) decoded the same files; tools/imaging/make_photo_refs.py kept a centre crop.
    @Test(arguments: ["1681_left.jpg", "1410_left.jpg", "DME-9603124-1.jpeg"])
    func jpegPixelsMatchPillow(name: String) throws {
        let volume = try reader.read(Fixtures.url("photo/\(name)"))
        let reference = try Fixtures.npy("photo/refs/\(URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent)_crop.npy")
        var crop: [Float] = []
        for c in 0..<volume.shape.channels {
            for r in 224..<288 {
                let start = (c * volume.shape.rows + r) * volume.shape.cols + 224
                crop += volume.voxels[start..<(start + 64)]
            }
        }
        #expect(reference.shape == [volume.shape.channels, 1, 64, 64])
        #expect(Fixtures.maxDifference(crop, reference.data) <= 1)  // identical here; other libjpeg builds may round the IDCT by 1
    }

    @Test func progressiveJPEGMatchesPillowAndCMYKIsRefused() throws {
        let progressive = try reader.read(Fixtures.url("photo/refs/progressive.jpg"))
        let expected = try Fixtures.npy("photo/refs/progressive_expected.npy")
        #expect(progressive.shape.array == expected.shape)
        #expect(Fixtures.maxDifference(progressive.voxels, expected.data) <= 1)
        #expect(Fixtures.reason { try reader.read(Fixtures.url("photo/refs/cmyk.jpg")) } == .unsupportedPixelFormat)
    }

    @Test func sniffsByContentNotExtension() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let misnamed = folder.appendingPathComponent("fundus.png")
        try FileManager.default.copyItem(at: Fixtures.url("photo/1410_left.jpg"), to: misnamed)
        #expect(try reader.read(misnamed).metadata.kind == "jpeg")
    }

    @Test(arguments: ["palette", "palette_trns", "grey_alpha", "grey_1bit", "rgb16"])
    func decodesPNGLayoutsToTheirPixelValues(name: String) throws {
        let volume = try reader.read(Fixtures.url("photo/png/\(name).png"))
        let expected = try Fixtures.npy("photo/png/\(name)_expected.npy")
        #expect(volume.shape.array == expected.shape)
        #expect(volume.voxels == expected.data)
        #expect(volume.metadata.warnings.contains("alpha channel dropped") == (name == "palette_trns" || name == "grey_alpha"))
        #expect(volume.metadata.bitsStored == (name == "rgb16" ? 16 : 8))
    }

    @Test func brokenAndForeignInputsGiveReasonCodes() throws {
        #expect(Fixtures.reason { try reader.read(Fixtures.url("photo/png/truncated.png")) } == .decodeFailed)
        #expect(Fixtures.reason { try reader.read(Fixtures.url("photo/png/bad_crc.png")) } == .decodeFailed)
        #expect(Fixtures.reason { try reader.read(Fixtures.url("oct/invalid.vol")) } == .empty)
        #expect(Fixtures.reason { try reader.read(Fixtures.url("oct/test_volume.vol")) } == .unsupportedFormat)
        #expect(Fixtures.reason { try reader.read(Fixtures.url("photo/missing.png")) } == .notFound)
        #expect(Fixtures.reason { try reader.read(Fixtures.url("photo")) } == .unsupportedFormat)
    }

    @Test func truncatedJPEGDecodesWithAWarningOrFails() throws {
        let data = try Data(contentsOf: Fixtures.url("photo/1681_left.jpg"))
        // libjpeg pads a cut-off scan and warns; we surface the warning rather than silently passing grey.
        let volume = try reader.read(data: data.prefix(data.count / 2))
        #expect(volume.shape.rows == 512)
        #expect(volume.metadata.warnings.contains { $0.contains("corrupt-data warning") })
        #expect(Fixtures.reason { try reader.read(data: data.prefix(200)) } == .decodeFailed)
    }

    @Test func pixelLimitRejectsBeforeDecoding() {
        let small = PhotoReader(limits: IntakeLimits(maxPixels: 100 * 100))
        #expect(Fixtures.reason { try small.read(Fixtures.url("photo/1681_left.jpg")) } == .tooLarge)
        #expect(Fixtures.reason { try small.read(Fixtures.url("photo/png/rgb16.png")) } == nil)
    }
}
