import MedEngine

/// `[engine] backend`: which backend serves the models. The CUDA backend is built on another branch; until it
/// is part of this build, `auto` means the CPU (and says why) and `cuda` is refused at start.
enum BackendSelection {
    /// The backend's name for findings and the reason for the log, or nil with the reason it cannot be had.
    static func select(_ choice: BackendChoice) -> (name: String?, note: String) {
        switch choice {
        case .cpu: return (Engine.backend.name, "engine.backend = \"cpu\"")
        case .auto: return (Engine.backend.name, "engine.backend = \"auto\": this build has no CUDA backend, using the CPU")
        case .cuda: return (nil, "engine.backend = \"cuda\": this build has no CUDA backend; use \"auto\" or \"cpu\"")
        }
    }
}
