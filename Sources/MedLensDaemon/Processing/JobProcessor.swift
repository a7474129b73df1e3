import Foundation
import MedImaging

/// What the processing stage is given: the job and what intake read from its input.
public struct JobContext: Sendable {
    public var jobID: String
    public var inbox: String
    public var scan: ScanReadResult
}

/// One outbox folder's worth of output: the files of one series (or of one volume without UIDs).
/// File names are the processor's own constants (`intake.json`, later `findings.json`, overlays), never
/// taken from the input; the daemon checks them again.
public struct OutputSet: Sendable {
    public var studyUID: String?
    public var seriesUID: String?
    /// Written in this order, so a reader that waits for the last one (findings.json) sees them all.
    public var files: [(name: String, contents: Data)]

    public init(studyUID: String?, seriesUID: String?, files: [(name: String, contents: Data)]) {
        self.studyUID = studyUID; self.seriesUID = seriesUID; self.files = files
    }
}

/// Why a job could not be processed: a stable reason code (intake's codes, or the processor's own), a message.
public struct JobFailure: Error, Sendable, Equatable {
    public var reason: String
    public var message: String
    public var stage: JobStage
    public init(reason: String, message: String, stage: JobStage) {
        self.reason = reason; self.message = message; self.stage = stage
    }
}

/// The processing stage: turns what was read into outputs. Today `IntakeProcessor` publishes the intake
/// summary; the model pipeline will implement this protocol too and add findings.json beside it.
public protocol JobProcessor: Sendable {
    func process(_ context: JobContext) throws(JobFailure) -> [OutputSet]
}
