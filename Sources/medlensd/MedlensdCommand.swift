import ArgumentParser
import Foundation
import MedLensDaemon

@main
struct Main: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "medlensd",
        abstract: "The MedLens daemon: watches inboxes for scans and writes results to the outbox.")

    @Option(help: "The TOML configuration file.")
    var config: String

    @Option(help: "Put inbox, outbox, quarantine, archive and state under this folder (created if missing).")
    var spool: String?

    @Option(help: "The model store (models/<name>/<version>/ with a current link each), over what the configuration says.")
    var models: String?

    @Flag(help: "Validate the configuration and exit.")
    var check = false

    func run() throws {
        let source = Daemon.Source(configFile: config, spool: spool, models: models)
        do {
            if check {
                _ = try source.load()
                print("\(config): valid")
                return
            }
            try Daemon(source: source).run()
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("medlensd: invalid configuration\n\(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG: systemd will not restart a unit on a bad config loop forever
        } catch let error as SpoolError {
            FileHandle.standardError.write(Data("medlensd: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
