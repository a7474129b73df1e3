import Foundation
import Testing
@testable import MedImaging

struct DicomMultiFrameTests {
    @Test func enhancedCTAssemblesFromPerFrameFunctionalGroups() throws {
        let url = Fixtures.url("dicom/pydicom-data/eCT_Supplemental.dcm")
        let result = ScanReader.read(url)
        let volume = try #require(result.volumes.first)
        #expect(result.volumes.count == 1)
        #expect(volume.metadata.kind == "dicom-multiframe")
        #expect(volume.shape == Volume.Shape(channels: 1, depth: 2, rows: 512, cols: 512))

        // Positions come from each frame's PlanePositionSequence; the slice step is their distance.
        let header = try DicomReader.header(at: url)
        #expect(header.isEnhancedMultiFrame)
        let positions = header.framePositions.compactMap { $0 }
        #expect(positions.count == 2)
        let step = sqrt(zip(positions[0], positions[1]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +))
        #expect(abs(volume.geometry.spacing[2] - step) < 1e-9)
        #expect(volume.geometry.spacing[0] > 0 && volume.geometry.spacing[0] < 1)
        // The per-frame rescale (PixelValueTransformationSequence) gives Hounsfield units: air near -1024.
        #expect((volume.voxels.min() ?? 0) <= -1000)
    }

    @Test func multiFrameWithoutPerFramePositionsKeepsStoredOrder() throws {
        let url = Fixtures.url("dicom/pydicom-data/emri_small.dcm")
        let volume = try #require(ScanReader.read(url).volumes.first)
        #expect(volume.shape.depth == 10)
        #expect(volume.metadata.warnings.contains { $0.contains("stored order") })
        // Frame k of the volume is frame k of the file.
        let file = try DicomFile(url: url)
        let header = DicomHeader(file: file, url: url)
        let third = try DicomPixelDecoder.decode(file: file, header: header, frames: [3])
        let plane = volume.shape.sliceCount
        #expect(Array(volume.voxels[(3 * plane)..<(4 * plane)]) == third.voxels)
    }

    @Test func encapsulatedMultiFrameDecodesEveryFrameAlike() throws {
        // The same 10-frame MR, natively stored and in three compressed syntaxes: lossless, so identical.
        let native = try #require(ScanReader.read(Fixtures.url("dicom/pydicom-data/emri_small.dcm")).volumes.first)
        for name in ["emri_small_RLE.dcm", "emri_small_jpeg_2k_lossless.dcm", "emri_small_jpeg_ls_lossless.dcm"] {
            let volume = try #require(ScanReader.read(Fixtures.url("dicom/pydicom-data/" + name)).volumes.first, "\(name)")
            #expect(volume.shape == native.shape, "\(name)")
            #expect(volume.voxels == native.voxels, "\(name)")
        }
    }

    @Test func zeroPixelSpacingCountsAsUnknown() throws {
        let volume = try #require(ScanReader.read(Fixtures.url("dicom/pydicom-data/RG1_J2KI.dcm")).volumes.first)
        #expect(volume.geometry.spacing[0] == 1 && volume.geometry.spacing[1] == 1)
        #expect(volume.metadata.warnings.contains { $0.hasPrefix("no PixelSpacing") })
        #expect(volume.metadata.photometric == "MONOCHROME1")
    }
}
