import Foundation
import Glibc
import MedEngine

/// Watches the model store for a flipped `current` link (renamed over the old one, so IN_MOVED_TO) and for new
/// model folders. It only says that something changed; the daemon then compares each model's current version
/// with the one it serves.
final class StoreWatcher {
    let descriptor: Int32
    private let store: ModelStore
    private var watches: [Int32: String] = [:]
    private static let mask = UInt32(IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ONLYDIR | IN_DONT_FOLLOW)

    init(store: ModelStore) throws(SpoolError) {
        self.store = store
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw systemError("inotify_init1", store.root.path) }
        rewatch()
    }

    deinit { close(descriptor) }

    /// Watches the store root and every model folder in it (a new folder is added on its event). Watches are only
    /// ever added (adding one twice returns the same), so no event falls between a removal and a re-adding.
    func rewatch() {
        for folder in [store.root.path] + store.names().map({ store.root.appendingPathComponent($0).path }) {
            let wd = inotify_add_watch(descriptor, folder, Self.mask)
            if wd >= 0 { watches[wd] = folder }
        }
    }

    /// Whether anything relevant happened since the last call.
    func drain() -> Bool {
        var changed = false
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= count {
                let (mask, length) = buffer.withUnsafeBytes {
                    ($0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self), Int($0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let name = String(decoding: buffer[(offset + header)..<min(offset + header + length, count)].prefix { $0 != 0 }, as: UTF8.self)
                offset += header + length
                if mask & UInt32(IN_Q_OVERFLOW) != 0 || name == ModelStore.currentLink || mask & UInt32(IN_ISDIR) != 0 { changed = true }
            }
        }
        if changed { rewatch() }
        return changed
    }
}
