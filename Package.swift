// swift-tools-version:6.0
import PackageDescription

// Data flows one way: CDicom/CImageCodecs -> MedImaging -> MedEngine -> MedExplain -> MedLensCore
// -> MedLensDaemon / MedTrainKit -> thin executables. See docs/architecture.md.
let dcmtkLibraries: [LinkerSetting] = [
    "dcmjpls", "dcmjpeg", "ijg8", "ijg12", "ijg16", "dcmimage", "dcmimgle", "dcmdata", "oflog", "ofstd",
    "openjp2", "z",
].map { .linkedLibrary($0) }

let package = Package(
    name: "MedLens",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "medlens", targets: ["medlens"]),
        .executable(name: "medlensd", targets: ["medlensd"]),
        .executable(name: "medtrain", targets: ["medtrain"]),
        // Test support: stands in for libcuda/libnvrtc/libcublas where there is no GPU (docs/cuda.md).
        .library(name: "MedLensCUDAEmulator", type: .dynamic, targets: ["CUDAEmulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        // Label tables: rows as arrays beside a separate header (column order kept), malformed quoting reported.
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        // MedMNIST .npz files are ZIP archives of .npy arrays.
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The only C++ in the project: a small C API over DCMTK and OpenJPEG.
        .target(
            name: "CDicom",
            cxxSettings: [.unsafeFlags(["-I/usr/include/openjpeg-2.5", "-Wno-deprecated-declarations"])],
            linkerSettings: dcmtkLibraries
        ),
        // libpng / libjpeg behind a C shim (both report errors through longjmp, which Swift cannot catch).
        .target(
            name: "CImageCodecs",
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]
        ),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        // CUDA driver, NVRTC and cuBLAS entry points resolved with dlopen at run time: no CUDA needed to build.
        .target(name: "CCUDA"),
        .target(name: "CUDAEmulator", linkerSettings: [.linkedLibrary("openblas")]),
        // The engine's SIMD convolution kernels (AVX2 / AVX-512, picked at run time); optimised in debug builds too.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // NumPy .npy: the exchange format for volumes, tensors and every test reference.
        .target(name: "NumPyFormat"),
        .target(name: "MedImaging", dependencies: ["CDicom", "CImageCodecs", "NumPyFormat"]),
        .target(
            name: "MedEngine",
            dependencies: ["COpenBLAS", "CCUDA", "CKernels", "MedImaging", "NumPyFormat", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Where a model looked: the Grad-CAM family over the engine's named activations.
        .target(name: "MedExplain", dependencies: ["MedEngine", "MedImaging"]),
        .target(name: "MedLensCore", dependencies: ["MedImaging", "MedEngine", "MedExplain", .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(
            name: "medlens",
            dependencies: ["MedImaging", "MedEngine", "MedExplain", "MedLensCore", "MedLensDaemon", "NumPyFormat", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The spool: inotify intake, job journal (SQLite), outputs, quarantine, systemd integration.
        .target(
            name: "MedLensDaemon",
            dependencies: ["MedImaging", "MedEngine", "MedExplain", "MedLensCore", .product(name: "TOMLKit", package: "TOMLKit"),
                           .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Prometheus", package: "swift-prometheus")]
        ),
        .executableTarget(
            name: "medlensd",
            dependencies: ["MedLensDaemon", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // What the daemon and CLI tests share: starting medlensd on a temporary spool, model stores of real
        // (small, seeded) packages, and the findings schema check.
        .target(name: "DaemonTestSupport", dependencies: ["MedEngine", "MedImaging"], path: "Tests/DaemonTestSupport"),
        .testTarget(name: "MedLensDaemonTests", dependencies: ["MedLensDaemon", "MedLensCore", "MedEngine", "DaemonTestSupport"]),
        .executableTarget(
            name: "medtrain",
            dependencies: ["MedEngine", "MedImaging", "MedTrainKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The trainer: label tables, data sets, splits, preprocessing, batches, training, metrics.
        .target(
            name: "MedTrainKit",
            dependencies: ["MedImaging", "MedEngine", "NumPyFormat", .product(name: "CSV", package: "CSV.swift"), .product(name: "ZIPFoundation", package: "ZIPFoundation")]
        ),
        // Runs the built executables; depends on them only through the build folder.
        .testTarget(name: "MedLensCLITests", dependencies: ["NumPyFormat", "DaemonTestSupport"]),
        .testTarget(name: "MedLensCoreTests", dependencies: ["MedLensCore", "MedEngine", "DaemonTestSupport"]),
        .testTarget(name: "NumPyFormatTests", dependencies: ["NumPyFormat"]),
        .testTarget(name: "MedImagingTests", dependencies: ["MedImaging", "NumPyFormat"]),
        .testTarget(name: "MedEngineTests", dependencies: ["MedEngine", "CKernels", "MedImaging", "NumPyFormat"]),
        .testTarget(name: "MedExplainTests", dependencies: ["MedExplain", "MedEngine", "MedImaging", "NumPyFormat"]),
        .testTarget(name: "MedTrainKitTests", dependencies: ["MedTrainKit", "MedImaging", "NumPyFormat"]),
    ],
    swiftLanguageModes: [.v5],
    cxxLanguageStandard: .cxx17
)
