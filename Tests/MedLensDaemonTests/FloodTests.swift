import DaemonTestSupport
import Foundation
import Testing

/// 2,000 files at once: bounded queues keep memory flat (files wait in the inbox until there is room), and every
/// descriptor opened for a job is closed again.
@Suite(.serialized) struct FloodTests {
    @Test func floodOf2000FilesWithBoundedMemoryAndNoDescriptorLeak() throws {
        let daemon = try DaemonHarness(settleSeconds: 0.1, sections: "[workers]\nmax_queued = 200")
        try daemon.start()
        #expect(waitUntil(10) { daemon.openDescriptors() != nil })
        usleep(500_000)
        let descriptorsBefore = try #require(daemon.openDescriptors())
        let data = try Data(contentsOf: DaemonHarness.fixture("photo/png/rgb16.png"))
        let count = 2000
        let started = Date()
        for index in 0..<count { try daemon.drop(data: data, as: "flood-\(index).png") }
        var peak = 0
        #expect(waitUntil(400) {
            peak = max(peak, daemon.peakRSSKiB() ?? 0)
            return daemon.archived().count + daemon.quarantined().count == count
        })
        let seconds = Date().timeIntervalSince(started)
        usleep(500_000)
        peak = max(peak, daemon.peakRSSKiB() ?? 0)
        let descriptorsAfter = try #require(daemon.openDescriptors())
        print("flood: \(count) files in \(String(format: "%.1f", seconds)) s, peak RSS \(peak / 1024) MiB, descriptors \(descriptorsBefore) -> \(descriptorsAfter)")
        #expect(daemon.archived().count == count)
        #expect(try daemon.findings().count == count)
        #expect(peak < 512 * 1024, "peak RSS \(peak) KiB")
        #expect(descriptorsAfter <= descriptorsBefore + 2)
    }
}
