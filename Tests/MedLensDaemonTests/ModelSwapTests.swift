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
        func versions() -> [String] {
            ((try? daemon.findings().values.map { (($0["models"] as? [[String: Any]])?.first?["version"] as? String) ?? "?" }) ?? [])
        }
        // Files keep arriving while version 2 is published: some are in flight during the swap.
        for index in 0..<total / 2 {
            try daemon.drop(fixture: "photo/1410_left.jpg", as: "photo-\(index).jpg")
            usleep(40_000)
        }
        #expect(waitUntil(60) { versions().count >= 10 })
        try TestModels.publish(TestModels.fundus, version: "2", seed: 777, into: daemon.models)
        #expect(waitUntil(30) { daemon.log.contains("model swapped model=fundus-test version=2") })
        for index in total / 2..<total {
            try daemon.drop(fixture: "photo/1410_left.jpg", as: "photo-\(index).jpg")
            usleep(40_000)
        }
        #expect(waitUntil(90) { daemon.archived().count + daemon.quarantined().count == total })
        #expect(daemon.quarantined().isEmpty)
        let served = versions()
        #expect(served.count == total)
        #expect(Set(served) == ["1", "2"], "\(served)")
        #expect(served.filter { $0 == "1" }.count >= 10 && served.filter { $0 == "2" }.count >= total / 2, "\(served)")

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
        #expect(versions().filter { $0 == "2" }.count >= total / 2 + 1)
        #expect(daemon.quarantined().isEmpty)
    }
}
