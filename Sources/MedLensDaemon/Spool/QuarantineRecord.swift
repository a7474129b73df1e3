import Foundation

/// `quarantine/<job>/error.json`: why an input was set aside, next to the input itself.
public struct QuarantineRecord: Codable, Sendable, Equatable {
    public static let fileName = "error.json"
    public var schema = "medlens.quarantine/1"
    public var job: String
    public var inbox: String
    /// Where the input was found, for the operator. Never used as a path.
    public var source: String
    /// The file beside error.json that holds the input.
    public var file: String
    public var reason: String
    public var message: String
    public var stage: JobStage
    public var time: Date
}
