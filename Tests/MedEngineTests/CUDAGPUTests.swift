import Foundation
import Testing
@testable import MedEngine

/// The CUDA backend on a real GPU against the CPU (issue 6's acceptance: logits and gradients within 1e-3
/// relative in FP32 for every architecture). Cancelled, with the reason, where no GPU is usable. The same checks
/// run from the release binary as `medlens backends --check` (tools/cuda/device-check.sh).
@Suite(.serialized, CUDATestSupport.enabled(unless: CUDATestSupport.gpuUnavailable)) struct CUDAGPUTests {
    static func gpu() throws -> CUDABackend {
        switch CUDATestSupport.realGPU {
        case .success(let backend): return backend
        case .failure(let error): try Test.cancel("skipped: no GPU: \(error)")
        }
    }

    @Test(arguments: BackendParity.standardCases.map(\.architecture))
    func fullSizeArchitectureMatchesCPU(_ name: String) throws {
        let gpu = try Self.gpu()
        let r = try BackendParity.run(BackendParity.standardCases.first { $0.architecture == name }!, device: gpu)
        print(String(format: "cuda parity %@ on %@: worst %.1e (parameter %@), cpu sensitivity %.1e", name, gpu.info.device,
                     r.worst, r.worstParameter, r.referenceSensitivity ?? -1))
        #expect(r.fallbacks == 0)
        #expect(r.passed, "worst relative error \(r.worst) at \(r.worstParameter)")
    }

    @Test(arguments: ParityTests.cases)
    func fixtureArchitectureMatchesCPU(_ name: String) throws {
        let gpu = try Self.gpu()
        let r = BackendParity.compare(name: name, reference: try ParityTests.loaded(name), device: try ParityTests.loaded(name),
                                      input: try Fixtures.npy("\(name).input.npy"), targets: try Fixtures.npy("\(name).targets.npy"),
                                      layer: CUDAEmulatorTests.layer(name), on: gpu)
        #expect(r.passed, "worst relative error \(r.worst) at \(r.worstParameter)")
        try CUDAEmulatorTests.expectAsCloseToPyTorchAsTheCPU(name, gpu)
    }

    @Test func outOfMemoryIsATypedErrorAndTheDeviceRecovers() throws {
        let gpu = try Self.gpu()
        let check = gpu.checkOutOfMemoryRecovery()
        print("cuda out-of-memory on \(gpu.info.device): \(check.detail)")
        #expect(check.passed, "\(check.detail)")
    }
}
