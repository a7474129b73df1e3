import Foundation

/// The model store: `<root>/<name>/<version>/` (a model package each) and `<root>/<name>/current`, a relative
/// symbolic link to the version being served. Publishing copies a package in under a hidden name, renames
/// it into place, then flips `current` by renaming a fresh link over it: a reader (the daemon) sees the old
/// version or the new one, never a half-written one. `history.json` records every flip, so a rollback knows
/// what was served before.
public struct ModelStore: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root.standardizedFileURL }

    public static let currentLink = "current"
    public static let historyFile = "history.json"

    /// One flip of `current`.
    public struct Event: Codable, Equatable, Sendable {
        public enum Action: String, Codable, Sendable { case publish, rollback }
        public var action: Action
        public var version: String
        /// The version `current` named before this event, if any.
        public var previous: String?
        public var time: Date
        public var note: String?
    }

    public struct Entry: Equatable, Sendable {
        public var name: String
        public var versions: [String]
        public var current: String?
    }

    // MARK: reading

    /// Model names in the store (folders with a valid name), sorted.
    public func names() -> [String] {
        let items = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return items.filter { Self.isValidComponent($0) && isDirectory(root.appendingPathComponent($0)) }.sorted()
    }

    /// Versions of a model, oldest name first in natural order ("2" before "10").
    public func versions(of name: String) -> [String] {
        let folder = root.appendingPathComponent(name)
        let items = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return items.filter {
            $0 != Self.currentLink && Self.isValidComponent($0)
                && FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).appendingPathComponent("model.json").path)
        }.sorted { $0.compare($1, options: .numeric) == .orderedAscending }
    }

    /// The version `current` points at, if the link exists and names a version folder.
    public func currentVersion(of name: String) -> String? {
        let link = root.appendingPathComponent(name).appendingPathComponent(Self.currentLink).path
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link) else { return nil }
        let version = (target as NSString).lastPathComponent
        return versions(of: name).contains(version) ? version : nil
    }

    public func directory(name: String, version: String) -> URL {
        root.appendingPathComponent(name).appendingPathComponent(version)
    }

    public func list() -> [Entry] {
        names().map { Entry(name: $0, versions: versions(of: $0), current: currentVersion(of: $0)) }
    }

    public func history(of name: String) -> [Event] {
        let url = root.appendingPathComponent(name).appendingPathComponent(Self.historyFile)
        guard let data = try? Data(contentsOf: url) else { return [] }
        return (try? Self.decoder.decode([Event].self, from: data)) ?? []
    }

    /// Loads the served version, verified (sha256 and self-test).
    public func loadCurrent(_ name: String) throws(ModelStoreError) -> (version: String, package: ModelPackage) {
        guard let version = currentVersion(of: name) else { throw .noCurrentVersion(name) }
        do {
            return (version, try ModelPackage.load(from: directory(name: name, version: version)))
        } catch {
            throw .invalidPackage(name: name, version: version, error)
        }
    }

    // MARK: changing

    /// Copies a verified package into the store as `<manifest.name>/<manifest.version>` and makes it current.
    /// A version that is already in the store is refused: versions are immutable once published.
    @discardableResult
    public func publish(packageAt source: URL, note: String? = nil) throws(ModelStoreError) -> ModelManifest {
        let package: ModelPackage
        do { package = try ModelPackage.load(from: source) } catch { throw .invalidPackage(name: source.path, version: "", error) }
        let manifest = package.manifest
        guard Self.isValidComponent(manifest.name) else { throw .invalidName(manifest.name) }
        guard Self.isValidComponent(manifest.version), manifest.version != Self.currentLink else {
            throw .invalidName(manifest.version)
        }
        let folder = root.appendingPathComponent(manifest.name)
        let destination = folder.appendingPathComponent(manifest.version)
        guard !FileManager.default.fileExists(atPath: destination.path) else {
            throw .versionExists(name: manifest.name, version: manifest.version)
        }
        let staging = folder.appendingPathComponent(".incoming-\(manifest.version)-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
            for file in ["model.safetensors", "model.json"] {
                try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: staging.appendingPathComponent(file))
            }
            try rename(staging, destination)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw .io("\(error)")
        }
        try flip(manifest.name, to: manifest.version, action: .publish, note: note)
        return manifest
    }

    /// Makes current the version that was served before the current one was published; repeated, it walks
    /// back through the publishing history.
    @discardableResult
    public func rollback(_ name: String) throws(ModelStoreError) -> String {
        guard let current = currentVersion(of: name) else { throw .noCurrentVersion(name) }
        guard let previous = history(of: name).last(where: { $0.version == current && $0.action == .publish })?.previous,
              versions(of: name).contains(previous) else { throw .nothingToRollBackTo(name) }
        try flip(name, to: previous, action: .rollback, note: nil)
        return previous
    }

    /// Points `current` at `version` with one rename, then appends the event to the history.
    public func flip(_ name: String, to version: String, action: Event.Action, note: String?) throws(ModelStoreError) {
        guard versions(of: name).contains(version) else { throw .unknownVersion(name: name, version: version) }
        let folder = root.appendingPathComponent(name)
        let previous = currentVersion(of: name)
        let temporary = folder.appendingPathComponent(".current-\(UUID().uuidString)")
        do {
            try FileManager.default.createSymbolicLink(atPath: temporary.path, withDestinationPath: version)
            try rename(temporary, folder.appendingPathComponent(Self.currentLink))
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .io("\(error)")
        }
        var events = history(of: name)
        events.append(Event(action: action, version: version, previous: previous, time: Date(), note: note))
        do {
            try Self.encoder.encode(events).write(to: folder.appendingPathComponent(Self.historyFile), options: .atomic)
        } catch {
            throw .io("cannot write \(Self.historyFile): \(error)")
        }
    }

    // MARK: helpers

    /// Names and versions become path components: letters, digits, '.', '_', '-', not starting with '.'.
    public static func isValidComponent(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 64, !s.hasPrefix(".") else { return false }
        return s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) }
    }

    private func isDirectory(_ url: URL) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
    }

    /// rename(2): atomic, and replaces a link or an empty destination in one step.
    private func rename(_ from: URL, _ to: URL) throws {
        guard Foundation.rename(from.path, to.path) == 0 else {
            throw ModelStoreError.io("rename \(from.lastPathComponent) → \(to.lastPathComponent): \(String(cString: strerror(errno)))")
        }
    }

    private static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.dateEncodingStrategy = .iso8601
        return e
    }

    private static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}

public enum ModelStoreError: Error, CustomStringConvertible {
    case invalidName(String)
    case versionExists(name: String, version: String)
    case unknownVersion(name: String, version: String)
    case noCurrentVersion(String)
    case nothingToRollBackTo(String)
    case invalidPackage(name: String, version: String, ModelPackageError)
    case io(String)

    public var description: String {
        switch self {
        case .invalidName(let s): return "'\(s)' cannot name a model or version (letters, digits, '.', '_', '-'; not starting with '.')"
        case let .versionExists(name, version): return "\(name) \(version) is already in the store; publish a new version"
        case let .unknownVersion(name, version): return "\(name) has no version \(version) in the store"
        case .noCurrentVersion(let name): return "\(name) has no current version in the store"
        case .nothingToRollBackTo(let name): return "\(name): no earlier version to roll back to"
        case let .invalidPackage(name, version, error): return "\(name) \(version): the package is invalid: \(error)"
        case .io(let message): return message
        }
    }
}
