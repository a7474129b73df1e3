import Foundation
import MedImaging

/// Today's processing: one `intake.json` per volume read, holding the `ScanSummary` of that volume.
public struct IntakeProcessor: JobProcessor {
    public static let fileName = "intake.json"
    public static let schema = "medlens.intake/1"

    public init() {}

    public func process(_ context: JobContext) throws(JobFailure) -> [OutputSet] {
        guard !context.scan.volumes.isEmpty else {
            let first = context.scan.failures.first
            throw JobFailure(reason: first?.reason.rawValue ?? IntakeError.Reason.empty.rawValue,
                             message: first?.message ?? "nothing could be read", stage: .read)
        }
        return try context.scan.volumes.map { volume throws(JobFailure) in
            var single = ScanReadResult()
            single.volumes = [volume]
            single.failures = context.scan.failures
            let document = IntakeDocument(schema: Self.schema, job: context.jobID, inbox: context.inbox,
                                          createdAt: Date(), summary: ScanSummary(single))
            return OutputSet(studyUID: volume.metadata.studyInstanceUID, seriesUID: volume.metadata.seriesInstanceUID,
                             files: [(Self.fileName, try document.encoded())])
        }
    }
}

/// The intake.json document. It names the job and inbox, never the input's file name (which may carry a
/// patient's name), and not its paths.
struct IntakeDocument: Codable {
    var schema: String
    var job: String
    var inbox: String
    var createdAt: Date
    var summary: ScanSummary

    func encoded() throws(JobFailure) -> Data {
        do {
            return try JSON.encode(self)
        } catch {
            throw JobFailure(reason: "output_failed", message: "cannot encode intake.json: \(error)", stage: .process)
        }
    }
}
