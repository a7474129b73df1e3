import Foundation

/// What the header of one DICOM file says, read without decoding pixels: identity, geometry per frame,
/// the modality transform per frame and display windows. Series assembly works on these alone.
public struct DicomHeader: Sendable {
    public var url: URL
    public var transferSyntax: String
    public var sopClassUID: String?
    public var sopInstanceUID: String?
    public var studyInstanceUID: String?
    public var seriesInstanceUID: String?
    public var modality: String?
    public var bodyPart: String?
    public var laterality: String?
    public var instanceNumber: Int?
    public var imagesInAcquisition: Int?
    public var temporalPositions: Int?
    /// Nil when the object has no usable pixel data; `pixelError` then says why.
    public var pixels: PixelInfo?
    public var pixelError: IntakeError?
    /// Photometric interpretation as the header states it (before any decoder conversion).
    public var photometric: String?
    /// PixelSpacing as (row spacing, column spacing) in mm.
    public var pixelSpacing: [Double]?
    public var sliceThickness: Double?
    public var spacingBetweenSlices: Double?
    /// One entry per frame (the top-level values repeated for single-frame objects); nil entries are unknown.
    public var framePositions: [[Double]?]
    public var frameOrientations: [[Double]?]
    public var frameTransforms: [ModalityTransform]
    public var windows: [Window]
    public var voiLUT: LookupTable?
    public var palette: [LookupTable]?
    public var patient: PatientIdentity
    /// Problems that did not stop reading (a recovered parse error, for one).
    public var warnings: [String] = []

    public var isEnhancedMultiFrame: Bool { frames > 1 && framePositions.contains { $0 != nil } && frameSpecificGeometry }
    public var frames: Int { pixels?.frames ?? 1 }
    var frameSpecificGeometry = false
}

/// Stored value → modality value (PS3.3 C.11.1): a linear rescale or a lookup table.
public enum ModalityTransform: Sendable, Equatable {
    case rescale(slope: Double, intercept: Double)
    case table(LookupTable)

    public static let identity = ModalityTransform.rescale(slope: 1, intercept: 0)

    @inlinable public func apply(_ stored: Float) -> Float {
        switch self {
        case .rescale(let slope, let intercept): return Float(Double(stored) * slope + intercept)
        case .table(let lut): return lut.lookup(stored)
        }
    }

    /// The modality-value range of stored values in `range`, used to invert MONOCHROME1.
    public func outputRange(storedMin: Double, storedMax: Double) -> (Double, Double) {
        switch self {
        case .rescale(let slope, let intercept):
            let a = storedMin * slope + intercept, b = storedMax * slope + intercept
            return (min(a, b), max(a, b))
        case .table(let lut):
            return (Double(lut.entries.min() ?? 0), Double(lut.entries.max() ?? 0))
        }
    }
}

extension DicomHeader {
    public init(file: DicomFile, url: URL) {
        self.url = url
        transferSyntax = file.transferSyntax
        if let warning = file.parseWarning { warnings.append(warning) }
        sopClassUID = file.string(.sopClassUID)
        sopInstanceUID = file.string(.sopInstanceUID)
        studyInstanceUID = file.string(.studyInstanceUID)
        seriesInstanceUID = file.string(.seriesInstanceUID)
        modality = file.string(.modality)
        bodyPart = file.string(.bodyPartExamined)
        laterality = file.string(.imageLaterality) ?? file.string(.laterality)
        instanceNumber = file.int(.instanceNumber)
        imagesInAcquisition = file.int(.imagesInAcquisition)
        temporalPositions = file.int(.numberOfTemporalPositions)
        photometric = file.string(.photometricInterpretation)
        patient = PatientIdentity(patientID: file.string(.patientID), patientName: file.string(.patientName),
                                  birthDate: file.string(.patientBirthDate))
        do {
            pixels = try file.pixelInfo()
        } catch let error as IntakeError {
            pixelError = error
        } catch {
            pixelError = IntakeError(.decodeFailed, "\(error)")
        }
        let frames = pixels?.frames ?? 1
        let groups = FunctionalGroups(file: file, frames: frames)
        // A spacing of zero (seen in the wild as "0.000\\0.000") means unknown, like an absent one.
        pixelSpacing = [groups.doubles(.pixelMeasuresSequence, .pixelSpacing, frame: 0), file.doubles(.pixelSpacing),
                        file.doubles(.imagerPixelSpacing)].lazy.compactMap { $0 }.first { $0.count == 2 && $0.allSatisfy { $0 > 0 } }
        sliceThickness = groups.doubles(.pixelMeasuresSequence, .sliceThickness, frame: 0)?.first ?? file.double(.sliceThickness)
        spacingBetweenSlices = groups.doubles(.pixelMeasuresSequence, .spacingBetweenSlices, frame: 0)?.first
            ?? file.double(.spacingBetweenSlices)

        let topPosition = file.doubles(.imagePositionPatient).flatMap { $0.count == 3 ? $0 : nil }
        let topOrientation = file.doubles(.imageOrientationPatient).flatMap { $0.count == 6 ? $0 : nil }
        let topTransform = Self.modalityTransform(file: file, signed: pixels?.isSigned ?? false)
        var positions: [[Double]?] = [], orientations: [[Double]?] = [], transforms: [ModalityTransform] = []
        var frameSpecific = false
        for f in 0..<frames {
            let position = groups.doubles(.planePositionSequence, .imagePositionPatient, frame: f).flatMap { $0.count == 3 ? $0 : nil }
            frameSpecific = frameSpecific || position != nil
            positions.append(position ?? topPosition)
            orientations.append(groups.doubles(.planeOrientationSequence, .imageOrientationPatient, frame: f)
                .flatMap { $0.count == 6 ? $0 : nil } ?? topOrientation)
            if let slope = groups.doubles(.pixelValueTransformationSequence, .rescaleSlope, frame: f)?.first,
               let intercept = groups.doubles(.pixelValueTransformationSequence, .rescaleIntercept, frame: f)?.first {
                transforms.append(.rescale(slope: slope, intercept: intercept))
            } else {
                transforms.append(topTransform)
            }
        }
        framePositions = positions
        frameOrientations = orientations
        frameTransforms = transforms
        frameSpecificGeometry = frameSpecific

        windows = Self.windows(centers: groups.doubles(.frameVOILUTSequence, .windowCenter, frame: 0) ?? file.doubles(.windowCenter),
                               widths: groups.doubles(.frameVOILUTSequence, .windowWidth, frame: 0) ?? file.doubles(.windowWidth),
                               explanations: file.string(.windowExplanation))
        voiLUT = Self.lookupTable(file: file, sequence: .voiLUTSequence, signed: false)
        palette = Self.palette(file: file)
    }

