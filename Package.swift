// swift-tools-version:6.0
import PackageDescription

// Data flows one way: CDicom/CImageCodecs -> MedImaging -> (MedEngine) -> MedExplain -> MedLensCore
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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The only C++ in the project: a small C API over DCMTK and OpenJPEG.
        .target(
            name: "CDicom",
            cxxSettings: [.unsafeFlags(["-std=c++17", "-Wno-deprecated-declarations"])],
            linkerSettings: dcmtkLibraries
        ),
        // libpng / libjpeg behind a C shim (both report errors through longjmp, which Swift cannot catch).
        .target(
            name: "CImageCodecs",
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]
        ),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .target(name: "MedImaging", dependencies: ["CDicom", "CImageCodecs"]),
        .target(name: "MedEngine", dependencies: ["COpenBLAS"]),
        .executableTarget(
            name: "medlens",
            dependencies: ["MedImaging", "MedEngine", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "medlensd",
            dependencies: ["MedImaging", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "medtrain",
            dependencies: ["MedEngine", "MedImaging", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "MedEngineTests", dependencies: ["MedEngine"]),
    ],
    swiftLanguageModes: [.v5],
    cxxLanguageStandard: .cxx17
)
