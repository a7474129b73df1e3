import DaemonTestSupport
import Foundation
import MedLensDaemon
import Testing

extension DaemonHarness {
    /// The configuration the harness's daemon runs with, placed as `--spool` places it.
    var config: DaemonConfig {
        get throws { try ConfigLoader.load(file: configFile.path).placingSpool(under: spool.path) }
    }
}

/// Every overlay a findings document names lies beside it; an empty map names none.
func expectOverlaysPresent(_ daemon: DaemonHarness) throws {
    for (folder, document) in try daemon.findings() {
        for finding in document["findings"] as? [[String: Any]] ?? [] {
            guard let explanation = finding["explanation"] as? [String: Any] else { continue }
            let overlays = explanation["overlays"] as? [String] ?? []
            if explanation["empty"] as? Bool == true { #expect(overlays.isEmpty && explanation["peak"] == nil) }
            for name in overlays {
                #expect(FileManager.default.fileExists(atPath: daemon.outbox.appendingPathComponent("\(folder)/\(name)").path), "\(folder)/\(name)")
            }
        }
    }
}
