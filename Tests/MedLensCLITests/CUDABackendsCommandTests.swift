import Foundation
import Testing

/// `medlens backends`, `bench --backend` and `run-model --backend` as a user runs them: on this machine's real
/// (absent) NVIDIA driver, and with the CUDA emulator named by MEDLENS_CUDA_DRIVER/NVRTC/CUBLAS standing in for one.
struct CUDABackendsCommandTests {
    typealias CLI = MedlensCommandTests

    static let driverInstalled = dlopen("libcuda.so.1", RTLD_NOW) != nil
    static let emulator = CLI.binary("libMedLensCUDAEmulator.so").path
    static let emulatorCache = FileManager.default.temporaryDirectory.appendingPathComponent("medlens-cli-cuda-\(getpid())").path
    static var emulated: [String: String] {
        ["MEDLENS_CUDA_DRIVER": emulator, "MEDLENS_CUDA_NVRTC": emulator, "MEDLENS_CUDA_CUBLAS": emulator,
         "MEDLENS_CUDA_CACHE": emulatorCache]
    }

    static func requireEmulator() throws {
        guard FileManager.default.fileExists(atPath: emulator) else { try Test.cancel("skipped: \(emulator) is not built") }
        if (try? CLI.run(["backends"], environment: emulated))?.stdout.isEmpty != false { try Test.cancel("skipped: emulator unusable") }
    }

    @Test func listsTheBackendsAndWhyCUDAIsMissing() throws {
        if Self.driverInstalled { try Test.cancel("skipped: this machine has an NVIDIA driver") }
        let result = try CLI.run(["backends"])
        #expect(result.status == 0, "\(result.stderr)")
        let text = String(decoding: result.stdout, as: UTF8.self)
        #expect(text.contains("cpu   available: OpenBLAS"), "\(text)")
        #expect(text.contains("cuda  not available: libcuda.so.1 not found"), "\(text)")
        #expect(text.contains("auto  -> cpu: CUDA not used: libcuda.so.1 not found"), "\(text)")

        let json = try #require(try JSONSerialization.jsonObject(with: CLI.run(["backends", "--json"]).stdout) as? [String: Any])
        #expect(json["auto"] as? String == "cpu")
        let cuda = try #require(json["cuda"] as? [String: Any])
        #expect(cuda["available"] as? Bool == false)
        #expect((cuda["problem"] as? String)?.hasPrefix("libcuda.so.1 not found") == true)
        #expect((cuda["libraries"] as? [[String: Any]])?.map { $0["name"] as? String } == ["driver", "nvrtc", "cublas"])

        let check = try CLI.run(["backends", "--check"])
        #expect(check.status == 2)
        #expect(check.stderr.contains("CUDA is not available here: libcuda.so.1 not found"), "\(check.stderr)")
        let bench = try CLI.run(["bench", "--arch", "small_cnn", "--input", "1x1x28x28", "--backend", "cuda"])
        #expect(bench.status != 0)
        #expect(bench.stderr.contains("backend cuda is not available: libcuda.so.1 not found"), "\(bench.stderr)")
        let wrong = try CLI.run(["bench", "--arch", "small_cnn", "--input", "1x1x28x28", "--backend", "gpu"])
        #expect(wrong.status != 0 && wrong.stderr.contains("--backend gpu: use auto, cpu, cuda"), "\(wrong.stderr)")
    }

    @Test func checkComparesCUDAWithTheCPUOnTheEmulator() throws {
        try Self.requireEmulator()
        let listed = String(decoding: try CLI.run(["backends"], environment: Self.emulated).stdout, as: UTF8.self)
        #expect(listed.contains("cuda  available: MedLens CUDA emulator, compute capability 9.0"), "\(listed)")
        #expect(listed.contains("auto  -> cuda: MedLens CUDA emulator"), "\(listed)")
        let result = try CLI.run(["backends", "--check", "--arch", "small_cnn", "--arch", "small_cnn3d"], environment: Self.emulated)
        let text = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0, "\(text)\(result.stderr)")
        #expect(text.contains("ok   small_cnn 4x1x28x28: worst "), "\(text)")
        #expect(text.contains("ok   small_cnn3d 2x1x16x28x28: worst "), "\(text)")
        #expect(text.contains("ok   out-of-memory: refused after"), "\(text)")
        #expect(text.contains("parity: 2 of 2 architectures within 0.001 relative (fp32)"), "\(text)")

        let json = try #require(try JSONSerialization.jsonObject(with: CLI.run(["backends", "--check", "--arch", "small_cnn", "--json", "--math", "tf32"],
                                                                               environment: Self.emulated).stdout) as? [String: Any])
        let parity = try #require(json["parity"] as? [[String: Any]])
        #expect(parity.count == 1 && parity[0]["name"] as? String == "small_cnn")
        // TF32 rounds the products' inputs to 10 mantissa bits: the gradients move far more than FP32 rounding does
        // (batch-norm gradients, sums that cancel, amplify it), so TF32 fails the FP32 bound and says so.
        let tf32 = parity[0]["parameterGradient"] as? Double ?? 0
        print("backends --check --math tf32 on the emulator: worst parameter gradient \(tf32)")
        #expect(tf32 > 1e-4 && tf32.isFinite, "\(parity[0])")
        #expect((json["cuda"] as? [String: Any]).flatMap { ($0["device"] as? [String: Any])?["math"] as? String } == "tf32")
        let unknown = try CLI.run(["backends", "--check", "--arch", "lenet"], environment: Self.emulated)
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown architecture lenet"), "\(unknown.stderr)")
    }

    @Test func benchAndRunModelOnTheEmulatedDevice() throws {
        try Self.requireEmulator()
        let bench = try CLI.run(["bench", "--arch", "small_cnn", "--input", "2x1x28x28", "--iterations", "2", "--backend", "cuda", "--json"],
                                environment: Self.emulated)
        #expect(bench.status == 0, "\(bench.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: bench.stdout) as? [String: Double])
        #expect(json["median_ms"]! > 0 && json["gflops"]! > 0)
        let train = try CLI.run(["bench", "--arch", "small_cnn", "--input", "2x1x28x28", "--iterations", "2", "--backend", "auto", "--train"],
                                environment: Self.emulated)
        let line = String(decoding: train.stdout, as: UTF8.self)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(line.contains("training step on cuda") && line.contains("0 operations on the CPU"), "\(line)")
        #expect(train.stderr.contains("backend: cuda: MedLens CUDA emulator"), "auto says what it chose: \(train.stderr)")

        // run-model on the device gives the CPU's logits.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("medlens-cuda-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let package = scratch.appendingPathComponent("small-cnn").path
        let imported = try EngineCommandTests.importSmallCNN(to: package)
        #expect(imported.status == 0, "\(imported.stderr)")
        var logits: [[Float]] = []
        for backend in ["cpu", "cuda"] {
            let out = scratch.appendingPathComponent("\(backend).npy").path
            let ran = try CLI.run(["run-model", "--model", package, "--input", CLI.fixture("engine/small_cnn.input.npy"), "--output", out,
                                   "--backend", backend], environment: Self.emulated)
            #expect(ran.status == 0, "\(ran.stderr)")
            logits.append(try Data(contentsOf: URL(fileURLWithPath: out)).withUnsafeBytes { raw in
                Array(raw.bindMemory(to: Float.self).suffix(6))
            })
        }
        #expect(zip(logits[0], logits[1]).allSatisfy { abs($0 - $1) <= 1e-5 * (1 + abs($0)) }, "\(logits)")
    }
}
