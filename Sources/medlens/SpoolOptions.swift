import ArgumentParser
import Foundation
import MedLensDaemon

/// `--config FILE` and/or `--spool DIR`, read the way medlensd reads them (`Daemon.Source`). With `--spool`
/// alone the spool is taken to have one inbox, `DIR/inbox` (a spool with several inboxes needs its `--config`).
struct SpoolOptions: ParsableArguments {
    @Option(help: "The daemon's TOML configuration file.")
    var config: String?

    @Option(help: "The spool folder given to medlensd --spool (inbox, outbox, quarantine, archive, state under it).")
    var spool: String?

    @Option(help: "The model store medlensd was given with --models.")
    var models: String?

    func validate() throws {
        if config == nil && spool == nil { throw ValidationError("give --config FILE, --spool DIR, or both") }
    }

    func loadConfig() throws(ConfigError) -> DaemonConfig {
        if let config { return try Daemon.Source(configFile: config, spool: spool, models: models).load() }
        // Only --spool: the folder names come from placingSpool, exactly as medlensd would place them.
        let placeholder = DaemonConfig(inboxes: [InboxConfig(name: "default", path: "/")], outbox: "/", quarantine: "/",
                                       archive: "/", state: "/")
        let spooled = placeholder.placingSpool(under: spool ?? ".")
        return models.map { spooled.placingModels(at: $0) } ?? spooled
    }

    /// Opens the spool's journal; refuses a spool that has none rather than making one.
    func admin() throws -> SpoolAdmin {
        do {
            let config = try loadConfig()
            let journal = SpoolLayout(config: config).journal
            guard FileManager.default.fileExists(atPath: journal) else {
                throw SpoolError("no spool at \(config.state): \(journal) not found (has medlensd run on it?)")
            }
            return try SpoolAdmin(config: config)
        } catch let error as ConfigError {
            fail("invalid configuration\n\(error)", status: 78)  // EX_CONFIG, as medlensd
        } catch let error as SpoolError {
            fail("\(error)", status: 1)
        }
    }
}

/// The message on stderr, a non-zero exit status.
func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("medlens: \(message)\n".utf8))
    MedLens.exit(withError: ExitCode(status))
}

/// The daemon's JSON style: pretty, sorted keys, ISO 8601 dates.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
