import Foundation
import MedImaging
import Testing

@Suite struct VolumeRenderTests {
    @Test func middleSliceOfAnOCTVolume() throws {
        let scan = try SpectralisVolReader().read(Fixtures.url("oct/test_volume.vol"))
        let image = VolumeRender.middleSlice(of: scan.bscans)
        #expect(image.width == 50 && image.height == 40 && image.channels == 1)
        // Slice 5, as 4th root scaled to min...max: the slice's extreme voxels reach 0 and 255.
        let slice = Array(scan.bscans.voxels[(5 * 2000)..<(6 * 2000)])
        let low = slice.min()!, high = slice.max()!
        #expect(image.pixels[slice.firstIndex(of: high)!] == 255 && image.pixels[slice.firstIndex(of: low)!] == 0)
        let probe = 777, root = { (x: Float) in pow(x, 0.25) }
        let expected = (root(slice[probe]) - root(low)) / (root(high) - root(low)) * 255
        #expect(abs(Float(image.pixels[probe]) - expected) <= 0.5001)
    }

    @Test func realSpectralisBScanRendersVisibly() throws {
        let scan = try SpectralisVolReader().read(Fixtures.url("oct/Willis_B_716_0.vol"))
        let image = VolumeRender.middleSlice(of: scan.bscans)
        #expect(image.width == 768 && image.height == 496)
        // NumPy on the same bytes: mean grey 33.634 as 4th root, against 3.18 if mapped linearly (nearly black).
        let mean = Double(image.pixels.reduce(0) { $0 + Int($1) }) / Double(image.pixels.count)
        #expect(abs(mean - 33.634) < 0.05)
        let fundus = VolumeRender.middleSlice(of: scan.fundus)
        #expect(fundus.width == 768 && fundus.height == 768)
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
