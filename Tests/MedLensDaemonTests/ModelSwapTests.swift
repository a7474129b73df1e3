import DaemonTestSupport
import Foundation
import MedEngine
import Testing

/// Publishing into the watched store while files flow: the new version is loaded beside the old one and swapped
/// in between batches; no job fails, and every result names the version that served it. A version that fails
/// verification is refused and the served one kept.
@Suite(.serialized) struct ModelSwapTests {
    @Test func publishingMidStreamFailsNoJobAndFindingsNameTheVersion() throws {
        let daemon = try DaemonHarness(settleSeconds: 0.1)
        try daemon.start()
        let total = 40
        for index in 0..<total {
            try daemon.drop(fixture: "photo/1410_left.jpg", as: "photo-\(index).jpg")
            if index == total / 2 {
                try TestModels.publish(TestModels.fundus, version: "2", seed: 777, into: daemon.models)
            }
            usleep(60_000)
        }
        #expect(waitUntil(90) { daemon.archived().count + daemon.quarantined().count == total })
        #expect(daemon.quarantined().isEmpty)
        let versions = try daemon.findings().values.map { (($0["models"] as? [[String: Any]])?.first?["version"] as? String) ?? "?" }
        #expect(versions.count == total)
        #expect(Set(versions) == ["1", "2"], "\(versions)")
        #expect(versions.filter { $0 == "2" }.count >= 5)
        #expect(daemon.log.contains("model swapped model=fundus-test version=2"))

        // Version 3 is published broken (its weights no longer match the recorded sha256): refused, 2 kept.
        let store = ModelStore(root: daemon.models)
        let broken = store.directory(name: "fundus-test", version: "3")
        try FileManager.default.copyItem(at: store.directory(name: "fundus-test", version: "2"), to: broken)
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: broken.appendingPathComponent("model.json"))) as? [String: Any] ?? [:]
        manifest["version"] = "3"
        manifest["weightsSHA256"] = String(repeating: "0", count: 64)
        try JSONSerialization.data(withJSONObject: manifest).write(to: broken.appendingPathComponent("model.json"))
        try store.flip("fundus-test", to: "3", action: .publish, note: "deliberately broken")
        #expect(waitUntil(20) { daemon.log.contains("model refused; the served version is kept model=fundus-test version=3 served=2") })
        try daemon.drop(fixture: "photo/1410_left.jpg", as: "after-refusal.jpg")
        #expect(waitUntil(30) { daemon.archived().count == total + 1 })
        let last = try daemon.findings().values.filter { (($0["models"] as? [[String: Any]])?.first?["version"] as? String) == "2" }
        #expect(last.count >= 6)
        #expect(daemon.quarantined().isEmpty)
    }
}
