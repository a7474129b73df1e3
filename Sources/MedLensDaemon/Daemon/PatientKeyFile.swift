import Foundation
import Glibc
import MedLensCore

/// The key of the patient hash: 32 random bytes in `state/patient.key` (mode 0600), made on first start. The same
/// key keeps a patient's results linkable across restarts; without it the hash reveals nothing.
enum PatientKeyFile {
    static func patientKey(_ mode: PatientReferenceMode, layout: SpoolLayout) throws(SpoolError) -> PatientKey {
        switch mode {
        case .plain: return .plainID
        case .omit: return .omitted
        case .hash:
            if let data = FileManager.default.contents(atPath: layout.patientKey), data.count == 32 { return .keyedHash(key: data) }
            var generator = SystemRandomNumberGenerator()  // getrandom(2)
            let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let temporary = layout.patientKey + ".new"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw systemError("open", temporary) }
            let written = write(fd, bytes, bytes.count)
            fsync(fd)
            close(fd)
            guard written == bytes.count else { throw systemError("write", temporary) }
            try move(temporary, to: layout.patientKey)
            return .keyedHash(key: Data(bytes))
        }
    }
}
