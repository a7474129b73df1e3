import Foundation
import MedImaging
import Testing

@Suite struct VolumeRenderTests {
    @Test func middleSliceOfAnOCTVolume() throws {
        let scan = try SpectralisVolReader().read(Fixtures.url("oct/test_volume.vol"))
        let image = VolumeRender.middleSlice(of: scan.bscans)
        #expect(image.width == 50 && image.height == 40 && image.channels == 1)
        // Slice 5, min...max scaled: the slice's extreme voxels reach 0 and 255.
        let slice = Array(scan.bscans.voxels[(5 * 2000)..<(6 * 2000)])
        let low = slice.min()!, high = slice.max()!
        let index = slice.firstIndex(of: high)!
        #expect(image.pixels[index] == 255 && image.pixels[slice.firstIndex(of: low)!] == 0)
        let probe = 777
        #expect(image.pixels[probe] == UInt8(((slice[probe] - low) / (high - low) * 255).rounded()))
    }

    @Test func enFaceProjectionOfAnOCTVolumeCollapsesTheAxialAxis() throws {
        let volume = try SpectralisVolReader().read(Fixtures.url("oct/test_volume.vol")).bscans
        let mean = VolumeRender.projection(of: volume, .mean)
        #expect(mean.width == 50 && mean.height == 10)  // one row per B-scan
        let maximum = VolumeRender.projection(of: volume, .max, along: .depth)
        #expect(maximum.width == 50 && maximum.height == 40)
        #expect(maximum.pixels.contains(255) && maximum.pixels.contains(0))
    }

    @Test func windowedSliceAndColourRender() throws {
        var volume = Volume(voxels: [-100, 0, 100, 1000], shape: Volume.Shape(rows: 2, cols: 2))
        volume.metadata.windows = [Window(center: 0.5, width: 201)]  // linear from -100 (0) to 100 (255)
        #expect(VolumeRender.middleSlice(of: volume).pixels == [0, 128, 255, 255])
        let photo = try PhotoReader().read(Fixtures.url("photo/1681_left.jpg"))
        let image = VolumeRender.middleSlice(of: photo)
        #expect(image.channels == 3 && image.width == 512)
        let png = try PhotoReader().read(data: PNGWriter.encode(image))
        #expect(png.shape == photo.shape)
    }
}
