import Foundation
import MedLensCore

/// The models being served, by name. Workers look a model up when they prepare a scan and keep that instance for
/// the scan's batches, so a new version swaps in between batches while batches of the old one finish.
final class ModelRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var served: [String: LoadedModel] = [:]
    private var loadedAt: [String: Date] = [:]
    /// Versions that failed verification, with why; not tried again until they change or SIGHUP.
    private var refused: [String: (version: String, reason: String, time: Date)] = [:]

    func current(_ name: String) -> LoadedModel? {
        lock.lock(); defer { lock.unlock() }
        return served[name]
    }

    func all() -> [LoadedModel] {
        lock.lock(); defer { lock.unlock() }
        return served.values.sorted { $0.name < $1.name }
    }

    /// Installs `model`, returning the one it replaces.
    @discardableResult
    func install(_ model: LoadedModel) -> LoadedModel? {
        lock.lock(); defer { lock.unlock() }
        let old = served[model.name]
        served[model.name] = model
        loadedAt[model.name] = Date()
        refused[model.name] = nil
        return old
    }

    func refuse(_ name: String, version: String, reason: String) {
        lock.lock(); defer { lock.unlock() }
        refused[name] = (version, reason, Date())
    }

    func wasRefused(_ name: String, version: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return refused[name]?.version == version
    }

    func forgetRefusals() {
        lock.lock(); defer { lock.unlock() }
        refused.removeAll()
    }

    /// `state/models.json`: what `medlens status` shows beside the store's contents.
    func snapshot() -> ServedModels {
        lock.lock(); defer { lock.unlock() }
        return ServedModels(
            served: served.values.sorted { $0.name < $1.name }.map {
                ServedModels.Served(name: $0.name, version: $0.version, sha256: $0.sha256, backend: $0.backend,
                                    loadedAt: loadedAt[$0.name] ?? Date())
            },
            refused: refused.sorted { $0.key < $1.key }.map {
                ServedModels.Refused(name: $0.key, version: $0.value.version, reason: $0.value.reason, time: $0.value.time)
            })
    }
}

/// The models a daemon serves, as it writes them to `state/models.json`.
public struct ServedModels: Codable, Sendable, Equatable {
    public struct Served: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        public var sha256: String
        public var backend: String
        public var loadedAt: Date
    }
    public struct Refused: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        public var reason: String
        public var time: Date
    }
    public var served: [Served]
    public var refused: [Refused]
    public static let fileName = "models.json"
}
