import Foundation
import NumPyFormat
import Testing
@testable import MedImaging

/// Decoded pixels against pydicom's, for every DICOM fixture. The references are made by
/// tools/dicom/make_pixel_refs.py (see its header) and committed in fixtures/dicom-refs/.
struct PixelReference: Decodable, Sendable, CustomTestStringConvertible {
    struct Stats: Decodable, Sendable { var min: Double; var max: Double; var mean: Double }
    var file: String
    var status: String
    var lossless: Bool?
    var ref: String?
    var ref_frames: [Int]?
    var stride: Int?
    var shape: [Int]?
    var stats: Stats?
    var error: String?
    var testDescription: String { file }

    static let all: [PixelReference] = {
        struct Document: Decodable { var files: [PixelReference] }
        let url = Fixtures.url("dicom-refs/refs.json")
        guard let data = try? Data(contentsOf: url), let document = try? JSONDecoder().decode(Document.self, from: data) else { return [] }
        return document.files
    }()
}

/// Where we knowingly part from pydicom, and why. Everything not listed must agree.
enum KnownDivergence {
    /// pydicom cannot decode these; we can, and check the decoded geometry instead.
    static let decodedOnlyByUs: Set<String> = [
        "fo-dicom/GH1376.dcm",                 // meta says JPEG lossless, a second (0002,0010) in the dataset says native
        "fo-dicom/GH177_D_CLUNIE_CT1_IVRLE_BigEndian_undefined_length.dcm",  // DCMTK parses the undefined length
        "pydicom/badVR.dcm",                   // NumberOfFrames '1A': DCMTK reads 1
        "pydicom/JPEG-lossy.dcm",              // DCMTK's IJG decoder accepts these 12-bit lossy streams
        "nema-wg04/JPLY/MR1_JPLY", "nema-wg04/JPLY/MR4_JPLY", "nema-wg04/JPLY/RG3_JPLY", "nema-wg04/JPLY/XA1_JPLY",
        "fo-dicom/GH1339.dcm",                 // JPEG lossless pixel data that pydicom does not find
    ]
    /// Decoded by both, values differ for a reason stated here.
    static let differentValues: [String: String] = [
        "pydicom-data/OBXXXX1A_expb.dcm": "palette LUT data stored little endian in a big endian file; we read it as the syntax says",
        "pydicom/SC_jpeg_no_color_transform.dcm": "DCMTK guesses the colour model of lossy JPEG from its markers; this stream has none",
    ]
    /// Fixtures that pydicom decodes and we refuse, with the reason code we give.
    static let refusedByUs: [String: IntakeError.Reason] = [
        "pydicom-data/JLSL_08_07_0_1F.dcm": .decodeFailed,  // DCMTK's bundled CharLS 1.x rejects this JPEG-LS stream
        "fo-dicom/FreezePattern.dcm": .decodeFailed,  // item tag at top level: DCMTK stops, even leniently
        "fo-dicom/GH364.dcm": .decodeFailed,
    ]
}

struct DicomPixelParityTests {
    @Test func referencesArePresent() {
        #expect(PixelReference.all.count > 100)
        #expect(PixelReference.all.filter { $0.status == "ok" }.count > 100)
    }

