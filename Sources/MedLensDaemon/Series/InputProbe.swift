import Foundation
import MedImaging

/// What an input's header says, read before any pixel is decoded: enough to group DICOM files into series, judge
/// completeness and estimate the memory the job will need. Stored in the journal with the job.
struct InputProbe: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable { case dicom, photo, oct }
    var kind: Kind
    var studyUID: String?
    var seriesUID: String?
    var sopUID: String?
    var modality: String?
    var frames: Int = 1
    /// ImagesInAcquisition, when the header gives it.
    var imagesInAcquisition: Int?
    var temporalPositions: Int?
    /// ImagePositionPatient projected on the slice normal (mm), for slice-position continuity.
    var position: Double?
    /// Decoded Float32 bytes of the whole input (every frame and channel).
    var decodedBytes: Int

    /// A DICOM image that may have siblings in other files: single-frame with a valid SeriesInstanceUID.
    var seriesKey: String? {
        guard kind == .dicom, frames == 1, let study = DicomUID(studyUID), let series = DicomUID(seriesUID) else { return nil }
        return "series:\(study)/\(series)"
    }

    /// Reads the header of `path`. Throws the intake reason when the file is none of the kinds we read.
    static func read(_ path: String, limits: IntakeLimits) throws(JobFailure) -> InputProbe {
        let url = URL(fileURLWithPath: path)
        if let size = FileStatus.of(path)?.size, size > Int64(limits.maxFileBytes) {
            throw JobFailure(reason: IntakeError.Reason.tooLarge.rawValue, message: "\(size) bytes exceed the limit of \(limits.maxFileBytes)", stage: .read)
        }
        if let kind = OCTAndPhotoReader.kind(of: url) {
            switch kind {
            case .photo: return InputProbe(kind: .photo, decodedBytes: photoSamples(url) * 4)
            case .spectralisVol: return InputProbe(kind: .oct, decodedBytes: volSamples(url) * 4)
            }
        }
        let header: DicomHeader
        do { header = try DicomReader.header(at: url) } catch let error as IntakeError {
            throw JobFailure(reason: error.reason.rawValue, message: error.message, stage: .read)
        } catch {
            throw JobFailure(reason: IntakeError.Reason.decodeFailed.rawValue, message: "\(error)", stage: .read)
        }
        guard let pixels = header.pixels else {
            let error = header.pixelError ?? IntakeError(.noPixelData, "no pixel data")
            throw JobFailure(reason: error.reason.rawValue, message: error.message, stage: .read)
        }
        var position: Double?
        if let p = header.framePositions.first ?? nil, let o = header.frameOrientations.first ?? nil {
            let normal = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]]
            position = zip(p, normal).reduce(0) { $0 + $1.0 * $1.1 }
        }
        // Colour is decoded to three planes whatever the stored layout; palettes expand to RGB.
        let channels = pixels.samples == 1 && header.palette == nil ? 1 : 3
        return InputProbe(kind: .dicom, studyUID: header.studyInstanceUID, seriesUID: header.seriesInstanceUID,
                          sopUID: header.sopInstanceUID, modality: header.modality, frames: pixels.frames, imagesInAcquisition: header.imagesInAcquisition,
                          temporalPositions: header.temporalPositions, position: position,
                          decodedBytes: pixels.rows * pixels.cols * channels * pixels.frames * 4)
    }

    /// Width × height × channels from a PNG's IHDR or a JPEG's start-of-frame; 0 when they cannot be found
    /// (the reader then checks intake.max_pixels itself before allocating).
    static func photoSamples(_ url: URL) -> Int {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return 0 }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 64 * 1024)) ?? Data())
        func be16(_ i: Int) -> Int { Int(head[i]) << 8 | Int(head[i + 1]) }
        func be32(_ i: Int) -> Int { be16(i) << 16 | be16(i + 2) }
        if head.count >= 24, head[0] == 0x89, head[1] == 0x50 {
            return be32(16) * be32(20) * 4
        }
        var i = 2
        while i + 9 < head.count, head[i] == 0xFF {
            let marker = head[i + 1]
            if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                return be16(i + 5) * be16(i + 7) * Int(head[i + 9])
            }
            i += 2 + be16(i + 2)
        }
        return 0
    }

    /// B-scans (SizeX × SizeZ × NumBScans) plus the SLO image, from a Spectralis .vol header.
    static func volSamples(_ url: URL) -> Int {
        guard let handle = try? FileHandle(forReadingFrom: url),
              let head = try? handle.read(upToCount: 64), head.count >= 56 else { return 0 }
        try? handle.close()
        func int(_ offset: Int) -> Int { Int(head.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Int32.self) }) }
        let bscans = max(0, int(12)) * max(0, int(16)) * max(0, int(20))
        return bscans + max(0, int(48)) * max(0, int(52))
    }
}
