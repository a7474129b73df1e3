import Foundation
import Testing
@testable import MedImaging

/// Patient identifiers are read, but kept apart from everything that is printed or logged.
struct PatientPrivacyTests {
    @Test(arguments: ["dicom/pydicom-data/RG1_J2KI.dcm", "dicom/dcm_qa_decubitus/HFS_3_t1_fl2d_sag", "oct/Willis_B_716_0.vol"])
    func summaryCarriesNoPatientIdentifiers(_ path: String) throws {
        let result = ScanReader.read(Fixtures.url(path))
        let volume = try #require(result.volumes.first)
        let identifiers = [volume.patient.patientID, volume.patient.patientName, volume.patient.birthDate]
            .compactMap { $0 }.filter { $0.count > 2 }
        #expect(!identifiers.isEmpty, "fixture should carry a patient identifier for this test to mean something")
        let printed = ScanSummary(result).json() + String(describing: volume.metadata)
        for identifier in identifiers {
            #expect(!printed.contains(identifier), "\(identifier) leaked into the summary or metadata")
        }
    }
}
