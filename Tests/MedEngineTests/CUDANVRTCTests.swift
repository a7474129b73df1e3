import Foundation
import Testing
@testable import MedEngine

/// The embedded kernels through a real NVRTC (no GPU needed): every kernel compiles to machine code for the
/// architectures MedLens targets, and compile errors come back as a typed error with NVRTC's log.
/// `scripts/bootstrap.sh` installs the nvidia-cuda-nvrtc-cu12 wheel into .venv-cuda when PyPI is reachable.
@Suite(CUDATestSupport.enabled(unless: CUDATestSupport.nvrtcUnavailable)) struct CUDANVRTCTests {
    static func compiler() throws -> CUDAKernelCompiler {
        guard let path = CUDATestSupport.nvrtcPath else { try Test.cancel(Comment(rawValue: CUDATestSupport.nvrtcUnavailable!)) }
        let config = CUDAConfiguration(nvrtcLibrary: path, searchStandardLocations: false)
        let (nvrtc, _) = try CUDALibraries.loadNVRTC(config)
        return CUDAKernelCompiler(nvrtc: nvrtc, cacheDirectory: nil)
    }

    /// Turing (the oldest CUDA 13 supports), Ampere, Hopper.
    @Test(arguments: [75, 80, 90])
    func everyKernelCompiles(_ arch: Int) throws {
        let compiler = try Self.compiler()
        print("nvrtc \(compiler.nvrtc.version) at \(CUDATestSupport.nvrtcPath!), architectures \(compiler.nvrtc.supportedArchitectures)")
        let target = compiler.target(forArchitecture: arch)
        #expect(target == "sm_\(arch)")
        let start = DispatchTime.now().uptimeNanoseconds
        let image = try compiler.compile(source: CUDAKernel.source, target: target)
        print("nvrtc sm_\(arch): \(image.count) bytes in \(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) s")
        #expect(Array(image.prefix(4)) == [0x7f, 0x45, 0x4c, 0x46], "a cubin is an ELF file")
        let text = String(decoding: image, as: UTF8.self)
        for kernel in CUDAKernel.allCases {
            #expect(text.contains(".text.\(kernel.rawValue)"), "\(kernel.rawValue) missing from the sm_\(arch) image")
        }
    }

    @Test func compileErrorsCarryTheLog() throws {
        let compiler = try Self.compiler()
        #expect {
            try compiler.compile(source: CUDAKernel.source + "\nextern \"C\" __global__ void broken(float* y) { y[0] = undefined_name; }\n",
                                 target: "sm_80")
        } throws: { error in
            guard case let .compilation(log) = error as? CUDAError else { return false }
            return log.contains("undefined_name")
        }
    }

    @Test func cacheKeysFollowSourceAndTarget() throws {
        let compiler = try Self.compiler()
        let key = compiler.cacheKey(source: CUDAKernel.source, target: "sm_90")
        #expect(key.hasSuffix("-sm_90.cubin"))
        #expect(key == compiler.cacheKey(source: CUDAKernel.source, target: "sm_90"))
        #expect(key != compiler.cacheKey(source: CUDAKernel.source + " ", target: "sm_90"))
        #expect(compiler.cacheKey(source: CUDAKernel.source, target: "compute_90").hasSuffix("-compute_90.ptx"))
    }
}
