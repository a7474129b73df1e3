import MedEngine

/// `[engine] backend`: MedEngine chooses (auto: CUDA when a device is usable, else the CPU, with the reason),
/// and the daemon makes the choice the process-wide backend that every model and explanation runs on.
enum EngineBackend {
    /// Kernels NVRTC compiles are cached under the state folder, which the hardened unit may write (it has no
    /// home directory), unless MEDLENS_CUDA_CACHE says otherwise.
    static func install(_ preference: BackendPreference, stateFolder: String) throws(CUDAError) -> BackendSelection {
        var cuda = CUDAConfiguration.fromEnvironment()
        if cuda.kernelCacheDirectory == nil { cuda.kernelCacheDirectory = stateFolder + "/cuda-kernels" }
        let selection = try BackendSelection.select(preference, cuda: cuda)
        Engine.backend = selection.backend
        return selection
    }
}
