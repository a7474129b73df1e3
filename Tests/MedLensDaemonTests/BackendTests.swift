import DaemonTestSupport
import Foundation
import Glibc
import Testing

/// `[engine] backend` through the real medlensd: `cuda` without a driver refuses to start with the reason;
/// `auto` with a CUDA device (here the CUDA emulator named by MEDLENS_CUDA_*, which runs the backend's real
/// kernel source on the CPU) serves the models on it, and the findings say so.
@Suite(.serialized) struct BackendTests {
    static let emulator = DaemonHarness.packageRoot.appendingPathComponent(".build/debug/libMedLensCUDAEmulator.so").path

    @Test func cudaWithoutADriverRefusesToStartAndSaysWhy() throws {
        if dlopen("libcuda.so.1", RTLD_NOW) != nil { try Test.cancel("skipped: this machine has an NVIDIA driver") }
        let daemon = try DaemonHarness(sections: "[engine]\nbackend = \"cuda\"")
        try daemon.start()
        let process = try #require(daemon.process)
        process.waitUntilExit()
        #expect(process.terminationStatus == 78)
        #expect(daemon.log.contains("engine.backend"), "\(daemon.log)")
        #expect(daemon.log.contains("libcuda.so.1 not found"), "\(daemon.log)")
    }

    @Test func autoServesTheModelsOnTheCUDADevice() throws {
        guard FileManager.default.fileExists(atPath: Self.emulator) else { try Test.cancel("skipped: \(Self.emulator) is not built") }
        let daemon = try DaemonHarness()
        let cache = daemon.root.appendingPathComponent("kernels").path
        try daemon.start(environment: ["MEDLENS_CUDA_DRIVER": Self.emulator, "MEDLENS_CUDA_NVRTC": Self.emulator,
                                       "MEDLENS_CUDA_CUBLAS": Self.emulator, "MEDLENS_CUDA_CACHE": cache])
        #expect(waitUntil(20) { daemon.log.contains("backend name=cuda") }, "\(daemon.log)")
        try daemon.drop("IMG0001.dcm")
        try daemon.drop(fixture: "photo/1410_left.jpg", as: "fundus.jpg")
        #expect(waitUntil(120) { daemon.archived().count == 2 }, "\(daemon.log)")
        let documents = try daemon.findings()
        #expect(documents.count == 2)
        for document in documents.values {
            let models = document["models"] as? [[String: Any]] ?? []
            #expect(!models.isEmpty && models.allSatisfy { $0["backend"] as? String == "cuda" }, "\(models)")
            #expect((document["findings"] as? [[String: Any]])?.isEmpty == false)
        }
        // The kernels NVRTC (here the emulator's compiler) built were cached where MEDLENS_CUDA_CACHE says.
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).isEmpty == false)
    }
}
