import GRDB

/// Where a job stands. Each state is journalled before its effect becomes visible, so on restart the daemon
/// knows what may be half done and finishes it:
/// `taking` (rename from the inbox under way) → `taken` → `read` → `processed` (outputs about to be placed)
/// → `output_written` → `archived` | `quarantined` (the move into archive/quarantine may still be under way
/// while `work/<job>/` exists). `replayed`: a quarantined input sent back to an inbox by an admin.
public enum JobState: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case taking, taken, read, processed
    case outputWritten = "output_written"
    case archived, quarantined, replayed

    public var isFinal: Bool { self == .archived || self == .quarantined || self == .replayed }
}

/// The pipeline stage where a job failed, as written in error.json.
public enum JobStage: String, Codable, Sendable {
    case take, read, route, process, output, archive
}
