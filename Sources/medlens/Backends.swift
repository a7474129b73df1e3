import ArgumentParser
import Foundation
import MedEngine

/// `medlens backends`: which compute backends can run here and why not; `--check` compares CUDA with the CPU.
struct Backends: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the compute backends, whether each can run here and why not.",
        discussion: """
            CUDA needs libcuda.so.1 (the NVIDIA driver), libnvrtc and libcublas, searched in --cuda-library-path, \
            MEDLENS_CUDA_LIBRARY_PATH, the linker's path and /usr/local/cuda/lib64 (docs/cuda.md). With --check, every \
            architecture runs on CUDA and on the CPU from the same seeded weights and inputs; the command fails when any \
            logit, Grad-CAM gradient or training gradient differs by more than 1e-3 relative.
            """)

    @Flag(help: "Compare CUDA with the CPU on every architecture (or those given with --arch).") var check = false
    @Option(name: .customLong("arch"), help: "An architecture for --check (repeatable; default: all).") var architectures: [String] = []
    @Option(help: "A folder searched first for the CUDA libraries (repeatable).") var cudaLibraryPath: [String] = []
    @Option(help: "Matrix products on CUDA: fp32, tf32 or bf16 (default: fp32, or MEDLENS_CUDA_MATH).") var math: String?
    @Option(help: "Threads for the CPU backend (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        if let threads { CPUBackend.setThreads(threads) }
        let config = try cudaConfiguration(libraryPaths: cudaLibraryPath, math: math)
        let status = CUDAStatus.probe(config)
        let auto = try BackendSelection.select(.auto, cuda: config)
        let cuda = auto.backend as? CUDABackend
        var report: [String: Any] = [
            "cpu": ["available": true, "detail": BackendSelection.cpuSummary],
            "cuda": cudaReport(status, cuda),
            "auto": auto.backend.name,
            "reason": auto.reason,
        ]
        if !json { printStatus(status, cuda, auto) }
        guard check else {
            if json { try printJSON(report) }
            return
        }
        guard let cuda else {
            if json { try printJSON(report) }
            FileHandle.standardError.write(Data("medlens backends --check: CUDA is not available here: \(status.problem ?? auto.reason)\n".utf8))
            throw ExitCode(2)
        }
        let cases = try selectedCases()
        var results: [[String: Any]] = [], failed: [String] = []
        for c in cases {
            let r = try BackendParity.run(c, device: cuda)
            if !r.passed { failed.append(c.architecture) }
            if json {
                results.append(try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as? [String: Any] ?? [:])
            } else {
                print(parityLine(r))
            }
        }
        let memory = cuda.checkOutOfMemoryRecovery()
        if !memory.passed { failed.append("out-of-memory") }
        report["out_of_memory"] = ["passed": memory.passed, "detail": memory.detail]
        if !json { print("\(memory.passed ? "ok  " : "FAIL") out-of-memory: \(memory.detail)") }
        report["parity"] = results
        report["tolerance"] = Double(BackendParity.tolerance)
        report["failed"] = failed
        if json { try printJSON(report) } else {
            let passed = cases.filter { !failed.contains($0.architecture) }.count
            print("parity: \(passed) of \(cases.count) architectures within \(BackendParity.tolerance) relative (\(cuda.info.math.rawValue))")
        }
        if !failed.isEmpty { throw ExitCode(1) }
    }

    private func selectedCases() throws -> [BackendParity.Case] {
        guard !architectures.isEmpty else { return BackendParity.standardCases }
        return try architectures.map { name in
            guard let c = BackendParity.standardCases.first(where: { $0.architecture == name }) else {
                throw ValidationError("unknown architecture \(name); known: \(ModelZoo.architectures.joined(separator: ", "))")
            }
            return c
        }
    }

    private func cudaReport(_ status: CUDAStatus, _ cuda: CUDABackend?) -> [String: Any] {
        var out: [String: Any] = [
            "available": cuda != nil,
            "libraries": status.libraries.map { ["name": $0.name, "path": $0.path ?? NSNull(), "detail": $0.detail] as [String: Any] },
            "devices": status.devices.map { ["name": $0.name, "compute_capability": $0.computeCapability, "memory_bytes": $0.memoryBytes] as [String: Any] },
        ]
        if let problem = status.problem { out["problem"] = problem }
        if let cuda {
            let i = cuda.info
            out["device"] = ["name": i.device, "compute_capability": i.computeCapability, "multiprocessors": i.multiprocessors,
                             "memory_bytes": i.memoryBytes, "driver": i.driverVersion, "math": i.math.rawValue, "kernels": i.kernels]
        }
        return out
    }

    private func printStatus(_ status: CUDAStatus, _ cuda: CUDABackend?, _ auto: BackendSelection) {
        print("cpu   available: \(BackendSelection.cpuSummary)")
        if let cuda {
            print("cuda  available: \(cuda.summary)")
            print("      kernels: \(cuda.info.kernels)")
        } else {
            print("cuda  not available: \(status.problem ?? auto.reason)")
        }
        for lib in status.libraries {
            print("      \(lib.name.padding(toLength: 7, withPad: " ", startingAt: 0)) \(lib.path.map { "\($0) (\(lib.detail))" } ?? "not found")")
        }
        for (i, d) in status.devices.enumerated() {
            print("      device \(i): \(d.name), compute capability \(d.computeCapability), \(d.memoryBytes >> 20) MiB")
        }
        print("auto  -> \(auto.reason)")
    }

    private func parityLine(_ r: BackendParity.Result) -> String {
        var line = String(format: "%@ %@ %@: worst %.1e (logits %.1e, eval graph %.1e, grad-cam %.1e, loss %.1e, input grad %.1e, parameter grad %.1e at %@), %d parameters, %.1f s",
                          r.passed ? "ok  " : "FAIL", r.name, r.input.map(String.init).joined(separator: "x"), r.worst, r.logits,
                          r.graphLogits, r.activationGradient, r.loss, r.inputGradient, r.parameterGradient, r.worstParameter,
                          r.parameters, r.seconds)
        if r.fallbacks > 0 { line += ", \(r.fallbacks) operations ran on the CPU" }
        if let s = r.referenceSensitivity {
            line += String(format: "; cpu sensitivity to a 1-ulp input change %.1e", s)
            if s > BackendParity.tolerance { line += " (ill-conditioned input: compare with care)" }
        }
        return line
    }

    private func printJSON(_ object: [String: Any]) throws {
        print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
    }
}

/// The CUDA settings of the commands: the environment, then the command line's folders and math mode.
func cudaConfiguration(libraryPaths: [String], math: String?) throws -> CUDAConfiguration {
    var config = CUDAConfiguration.fromEnvironment()
    config.libraryDirectories = libraryPaths + config.libraryDirectories
    if let math {
        guard let mode = CUDAMath(rawValue: math) else {
            throw ValidationError("--math \(math): use \(CUDAMath.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        config.math = mode
    }
    return config
}

/// The backend for `--backend auto|cpu|cuda`; `auto` says on stderr why it chose what it chose.
func selectBackend(_ name: String, libraryPaths: [String] = [], math: String? = nil) throws -> any Backend {
    guard let preference = BackendPreference(rawValue: name) else {
        throw ValidationError("--backend \(name): use \(BackendPreference.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    do {
        let selection = try BackendSelection.select(preference, cuda: try cudaConfiguration(libraryPaths: libraryPaths, math: math))
        if preference == .auto { FileHandle.standardError.write(Data("backend: \(selection.reason)\n".utf8)) }
        return selection.backend
    } catch let error as CUDAError {
        throw ValidationError("backend cuda is not available: \(error)")
    }
}
