import Foundation

/// A Heidelberg Spectralis HSF-OCT `.vol` raw export: the B-scans as one volume, the SLO fundus image as
/// another, and where each B-scan lies on the fundus.
public struct SpectralisScan: Sendable {
    /// Reflectivity, shape 1 x NumBScans x SizeZ x SizeX; spacing (ScaleX, ScaleZ, Distance) in mm.
    public var bscans: Volume
    /// The SLO fundus, shape 1 x 1 x SizeYSlo x SizeXSlo, values 0...255; spacing (ScaleXSlo, ScaleYSlo, 1).
    public var fundus: Volume
    /// One entry per B-scan, in file order.
    public var bscanGeometry: [BScanGeometry]
    public var header: Header

    /// Non-identifying fields of the 2048-byte file header.
    public struct Header: Sendable, Equatable, Codable {
        public var version: String
        public var scanPattern: Int
        /// "OD" or "OS".
        public var scanPosition: String
        public var fieldSizeDegrees: Int
        public var scanFocusDioptres: Double
        public var examTime: Date?
    }
}

/// Where one B-scan lies on the SLO fundus (millimetres, fundus image coordinates) and how good it is.
public struct BScanGeometry: Sendable, Equatable, Codable {
    public var startX: Double
    public var startY: Double
    public var endX: Double
    public var endY: Double
    /// Heidelberg's quality figure for the B-scan (dB-like, higher is better).
    public var quality: Float
    /// Axial shift applied by the device, in samples.
    public var shift: Int

    public init(startX: Double, startY: Double, endX: Double, endY: Double, quality: Float, shift: Int) {
        self.startX = startX; self.startY = startY; self.endX = endX; self.endY = endY; self.quality = quality; self.shift = shift
    }
}

/// Reads `.vol` files field by field from their headers: the header sizes and image sizes they state decide
/// every offset, because they differ between files and exporters.
public struct SpectralisVolReader: Sendable {
    public var limits: IntakeLimits

    public init(limits: IntakeLimits = .default) { self.limits = limits }

    static let fileHeaderSize = 2048
    /// The B-scan header fields we read end at byte 64.
    static let minimumBScanHeaderSize = 64
    /// Spectralis writes this (the largest finite Float32) where it has no measurement.
    static let invalidThreshold: Float = 1e38

    public func read(_ url: URL) throws(IntakeError) -> SpectralisScan {
        try read(data: limits.readFile(url))
    }

    public func read(data: Data) throws(IntakeError) -> SpectralisScan {
        guard !data.isEmpty else { throw IntakeError(.empty, "no .vol data") }
        let reader = ByteReader(data)
        try reader.check(0, Self.fileHeaderSize, "the 2048-byte .vol file header")
        let version = try reader.string(0, length: 12, "Version")
        // Other exporters (eyepy) write their own version text; anything that is not text is not a .vol at all.
        let versionBytes = reader.bytes[0..<12].prefix { $0 != 0 }
        guard version.hasPrefix("HSF-OCT") || (!versionBytes.isEmpty && versionBytes.allSatisfy { (0x20..<0x7F).contains($0) }) else {
            throw IntakeError(.unsupportedFormat, "not a Heidelberg .vol file (no HSF-OCT version text)")
        }
        let sizeX = try reader.int32(12, "SizeX"), numBScans = try reader.int32(16, "NumBScans"), sizeZ = try reader.int32(20, "SizeZ")
        let scaleX = try reader.float64(24, "ScaleX"), distance = try reader.float64(32, "Distance"), scaleZ = try reader.float64(40, "ScaleZ")
        let sloX = try reader.int32(48, "SizeXSlo"), sloY = try reader.int32(52, "SizeYSlo")
        let sloScaleX = try reader.float64(56, "ScaleXSlo"), sloScaleY = try reader.float64(64, "ScaleYSlo")
        let declaredBScanHeaderSize = try reader.int32(100, "BScanHdrSize")
        guard sizeX > 0, sizeZ > 0, numBScans > 0, sloX >= 0, sloY >= 0 else {
            throw IntakeError(.invalidAttribute, "implausible .vol sizes: SizeX \(sizeX), SizeZ \(sizeZ), NumBScans \(numBScans), SLO \(sloX)x\(sloY)")
        }
        guard [scaleX, scaleZ].allSatisfy({ $0.isFinite && $0 > 0 }), distance.isFinite, distance >= 0 else {
            throw IntakeError(.invalidAttribute, "implausible .vol scales: ScaleX \(scaleX), ScaleZ \(scaleZ), Distance \(distance)")
        }
        guard sizeX * sizeZ <= limits.maxPixels, sloX * sloY <= limits.maxPixels else {
            throw IntakeError(.tooLarge, "B-scan \(sizeZ)x\(sizeX) or SLO \(sloY)x\(sloX) exceeds the pixel limit")
        }
        let shape = Volume.Shape(channels: 1, depth: numBScans, rows: sizeZ, cols: sizeX)
        try limits.checkVoxels(shape)

        var warnings: [String] = []
        if !version.hasPrefix("HSF-OCT") { warnings.append("version field '\(version)' is not HSF-OCT; read as HSF-OCT-103 layout") }
        let sloOffset = Self.fileHeaderSize
        try reader.check(sloOffset, sloX * sloY, "the SLO image")
        let slo = reader.bytes[sloOffset..<(sloOffset + sloX * sloY)].map(Float.init)

        let bscanBytes = sizeX * sizeZ * 4
        var voxels = [Float](repeating: 0, count: shape.count)
        var geometry: [BScanGeometry] = []
        var invalid = 0
        var offset = sloOffset + sloX * sloY
        let headerSize = try bscanHeaderSize(reader, at: offset, declared: declaredBScanHeaderSize, bscanBytes: bscanBytes,
                                             count: numBScans, warnings: &warnings)
        for index in 0..<numBScans {
            geometry.append(BScanGeometry(
                startX: try reader.float64(offset + 16, "StartX of B-scan \(index)"), startY: try reader.float64(offset + 24, "StartY"),
                endX: try reader.float64(offset + 32, "EndX"), endY: try reader.float64(offset + 40, "EndY"),
                quality: try reader.float32(offset + 56, "Quality"), shift: try reader.int32(offset + 60, "Shift")))
            let dataOffset = offset + headerSize
            invalid += Self.copyReflectivity(reader.bytes, from: dataOffset, into: &voxels, at: index * shape.sliceCount, count: shape.sliceCount)
            offset = dataOffset + bscanBytes
        }
        if invalid > 0 { warnings.append("\(invalid) invalid reflectivity values (~3.4e38) set to 0") }
        if offset < reader.count { warnings.append("\(reader.count - offset) bytes after the last B-scan ignored") }

        let scanPosition = try reader.string(84, length: 4, "ScanPosition")
        var metadata = ImageMetadata()
        metadata.kind = "oct-vol"
        metadata.modality = "OPT"
        metadata.photometric = "MONOCHROME2"
        metadata.laterality = scanPosition == "OD" ? "R" : scanPosition == "OS" ? "L" : nil
        metadata.warnings = warnings
        var sloMetadata = metadata
        sloMetadata.kind = "oct-vol-slo"
        sloMetadata.modality = "SLO"
        sloMetadata.bitsStored = 8
        sloMetadata.warnings = []

        let patient = PatientIdentity(patientID: try reader.string(140, length: 21, "PatientID").nonEmpty,
                                      birthDate: Self.oleDate(try reader.float64(164, "DOB")).map(Self.dicomDate))
        // A single B-scan has no slice distance (Distance is 0); ScaleX stands in so that spacing stays positive.
        let sliceSpacing = distance > 0 ? distance : scaleX
        let bscanVolume = Volume(voxels: voxels, shape: shape, geometry: Volume.Geometry(spacing: [scaleX, scaleZ, sliceSpacing]),
                                 metadata: metadata, patient: patient)
        let fundus = Volume(voxels: slo, shape: Volume.Shape(rows: sloY, cols: sloX),
                            geometry: Volume.Geometry(spacing: [sloScaleX, sloScaleY, 1]), metadata: sloMetadata, patient: patient)
        let header = SpectralisScan.Header(
            version: version, scanPattern: try reader.int32(96, "ScanPattern"), scanPosition: scanPosition,
            fieldSizeDegrees: try reader.int32(72, "FieldSizeSlo"), scanFocusDioptres: try reader.float64(76, "ScanFocus"),
            examTime: Self.fileTime(try reader.unsigned(88, size: 8, "ExamTime")))
        return SpectralisScan(bscans: bscanVolume, fundus: fundus, bscanGeometry: geometry, header: header)
    }

