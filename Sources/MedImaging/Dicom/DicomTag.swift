import CDicom

/// A DICOM attribute tag (group, element).
public struct DicomTag: Hashable, Sendable, CustomStringConvertible {
    public var group: UInt16
    public var element: UInt16
    public init(_ group: UInt16, _ element: UInt16) { self.group = group; self.element = element }
    var packed: UInt32 { UInt32(group) << 16 | UInt32(element) }
    public var description: String { String(format: "(%04X,%04X)", group, element) }
}

/// A path to an attribute through sequence items: `DicomPath(.perFrameFunctionalGroups, item: 3, .planePosition, item: 0, .imagePositionPatient)`.
public struct DicomPath: Sendable {
    var tags: [UInt32]
    var items: [UInt32]

    public init(_ tag: DicomTag) { tags = [tag.packed]; items = [] }

    /// Builds a path from alternating tags and item indices, ending with a tag.
    public init(_ steps: [(DicomTag, Int)], _ last: DicomTag) {
        tags = steps.map { $0.0.packed } + [last.packed]
        items = steps.map { UInt32($0.1) }
    }

    func withC<R>(_ body: (cdicom_path) -> R) -> R {
        var items = self.items + [0]
        return tags.withUnsafeBufferPointer { t in
            items.withUnsafeMutableBufferPointer { i in
                body(cdicom_path(tags: t.baseAddress, items: i.baseAddress, depth: t.count))
            }
        }
    }
}

public extension DicomTag {
    static let sopClassUID = DicomTag(0x0008, 0x0016)
    static let sopInstanceUID = DicomTag(0x0008, 0x0018)
    static let modality = DicomTag(0x0008, 0x0060)
    static let studyInstanceUID = DicomTag(0x0020, 0x000D)
    static let seriesInstanceUID = DicomTag(0x0020, 0x000E)
    static let seriesNumber = DicomTag(0x0020, 0x0011)
    static let instanceNumber = DicomTag(0x0020, 0x0013)
    static let imagePositionPatient = DicomTag(0x0020, 0x0032)
    static let imageOrientationPatient = DicomTag(0x0020, 0x0037)
    static let frameOfReferenceUID = DicomTag(0x0020, 0x0052)
    static let imagesInAcquisition = DicomTag(0x0020, 0x1002)
    static let laterality = DicomTag(0x0020, 0x0060)
    static let imageLaterality = DicomTag(0x0020, 0x0062)
    static let bodyPartExamined = DicomTag(0x0018, 0x0015)
    static let sliceThickness = DicomTag(0x0018, 0x0050)
    static let spacingBetweenSlices = DicomTag(0x0018, 0x0088)
    static let numberOfTemporalPositions = DicomTag(0x0020, 0x0105)
    static let patientID = DicomTag(0x0010, 0x0020)
    static let patientName = DicomTag(0x0010, 0x0010)
    static let patientBirthDate = DicomTag(0x0010, 0x0030)
    static let photometricInterpretation = DicomTag(0x0028, 0x0004)
    static let numberOfFrames = DicomTag(0x0028, 0x0008)
    static let rows = DicomTag(0x0028, 0x0010)
    static let columns = DicomTag(0x0028, 0x0011)
    static let pixelSpacing = DicomTag(0x0028, 0x0030)
    static let imagerPixelSpacing = DicomTag(0x0018, 0x1164)
    static let bitsAllocated = DicomTag(0x0028, 0x0100)
    static let bitsStored = DicomTag(0x0028, 0x0101)
    static let pixelRepresentation = DicomTag(0x0028, 0x0103)
    static let windowCenter = DicomTag(0x0028, 0x1050)
    static let windowWidth = DicomTag(0x0028, 0x1051)
    static let windowExplanation = DicomTag(0x0028, 0x1055)
    static let rescaleIntercept = DicomTag(0x0028, 0x1052)
    static let rescaleSlope = DicomTag(0x0028, 0x1053)
    static let modalityLUTSequence = DicomTag(0x0028, 0x3000)
    static let voiLUTSequence = DicomTag(0x0028, 0x3010)
    static let lutDescriptor = DicomTag(0x0028, 0x3002)
    static let lutData = DicomTag(0x0028, 0x3006)
    static let redPaletteDescriptor = DicomTag(0x0028, 0x1101)
    static let greenPaletteDescriptor = DicomTag(0x0028, 0x1102)
    static let bluePaletteDescriptor = DicomTag(0x0028, 0x1103)
    static let redPaletteData = DicomTag(0x0028, 0x1201)
    static let greenPaletteData = DicomTag(0x0028, 0x1202)
    static let bluePaletteData = DicomTag(0x0028, 0x1203)
    static let segmentedRedPaletteData = DicomTag(0x0028, 0x1221)
    static let segmentedGreenPaletteData = DicomTag(0x0028, 0x1222)
    static let segmentedBluePaletteData = DicomTag(0x0028, 0x1223)
    static let sharedFunctionalGroups = DicomTag(0x5200, 0x9229)
    static let perFrameFunctionalGroups = DicomTag(0x5200, 0x9230)
    static let planePositionSequence = DicomTag(0x0020, 0x9113)
    static let planeOrientationSequence = DicomTag(0x0020, 0x9116)
    static let pixelMeasuresSequence = DicomTag(0x0028, 0x9110)
    static let pixelValueTransformationSequence = DicomTag(0x0028, 0x9145)
    static let frameVOILUTSequence = DicomTag(0x0028, 0x9132)
    static let frameContentSequence = DicomTag(0x0020, 0x9111)
    static let inStackPositionNumber = DicomTag(0x0020, 0x9057)
}
