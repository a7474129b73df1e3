import Foundation

/// One input that could not be turned into a volume, with its stable reason code.
public struct InputFailure: Sendable, Codable, Equatable {
    public var path: String
    public var reason: IntakeError.Reason
    public var message: String
    public init(path: String, error: IntakeError) { self.path = path; reason = error.reason; message = error.message }
}

/// What a file or folder held: the volumes read from it and the inputs that failed, each with its reason.
public struct ScanReadResult: Sendable {
    public var volumes: [Volume] = []
    public var failures: [InputFailure] = []
    public init() {}
}

/// The single entry point of intake: reads a file or a folder of any supported kind.
/// DICOM files are grouped into series; photos and Spectralis `.vol` files are recognised by their leading bytes
/// and read on their own. A folder of B-scan images is one OCT volume only when `bscanFolder` says so, since a
/// folder of unrelated photographs looks the same.
public enum ScanReader {
    public static func read(_ url: URL, limits: IntakeLimits = .default, bscanFolder: Bool = false) -> ScanReadResult {
        var result = ScanReadResult()
        if bscanFolder {
            do {
                result.volumes.append(try BScanFolderReader(limits: limits).read(url))
            } catch {
                result.failures.append(InputFailure(path: url.path, error: error))
            }
            return result
        }
        let files: [URL]
        do {
            files = try inputFiles(at: url)
        } catch let error as IntakeError {
            result.failures.append(InputFailure(path: url.path, error: error))
            return result
        } catch {
            result.failures.append(InputFailure(path: url.path, error: IntakeError(.ioError, "\(error)")))
            return result
        }
        var headers: [DicomHeader] = []
        for file in files {
            do {
                if let size = try? file.resourceValues(forKeys: [.fileSizeKey]).fileSize, size > limits.maxFileBytes {
                    throw IntakeError(.tooLarge, "\(size) bytes exceed the limit of \(limits.maxFileBytes)")
                }
                if let kind = OCTAndPhotoReader.kind(of: file) {
                    do {
                        result.volumes += try OCTAndPhotoReader.volumes(at: file, kind: kind, limits: limits)
                    } catch {
                        // Leading bytes can mislead (a headless big-endian DICOM file can open like a TIFF):
                        // a file DCMTK reads is DICOM after all; otherwise the photo reader's reason stands.
                        guard let header = try? DicomReader.header(at: file) else { throw error }
                        headers.append(header)
                    }
                } else {
                    headers.append(try DicomReader.header(at: file))
                }
            } catch let error as IntakeError {
                result.failures.append(InputFailure(path: file.path, error: error))
            } catch {
                result.failures.append(InputFailure(path: file.path, error: IntakeError(.decodeFailed, "\(error)")))
            }
        }
        let (plans, rejected) = DicomSeriesAssembler.plan(headers)
        result.failures += rejected.map { InputFailure(path: $0.0.path, error: $0.1) }
        for plan in plans {
            do {
                result.volumes.append(try DicomReader.volume(for: plan, limits: limits))
            } catch let error as IntakeError {
                result.failures += plan.headers.map { InputFailure(path: $0.url.path, error: error) }
            } catch {
                result.failures += plan.headers.map { InputFailure(path: $0.url.path, error: IntakeError(.decodeFailed, "\(error)")) }
            }
        }
        return result
    }

    /// Regular files under `url` (itself if a file), hidden names skipped, in a stable order.
    static func inputFiles(at url: URL) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw IntakeError(.notFound, "no such file or folder: \(url.path)")
        }
        guard isDirectory.boolValue else { return [url] }
        guard let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey],
                                                          options: [.skipsHiddenFiles]) else {
            throw IntakeError(.ioError, "cannot list \(url.path)")
        }
        var files: [URL] = []
        for case let file as URL in walker where (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            files.append(file)
        }
        if files.isEmpty { throw IntakeError(.empty, "no files in \(url.path)") }
        return files.sorted { $0.path < $1.path }
    }
}
