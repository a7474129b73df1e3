import ArgumentParser
import Foundation
import MedImaging

/// The input arguments shared by the commands that read scans.
struct InputOptions: ParsableArguments {
    @Argument(help: "A scan file (DICOM, Spectralis .vol, PNG, JPEG, TIFF) or a folder of them.") var path: String
    @Flag(name: .long, help: "Read the folder as one OCT volume of B-scan images in name order.") var bscanFolder = false

    func read() -> ScanReadResult {
        ScanReader.read(URL(fileURLWithPath: path), bscanFolder: bscanFolder)
    }

    /// Reads, reports every failure on standard error, and exits with status 2 when nothing could be read.
    func readVolumes() throws -> [Volume] {
        let result = read()
        for failure in result.failures {
            FileHandle.standardError.write(Data("\(failure.path): \(failure.reason.rawValue): \(failure.message)\n".utf8))
        }
        guard !result.volumes.isEmpty else { throw ExitCode(2) }
        return result.volumes
    }
}

/// `out.npy` for one volume; `out-1.npy`, `out-2.npy`, ... for several. `suffix` goes before the number.
/// The parent folder is created if missing.
func outputURL(_ path: String, index: Int, of count: Int, suffix: String = "", defaultExtension: String) throws -> URL {
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    let base = url.deletingPathExtension()
    let ext = url.pathExtension.isEmpty ? defaultExtension : url.pathExtension
    let number = count == 1 ? "" : "-\(index + 1)"
    return base.deletingLastPathComponent().appendingPathComponent("\(base.lastPathComponent)\(suffix)\(number).\(ext)")
}
