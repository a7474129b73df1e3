import Foundation

/// Intake for everything that is not DICOM, one file at a time: recognises a file by its leading bytes and reads
/// it with the matching reader, so that `ScanReader` can try it before DICOM.
public enum OCTAndPhotoReader {
    public enum Kind: Sendable, Equatable {
        case photo(ImageFormat)
        case spectralisVol
    }

    /// What the file is, or nil when it is none of ours. A `.vol` name counts too: other exporters (eyepy) write
    /// their own version text instead of HSF-OCT, and a 0-byte `.vol` should say `empty`, not `not_dicom`.
    public static func kind(of url: URL) -> Kind? {
        if let format = ImageFormat(sniffing: url) { return .photo(format) }
        if url.pathExtension.lowercased() == "vol" { return .spectralisVol }
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 7)) ?? Data()
        return head == Data("HSF-OCT".utf8) ? .spectralisVol : nil
    }

    /// The volumes in a file of `kind`: one for a photo; the B-scans and then the SLO fundus for a `.vol`.
    public static func volumes(at url: URL, kind: Kind, limits: IntakeLimits = .default) throws(IntakeError) -> [Volume] {
        switch kind {
        case .photo: return [try PhotoReader(limits: limits).read(url)]
        case .spectralisVol:
            let scan = try SpectralisVolReader(limits: limits).read(url)
            return [scan.bscans, scan.fundus]
        }
    }
}
