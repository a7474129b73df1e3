import DaemonTestSupport
import Foundation
import MedLensDaemon

extension DaemonHarness {
    /// The configuration the harness's daemon runs with, placed as `--spool` places it.
    var config: DaemonConfig {
        get throws { try ConfigLoader.load(file: configFile.path).placingSpool(under: spool.path) }
    }
}
