import Foundation
import MedEngine
import MedLensCore

extension Daemon {
    var store: ModelStore { ModelStore(root: URL(fileURLWithPath: config.modelStore)) }

    /// The models the routing can ask for: every rule's, the fallbacks and the inboxes' fallbacks.
    var routedModels: [String] {
        let names = config.router.rules.flatMap(\.models) + config.router.fallback + config.inboxes.flatMap { $0.fallback ?? [] }
        return Array(Set(names)).sorted()
    }

    /// Before READY=1: loads and verifies the current version of every routed model. A model that is missing or
    /// refused is logged; scans routed only to it are quarantined as `model_unavailable` (and can be replayed).
    func loadModelsAtStart() {
        try? FileManager.default.createDirectory(atPath: config.modelStore, withIntermediateDirectories: true)
        storeWatcher = try? StoreWatcher(store: store)
        if storeWatcher == nil { log.log(.warning, "model store not watched", ["store": config.modelStore]) }
        for name in routedModels {
            notifier.watchdog()
            guard let version = store.currentVersion(of: name) else {
                log.log(.warning, "model missing", ["model": name, "store": config.modelStore])
                continue
            }
            installLoaded(name: name, version: version, Result { () throws(ModelStoreError) in try LoadedModel.loadCurrent(name, store: store, backend: backend) })
        }
        writeServedModels()
    }

    /// After a store event or SIGHUP: loads, beside the served one, every routed model whose `current` changed.
    /// Loading (sha256, self-test) runs on its own thread; the swap happens on the loop, between batches.
    func checkModels() {
        modelCheckDue = nil
        let store = self.store
        for name in routedModels where !loading.contains(name) {
            guard let version = store.currentVersion(of: name) else { continue }
            if registry.current(name)?.version == version || registry.wasRefused(name, version: version) { continue }
            loading.insert(name)
            let backend = self.backend, mailbox = self.mailbox
            log.log(.info, "model loading", ["model": name, "version": version])
            loaders.submit {
                let result = Result { () throws(ModelStoreError) in try LoadedModel.loadCurrent(name, store: store, backend: backend) }
                mailbox.post(.loaded(name: name, version: version, result))
            }
        }
    }

    func installLoaded(name: String, version: String, _ result: Result<LoadedModel, ModelStoreError>) {
        loading.remove(name)
        switch result {
        case .success(let model):
            let old = registry.install(model)
            metrics.served(model)
            log.log(.info, old == nil ? "model loaded" : "model swapped",
                    ["model": name, "version": model.version, "sha256": model.sha256, "backend": model.backend, "previous": old?.version ?? "-"])
        case .failure(let error):
            registry.refuse(name, version: version, reason: error.description)
            metrics.refused(model: name)
            log.log(.error, "model refused; the served version is kept",
                    ["model": name, "version": version, "served": registry.current(name)?.version ?? "none", "error": error.description])
        }
        writeServedModels()
        // Another flip may have come while this version loaded.
        if store.currentVersion(of: name) != registry.current(name)?.version { modelCheckDue = monotonicSeconds() + 0.2 }
    }

    func writeServedModels() {
        guard let data = try? JSON.encode(registry.snapshot()) else { return }
        let temporary = layout.servedModels + ".new"
        do {
            try writeDurably(data, to: temporary)
            try move(temporary, to: layout.servedModels)
        } catch {
            log.log(.warning, "cannot write models.json", ["error": "\(error)"])
        }
    }
}
