import Foundation

/// A decoded image or volume: Float32 voxels in PyTorch channel-first layout `[channels][depth][rows][cols]`,
/// with its geometry and the metadata needed downstream. A 2D image is a one-slice volume.
public struct Volume: Sendable {
    /// Voxel values after the modality LUT / rescale (and MONOCHROME1 inversion), before any VOI window.
    public var voxels: [Float]
    public var shape: Shape
    public var geometry: Geometry
    public var metadata: ImageMetadata
    /// Patient identifiers live apart from `metadata` so that nothing that logs metadata can leak them.
    public var patient: PatientIdentity

    public init(voxels: [Float], shape: Shape, geometry: Geometry = Geometry(), metadata: ImageMetadata = ImageMetadata(),
                patient: PatientIdentity = PatientIdentity()) {
        precondition(voxels.count == shape.count, "voxel count \(voxels.count) does not match shape \(shape)")
        self.voxels = voxels
        self.shape = shape
        self.geometry = geometry
        self.metadata = metadata
        self.patient = patient
    }

    public struct Shape: Sendable, Equatable, Codable, CustomStringConvertible {
        public var channels: Int
        public var depth: Int
        public var rows: Int
        public var cols: Int
        public init(channels: Int = 1, depth: Int = 1, rows: Int, cols: Int) {
            self.channels = channels; self.depth = depth; self.rows = rows; self.cols = cols
        }
        public var count: Int { channels * depth * rows * cols }
        public var sliceCount: Int { rows * cols }
        /// The NumPy shape used by `medlens export`: (C, D, H, W).
        public var array: [Int] { [channels, depth, rows, cols] }
        public var description: String { "\(channels)x\(depth)x\(rows)x\(cols)" }
    }

    /// Patient-space geometry in millimetres, following DICOM's LPS conventions.
    public struct Geometry: Sendable, Equatable, Codable {
        /// Spacing along (cols, rows, slices): PixelSpacing's column spacing, row spacing, then slice distance.
        public var spacing: [Double]
        /// ImagePositionPatient of the first voxel of the first slice.
        public var origin: [Double]
        /// Row direction, column direction and slice normal, each a unit 3-vector.
        public var direction: [[Double]]

        public init(spacing: [Double] = [1, 1, 1], origin: [Double] = [0, 0, 0],
                    direction: [[Double]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]) {
            self.spacing = spacing; self.origin = origin; self.direction = direction
        }
    }
}

/// Non-identifying description of where a volume came from and how to display it.
public struct ImageMetadata: Sendable, Equatable, Codable {
    public var kind: String = "unknown"            // dicom, dicom-series, dicom-multiframe, oct-vol, oct-vol-slo, png, jpeg, tiff, bscan-folder
    public var studyInstanceUID: String?
    public var seriesInstanceUID: String?
    public var sopInstanceUIDs: [String] = []
    public var sopClassUID: String?
    public var modality: String?
    public var bodyPart: String?
    public var laterality: String?
    public var transferSyntax: String?
    public var photometric: String?
    public var bitsStored: Int?
    public var windows: [Window] = []              // from WindowCenter/Width, first is the default
    public var voiLUT: LookupTable?
    public var warnings: [String] = []

    public init() {}
}

/// A VOI window (centre/width) as DICOM defines it (PS3.3 C.11.2.1.2, linear function).
public struct Window: Sendable, Equatable, Codable {
    public var center: Double
    public var width: Double
    public var explanation: String?
    public init(center: Double, width: Double, explanation: String? = nil) {
        self.center = center; self.width = width; self.explanation = explanation
    }
}

/// A DICOM lookup table (modality, VOI or palette): descriptor first-mapped value, bits, and entries.
public struct LookupTable: Sendable, Equatable, Codable {
    public var firstMapped: Int
    public var bits: Int
    public var entries: [UInt16]
    public init(firstMapped: Int, bits: Int, entries: [UInt16]) {
        self.firstMapped = firstMapped; self.bits = bits; self.entries = entries
    }
    /// Maps `value` through the table, clamping outside its range as PS3.3 C.11.1 requires.
    @inlinable public func lookup(_ value: Float) -> Float {
        let index = Int(value.rounded(.down)) - firstMapped
        if index <= 0 { return Float(entries.first ?? 0) }
        if index >= entries.count { return Float(entries.last ?? 0) }
        return Float(entries[index])
    }
}

/// Identifying fields, kept apart from everything that is logged or written by default.
public struct PatientIdentity: Sendable, Equatable {
    public var patientID: String?
    public var patientName: String?
    public var birthDate: String?
    public init(patientID: String? = nil, patientName: String? = nil, birthDate: String? = nil) {
        self.patientID = patientID; self.patientName = patientName; self.birthDate = birthDate
    }
}
