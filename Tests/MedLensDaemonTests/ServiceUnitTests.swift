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

    /// `systemd-analyze verify` on the unit as installed, its binaries pointing at this build's.
    @Test func verifyIsCleanWithTheBinariesInPlace() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("medlensd-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let unit = try String(contentsOf: DaemonHarness.packageRoot.appendingPathComponent("systemd/medlensd.service"), encoding: .utf8)
        let copy = folder.appendingPathComponent("medlensd.service")
        try unit.replacingOccurrences(of: "/usr/local/bin", with: DaemonHarness.packageRoot.appendingPathComponent(".build/debug").path)
            .write(to: copy, atomically: true, encoding: .utf8)
        guard let result = Self.run(["verify", copy.path]) else { print("systemd-analyze is not installed: skipped"); return }
        #expect(result.status == 0 && result.output.isEmpty, "\(result.output)")
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
