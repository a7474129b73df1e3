import Foundation
import MedImaging
import Testing

/// Expected values were computed independently with NumPy from the file bytes (struct offsets of HSF-OCT-103).
@Suite struct SpectralisVolReaderTests {
    let reader = SpectralisVolReader()

    @Test func readsRealSpectralisLineScan() throws {
        let scan = try reader.read(Fixtures.url("oct/Willis_B_716_0.vol"))
        #expect(scan.bscans.shape == Volume.Shape(channels: 1, depth: 1, rows: 496, cols: 768))
        #expect(scan.fundus.shape == Volume.Shape(channels: 1, depth: 1, rows: 768, cols: 768))
        #expect(scan.header.version == "HSF-OCT-103")
        #expect(scan.header.scanPosition == "OD" && scan.header.scanPattern == 1 && scan.header.fieldSizeDegrees == 30)
        #expect(scan.bscans.metadata.kind == "oct-vol" && scan.bscans.metadata.laterality == "R")
        #expect(abs(scan.bscans.geometry.spacing[0] - 0.011820577085018158) < 1e-12)
        #expect(abs(scan.bscans.geometry.spacing[1] - 0.0038716697599738836) < 1e-12)
        // Reflectivity as stored: voxel (B-scan 0, z 100, x 200), mean over the B-scan, maximum.
        #expect(scan.bscans.voxels[100 * 768 + 200] == 0.01462554931640625)
        let mean = scan.bscans.voxels.reduce(0.0) { $0 + Double($1) } / Double(scan.bscans.voxels.count)
        #expect(abs(mean - 0.01255033727733264) < 1e-7)
        #expect(scan.bscans.voxels.max() == 1.0)
        let sloMean = scan.fundus.voxels.reduce(0.0) { $0 + Double($1) } / Double(scan.fundus.voxels.count)
        #expect(abs(sloMean - 153.34659830729166) < 1e-9)
        #expect(scan.fundus.voxels[300 * 768 + 400] == 118)
        #expect(scan.bscanGeometry == [BScanGeometry(startX: 0, startY: 4.539101243019104, endX: 9.078202486038208,
                                                     endY: 4.539101243019104, quality: 44.57550811767578, shift: 0)])
        #expect(scan.bscans.metadata.warnings == ["132 bytes after the last B-scan ignored"])
    }

    @Test func keepsPatientFieldsOutOfMetadata() throws {
        let scan = try reader.read(Fixtures.url("oct/Willis_B_716_0.vol"))
        #expect(scan.bscans.patient == PatientIdentity(patientID: "01234", birthDate: "19511003"))
        #expect(scan.fundus.patient == scan.bscans.patient)
        let encoded = String(decoding: try JSONEncoder().encode(scan.bscans.metadata), as: UTF8.self)
            + String(decoding: try JSONEncoder().encode(scan.header), as: UTF8.self)
        #expect(!encoded.contains("01234") && !encoded.contains("1951"))
        // ExamTime 131286184616218310 (FILETIME) is 2017-01-11 14:27:41.62 UTC.
        #expect(abs(scan.header.examTime!.timeIntervalSince1970 - 1_484_144_861.621831) < 1e-3)
    }

    @Test func readsMultiBScanVolumeWhoseHeadersDisagree() throws {
        let scan = try reader.read(Fixtures.url("oct/test_volume.vol"))
        #expect(scan.bscans.shape == Volume.Shape(channels: 1, depth: 10, rows: 40, cols: 50))
        #expect(scan.fundus.shape == Volume.Shape(channels: 1, depth: 1, rows: 50, cols: 50))
        #expect(scan.bscanGeometry.count == 10)
        #expect(scan.bscanGeometry.first?.startY == 6.807 && scan.bscanGeometry.last?.startY == 6.524)
        #expect(scan.bscans.geometry.spacing == [0.011819, 0.003872, 0.03144444444444448])
        #expect(scan.bscans.voxels[9 * 2000 + 10 * 50 + 20] == 42)
        let mean = scan.bscans.voxels.reduce(0.0) { $0 + Double($1) } / Double(scan.bscans.voxels.count)
        #expect(mean == 127.4375)
        #expect(scan.fundus.voxels[30 * 50 + 40] == 138)
        #expect(scan.bscans.metadata.warnings.contains("B-scan header size 3656 differs from the file header's 61440; used 3656"))
        #expect(scan.bscans.patient.patientID == "Study-01" && scan.bscans.patient.birthDate == "20000101")
    }

    @Test func invalidReflectivityBecomesZeroAndIsCounted() throws {
        var bytes = [UInt8](try Data(contentsOf: Fixtures.url("oct/Willis_B_716_0.vol")))
        let firstVoxel = 2048 + 768 * 768 + 55296
        let marker = Float.greatestFiniteMagnitude.bitPattern  // what Spectralis writes: 3.4028235e38
        for index in [0, 5, 767] {
            for b in 0..<4 { bytes[firstVoxel + 4 * index + b] = UInt8(truncatingIfNeeded: marker >> (8 * UInt32(b))) }
        }
        let scan = try reader.read(data: Data(bytes))
        #expect(scan.bscans.voxels[0] == 0 && scan.bscans.voxels[5] == 0 && scan.bscans.voxels[767] == 0)
        #expect(scan.bscans.metadata.warnings.contains("3 invalid reflectivity values (~3.4e38) set to 0"))
    }

    @Test func emptyTruncatedAndForeignFilesGiveReasonCodes() throws {
        #expect(Fixtures.reason { try reader.read(Fixtures.url("oct/invalid.vol")) } == .empty)
        let data = try Data(contentsOf: Fixtures.url("oct/Willis_B_716_0.vol"))
        for length in [100, 2048, 2048 + 768 * 768 + 10, data.count - 1000] {
            #expect(Fixtures.reason { try reader.read(data: data.prefix(length)) } == .truncated, "cut at \(length)")
        }
        #expect(Fixtures.reason { try reader.read(Fixtures.url("photo/1681_left.jpg")) } == .unsupportedFormat)
        let tight = SpectralisVolReader(limits: IntakeLimits(maxPixels: 1000))
        #expect(Fixtures.reason { try tight.read(Fixtures.url("oct/test_volume.vol")) } == .tooLarge)
    }
}
