import Crypto
import Foundation

/// How a patient is named in findings: never by name; by a keyed hash of the patient ID unless the site
/// configures the plain ID. The key stays on the server, so the hash links a patient's results without
/// revealing who it is.
public enum PatientKey: Sendable, Equatable {
    case keyedHash(key: Data)
    case plainID
    case omitted

    public func reference(for patientID: String?) -> String? {
        guard let patientID, !patientID.isEmpty else { return nil }
        switch self {
        case .keyedHash(let key):
            let code = HMAC<SHA256>.authenticationCode(for: Data(patientID.utf8), using: SymmetricKey(data: key))
            return "hmac-sha256:" + code.map { String(format: "%02x", $0) }.joined()
        case .plainID:
            return patientID
        case .omitted:
            return nil
        }
    }
}
