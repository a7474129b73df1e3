import Foundation
import MedImaging
import Testing

@Suite struct PNGWriterTests {
    @Test(arguments: [1, 3, 4])
    func eightBitImagesRoundTrip(channels: Int) throws {
        let (width, height) = (7, 5)
        let pixels = (0..<(width * height * channels)).map { UInt8(($0 * 37) % 256) }
        let data = try PNGWriter.encode(RasterImage(width: width, height: height, channels: channels, pixels: pixels))
        let volume = try PhotoReader().read(data: data)
        let kept = channels == 4 ? 3 : channels
        #expect(volume.shape == Volume.Shape(channels: kept, depth: 1, rows: height, cols: width))
        // Read back planar; compare with the interleaved source.
        for c in 0..<kept {
            for i in 0..<(width * height) {
                #expect(volume.voxels[c * width * height + i] == Float(pixels[i * channels + c]))
            }
        }
    }

    @Test func sixteenBitGreyRoundTrips() throws {
        let samples: [UInt16] = [0, 1, 255, 256, 4095, 32768, 65534, 65535, 1234, 4321, 40000, 7]
        let volume = try PhotoReader().read(data: PNGWriter.encodeGray16(samples, width: 4, height: 3))
        #expect(volume.voxels == samples.map(Float.init))
        #expect(volume.metadata.bitsStored == 16)
    }

    @Test func writesFiles() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("grey.png")
        try PNGWriter.write(RasterImage(width: 2, height: 2, channels: 1, pixels: [0, 85, 170, 255]), to: url)
        #expect(try PhotoReader().read(url).voxels == [0, 85, 170, 255])
        let unwritable = URL(fileURLWithPath: "/nonexistent-folder/x.png")
        #expect(Fixtures.reason { try PNGWriter.write(RasterImage(width: 1, height: 1, channels: 1, pixels: [0]), to: unwritable) } == .ioError)
    }
}