    /// Each B-scan header states its own size, and exporters disagree with the file header's BScanHdrSize
    /// (eyepy writes 61440 there and 3656 per B-scan): take the first B-scan's own field when the B-scans then
    /// fit in the file, else the file header's; if neither fits, the file is truncated.
    private func bscanHeaderSize(_ reader: ByteReader, at offset: Int, declared: Int, bscanBytes: Int, count: Int,
                                 warnings: inout [String]) throws(IntakeError) -> Int {
        try reader.check(offset, Self.minimumBScanHeaderSize, "header of the first B-scan")
        let own = try reader.int32(offset + 12, "BScanHdrSize of the first B-scan")
        let candidates = [own, declared].filter { $0 >= Self.minimumBScanHeaderSize }
        guard let first = candidates.first else {
            throw IntakeError(.invalidAttribute, "B-scan header size \(own) (file header: \(declared)) is implausible")
        }
        guard let size = candidates.first(where: { offset + count * ($0 + bscanBytes) <= reader.count }) else {
            let needed = offset + count * (first + bscanBytes)
            throw IntakeError(.truncated, "\(count) B-scans need \(needed) bytes, the file has \(reader.count)")
        }
        if own != declared { warnings.append("B-scan header size \(own) differs from the file header's \(declared); used \(size)") }
        return size
    }

    /// Copies little-endian Float32 reflectivity, zeroing the invalid marker; returns how many were invalid.
    private static func copyReflectivity(_ bytes: [UInt8], from offset: Int, into voxels: inout [Float], at start: Int, count: Int) -> Int {
        var invalid = 0
        bytes.withUnsafeBytes { raw in
            voxels.withUnsafeMutableBufferPointer { out in
                for i in 0..<count {
                    let value = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4 * i, as: UInt32.self)))
                    if value.isFinite, value < invalidThreshold {
                        out[start + i] = value
                    } else {
                        out[start + i] = 0
                        invalid += 1
                    }
                }
            }
        }
        return invalid
    }

    /// Heidelberg stores DOB as an OLE automation date (days since 1899-12-30); 0 means absent.
    static func oleDate(_ days: Double) -> Date? {
        guard days.isFinite, days > 1 else { return nil }
        return Date(timeIntervalSince1970: (days - 25569) * 86400)
    }

    /// ExamTime is a Windows FILETIME: 100 ns ticks since 1601-01-01 UTC; 0 means absent.
    static func fileTime(_ ticks: UInt64) -> Date? {
        guard ticks > 0 else { return nil }
        return Date(timeIntervalSince1970: Double(ticks) / 1e7 - 11_644_473_600)
    }

    static func dicomDate(_ date: Date) -> String {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "%04d%02d%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