    @Test(arguments: PixelReference.all.filter { $0.status == "ok" })
    func decodedPixelsMatchPydicom(_ reference: PixelReference) throws {
        let url = Fixtures.url("dicom/" + reference.file)
        if let reason = KnownDivergence.refusedByUs[reference.file] {
            let failure = ScanReader.read(url).failures.first
            #expect(failure?.reason == reason, "\(failure?.message ?? "decoded")")
            return
        }
        let file = try DicomFile(url: url)
        let header = DicomHeader(file: file, url: url)
        let frames = try #require(reference.ref_frames)
        let decoded = try DicomPixelDecoder.decode(file: file, header: header, frames: frames)
        let expected = try NPYArray.read(from: Fixtures.url("dicom-refs/" + reference.ref!))
        let shape = try #require(reference.shape)
        let (rows, cols, stride) = (shape[2], shape[3], reference.stride!)
        #expect(decoded.channels == shape[0])
        #expect(decoded.voxels.count == shape[0] * frames.count * rows * cols)

        // Sample ours exactly as the reference was sampled: full[:, frames][:, :, ::s, ::s].
        var sample: [Float] = []
        sample.reserveCapacity(expected.data.count)
        for c in 0..<decoded.channels {
            for f in 0..<frames.count {
                for r in Swift.stride(from: 0, to: rows, by: stride) {
                    for k in Swift.stride(from: 0, to: cols, by: stride) {
                        sample.append(decoded.voxels[((c * frames.count + f) * rows + r) * cols + k])
                    }
                }
            }
        }
        try #require(sample.count == expected.data.count)
        let errors = zip(sample, expected.data).map { abs(Double($0) - Double($1)) }
        let maxError = errors.max() ?? 0
        let meanError = errors.reduce(0, +) / Double(max(1, errors.count))
        let range = max(1, (reference.stats?.max ?? 1) - (reference.stats?.min ?? 0))
        if KnownDivergence.differentValues[reference.file] != nil {
            #expect(maxError > 0, "listed as divergent but now agrees: remove it from KnownDivergence")
        } else if reference.lossless == true {
            // Exact, up to the float32 rounding of a non-integer rescale (a few units in the last place).
            let magnitude = max(1, abs(reference.stats?.min ?? 0), abs(reference.stats?.max ?? 0))
            #expect(maxError <= 5e-7 * magnitude, "lossless: max |ours - pydicom| = \(maxError)")
        } else {
            // Lossy: different IDCT and chroma upsampling in DCMTK (IJG) and pydicom (libjpeg / OpenJPEG).
            #expect(meanError <= 0.01 * range, "lossy: mean error \(meanError) over range \(range)")
            #expect(maxError <= 0.05 * range, "lossy: max error \(maxError) over range \(range)")
        }
    }

    @Test(arguments: PixelReference.all.filter { $0.status != "ok" })
    func filesPydicomRefusesGetAReasonOrDecode(_ reference: PixelReference) throws {
        let url = Fixtures.url("dicom/" + reference.file)
        let result = ScanReader.read(url)
        if KnownDivergence.decodedOnlyByUs.contains(reference.file) {
            let volume = try #require(result.volumes.first, "\(result.failures.first?.message ?? "")")
            #expect(volume.shape.rows > 0 && volume.shape.cols > 0)
            #expect(volume.voxels.contains { $0 != volume.voxels[0] }, "decoded image is constant")
            return
        }
        #expect(result.volumes.count == 0, "decoded, but pydicom says: \(reference.error ?? reference.status)")
        let failure = try #require(result.failures.first)
        if reference.status == "no_pixel_data" {
            #expect([.noPixelData, .notDicom, .truncated, .decodeFailed].contains(failure.reason), "\(failure.reason)")
        } else {
            #expect(failure.reason != .ioError && failure.reason != .notFound, "\(failure.reason): \(failure.message)")
        }
    }

    @Test func specificFailuresCarryTheirReasonCodes() {
        let expectations: [(String, IntakeError.Reason)] = [
            ("pydicom/MR_truncated.dcm", .truncated),
            ("fo-dicom/GH340.dcm", .unsupportedPixelFormat),
            ("pydicom-data/liver_deflate.dcm", .unsupportedTransferSyntax),
            ("pydicom/test-SR.dcm", .noPixelData),
            ("pydicom/zipMR.gz", .notDicom),
            ("dicom-refs/refs.json", .notDicom),
        ]
        for (path, reason) in expectations {
            let url = path.hasPrefix("dicom-refs") ? Fixtures.url(path) : Fixtures.url("dicom/" + path)
            let failure = ScanReader.read(url).failures.first
            #expect(failure?.reason == reason, "\(path): \(failure?.reason.rawValue ?? "decoded"): \(failure?.message ?? "")")
        }
    }
}