    static func modalityTransform(file: DicomFile, signed: Bool) -> ModalityTransform {
        if let lut = lookupTable(file: file, sequence: .modalityLUTSequence, signed: signed) { return .table(lut) }
        let slope = file.double(.rescaleSlope) ?? 1
        let intercept = file.double(.rescaleIntercept) ?? 0
        return .rescale(slope: slope == 0 ? 1 : slope, intercept: intercept)
    }

    static func lookupTable(file: DicomFile, sequence: DicomTag, signed: Bool) -> LookupTable? {
        guard let count = file.sequenceCount(DicomPath(sequence)), count > 0,
              let descriptor = file.doubles(DicomPath([(sequence, 0)], .lutDescriptor)), descriptor.count == 3,
              let data = file.uint16Array(DicomPath([(sequence, 0)], .lutData)), !data.isEmpty
        else { return nil }
        var first = Int(descriptor[1])
        if signed && first > 32767 { first -= 65536 }
        return LookupTable(firstMapped: first, bits: Int(descriptor[2]), entries: data)
    }

    static func palette(file: DicomFile) -> [LookupTable]? {
        let channels: [(DicomTag, DicomTag, DicomTag)] = [
            (.redPaletteDescriptor, .redPaletteData, .segmentedRedPaletteData),
            (.greenPaletteDescriptor, .greenPaletteData, .segmentedGreenPaletteData),
            (.bluePaletteDescriptor, .bluePaletteData, .segmentedBluePaletteData),
        ]
        var tables: [LookupTable] = []
        for (descriptorTag, dataTag, segmentedTag) in channels {
            guard let descriptor = file.doubles(descriptorTag), descriptor.count == 3,
                  let data = file.uint16Array(DicomPath(dataTag)) ?? file.uint16Array(DicomPath(segmentedTag))
                      .flatMap({ try? SegmentedPalette.expand($0) }),
                  !data.isEmpty else { return nil }
            let bits = Int(descriptor[2])
            // 8-bit palettes are stored two entries to a 16-bit word.
            let entries = bits == 8 && data.count * 2 == (descriptor[0] == 0 ? 65536 : Int(descriptor[0]))
                ? data.flatMap { [UInt16($0 & 0xFF), UInt16($0 >> 8)] } : data
            tables.append(LookupTable(firstMapped: Int(descriptor[1]), bits: bits, entries: entries))
        }
        return tables
    }

    static func windows(centers: [Double]?, widths: [Double]?, explanations: String?) -> [Window] {
        guard let centers, let widths else { return [] }
        let names = explanations?.split(separator: "\\", omittingEmptySubsequences: false).map(String.init) ?? []
        return zip(centers, widths).enumerated().map { i, pair in
            Window(center: pair.0, width: pair.1, explanation: i < names.count && !names[i].isEmpty ? names[i] : nil)
        }
    }
}

/// Attributes of enhanced multi-frame objects: the per-frame functional group first, the shared one second.
struct FunctionalGroups {
    let file: DicomFile
    let perFrameCount: Int
    let hasShared: Bool

    init(file: DicomFile, frames: Int) {
        self.file = file
        perFrameCount = file.sequenceCount(DicomPath(.perFrameFunctionalGroups)) ?? 0
        hasShared = (file.sequenceCount(DicomPath(.sharedFunctionalGroups)) ?? 0) > 0
    }

    func doubles(_ macro: DicomTag, _ attribute: DicomTag, frame: Int) -> [Double]? {
        if frame < perFrameCount, let v = file.doubles(DicomPath([(.perFrameFunctionalGroups, frame), (macro, 0)], attribute)) {
            return v
        }
        if hasShared { return file.doubles(DicomPath([(.sharedFunctionalGroups, 0), (macro, 0)], attribute)) }
        return nil
    }
}
