import Foundation
import Testing
@testable import MedImaging

/// MONOCHROME1 (higher stored value = darker) is inverted on reading so that higher always means brighter.
struct DicomMonochrome1Tests {
    static let chest = Fixtures.url("dicom/fo-dicom/CR-MONO1-10-chest")

    @Test func valuesAreInvertedOverTheStoredRange() throws {
        let volume = try #require(ScanReader.read(Self.chest).volumes.first)
        let file = try DicomFile(url: Self.chest)
        let header = DicomHeader(file: file, url: Self.chest)
        let info = try #require(header.pixels)
        var stored = [Float](repeating: 0, count: info.valuesPerFrame)
        try stored.withUnsafeMutableBufferPointer { try file.decodeFrame(0, into: $0) }
        let top = Float(1 << info.bitsStored) - 1  // no rescale in this file: the range is 0 ... 2^bits - 1
        #expect(volume.metadata.photometric == "MONOCHROME1")
        #expect(zip(volume.voxels, stored).allSatisfy { $0 == top - $1 })
    }

    @Test func windowsAreMirroredWithTheValues() throws {
        let volume = try #require(ScanReader.read(Self.chest).volumes.first)
        let header = try DicomReader.header(at: Self.chest)
        let stated = try #require(header.windows.first)
        let top = Double(1 << (header.pixels?.bitsStored ?? 0)) - 1
        #expect(volume.metadata.windows.first == Window(center: top - stated.center, width: stated.width))
    }
}

/// The VOI LUT Sequence is kept as metadata and applied only when a model's pipeline asks for the image's VOI.
struct DicomVOITests {
    @Test func windowStepWithoutValuesUsesTheVOILUT() throws {
        let url = Fixtures.url("dicom/pydicom-data/vlut_04.dcm")
        let volume = try #require(ScanReader.read(url).volumes.first)
        let lut = try #require(volume.metadata.voiLUT)
        let header = try DicomReader.header(at: url)
        #expect(header.voiLUT == lut)
        let windowed = try IntensityPipeline([.window(center: nil, width: nil)]).applied(to: volume)
        let top = Float((1 << lut.bits) - 1)
        #expect(zip(windowed.voxels, volume.voxels).allSatisfy { $0 == lut.lookup($1) / top })
        #expect(windowed.voxels.allSatisfy { (0...1).contains($0) })
    }
}
