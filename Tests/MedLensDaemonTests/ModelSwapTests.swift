import DaemonTestSupport
import Foundation
import MedEngine
import Glibc
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

    /// SIGHUP re-checks the models: a version refused at its flip and repaired in place (no new flip) is loaded
    /// once the daemon is told to reload.
    @Test func sighupRetriesARefusedVersion() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        #expect(waitUntil(20) { daemon.log.contains("model loaded model=chest-test version=1") })
        let store = ModelStore(root: daemon.models)
        let version = store.directory(name: "chest-test", version: "2")
        try TestModels.writePackage(TestModels.chest, version: "2", seed: 4242, to: version)
        let manifestURL = version.appendingPathComponent("model.json")
        let good = try Data(contentsOf: manifestURL)
        var broken = try JSONSerialization.jsonObject(with: good) as? [String: Any] ?? [:]
        broken["weightsSHA256"] = String(repeating: "f", count: 64)
        try JSONSerialization.data(withJSONObject: broken).write(to: manifestURL)
        try store.flip("chest-test", to: "2", action: .publish, note: nil)
        #expect(waitUntil(20) { daemon.log.contains("model refused; the served version is kept model=chest-test version=2 served=1") })
        try good.write(to: manifestURL)
        usleep(1_000_000)
        #expect(!daemon.log.contains("model swapped model=chest-test"))  // no flip, no retry
        daemon.signal(SIGHUP)
        #expect(waitUntil(20) { daemon.log.contains("model swapped model=chest-test version=2") })
        try daemon.drop("IMG0001.dcm")
        #expect(waitUntil(20) { daemon.archived().count == 1 })
        #expect((try daemon.findings().values.first?["models"] as? [[String: Any]])?.first?["version"] as? String == "2")
    }
}
