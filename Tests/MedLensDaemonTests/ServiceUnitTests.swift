import DaemonTestSupport
import Foundation
import Testing

/// The shipped unit, checked by systemd's own tools where they are installed.
struct ServiceUnitTests {
    static func run(_ arguments: [String]) -> (status: Int32, output: String)? {
        guard let tool = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first(where: FileManager.default.isExecutableFile) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.currentDirectoryURL = DaemonHarness.packageRoot
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func exposureIsAtMostTwo() throws {
        guard let result = Self.run(["security", "--offline=true", "systemd/medlensd.service"]) else {
            print("systemd-analyze is not installed: skipped"); return
        }
        let line = try #require(result.output.split(separator: "\n").first { $0.contains("Overall exposure level") })
        let score = try #require(line.split(separator: " ").compactMap { Double($0) }.first)
        print("systemd-analyze security: \(line.trimmingCharacters(in: .whitespaces))")
        #expect(score <= 2.0, "\(result.output)")
    }

    @Test func sysusersAndTmpfilesDeclareTheUserAndFolders() throws {
        let sysusers = try String(contentsOf: DaemonHarness.packageRoot.appendingPathComponent("systemd/sysusers.d/medlens.conf"), encoding: .utf8)
        #expect(sysusers.split(separator: "\n").contains { $0.hasPrefix("u medlens ") })
        let tmpfiles = try String(contentsOf: DaemonHarness.packageRoot.appendingPathComponent("systemd/tmpfiles.d/medlens.conf"), encoding: .utf8)
        for folder in ["inbox", "outbox", "quarantine", "archive", "state", "models"] {
            #expect(tmpfiles.contains("/var/lib/medlens/\(folder) "), "\(folder)")
        }
    }
}
