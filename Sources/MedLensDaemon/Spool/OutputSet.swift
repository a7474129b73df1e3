import Foundation

/// One outbox folder's worth of output: the files of one series (or of one volume without UIDs).
/// File names are the pipeline's own (`findings.json`, overlays named after labels), never taken from the
/// input; the publisher checks them again.
public struct OutputSet: Sendable {
    public var studyUID: String?
    public var seriesUID: String?
    /// Written in this order, so a reader that waits for the last one (findings.json) sees them all.
    public var files: [(name: String, contents: Data)]

    public init(studyUID: String?, seriesUID: String?, files: [(name: String, contents: Data)]) {
        self.studyUID = studyUID; self.seriesUID = seriesUID; self.files = files
    }
}

/// Why an input could not be processed: a stable reason code (intake's codes, or the daemon's own), a message.
public struct JobFailure: Error, Sendable, Equatable {
    public var reason: String
    public var message: String
    public var stage: JobStage
    public init(reason: String, message: String, stage: JobStage) {
        self.reason = reason; self.message = message; self.stage = stage
    }
}
