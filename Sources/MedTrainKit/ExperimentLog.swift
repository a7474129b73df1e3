import Foundation

/// An append-only JSONL file: one line per event of a run (`start` with the full configuration and data digests,
/// `resume`, `epoch`, `interrupted`, `finished` with the results), so that many runs can share one log and every
/// line says which run it belongs to.
public struct ExperimentLog: Sendable {
    public let url: URL

    public init(url: URL) { self.url = url }

    /// Appends `{"time": ..., "run": ..., "event": ..., <fields>}` as one line.
    public func append<Fields: Encodable>(run: String, event: String, _ fields: Fields) throws(TrainingError) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            guard var object = try JSONSerialization.jsonObject(with: encoder.encode(fields)) as? [String: Any] else {
                throw TrainingError.io("experiment log fields must encode as a JSON object")
            }
            object["time"] = ISO8601DateFormatter().string(from: Date())
            object["run"] = run
            object["event"] = event
            var data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            data.append(0x0A)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
        } catch { throw .io("cannot append to the experiment log \(url.path): \(error)") }
    }
}
