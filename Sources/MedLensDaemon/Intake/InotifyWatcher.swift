import Foundation
import Glibc

/// What the watcher saw, reduced to what intake acts on.
enum WatchEvent: Equatable {
    /// A file was closed after writing or moved in: a candidate, once it has settled.
    case candidate(String)
    /// An entry that is not written (symlink, fifo, socket, device) appeared: a candidate to refuse.
    case created(String)
    /// The kernel queue overflowed or a watched folder moved: watches and candidates must be rebuilt.
    case rescan
}

/// A recursive inotify watch over the inbox trees, read without blocking from the daemon's poll loop.
///
/// Raw inotify syscalls rather than libinotifytools: the library keeps its watch table in process globals,
/// follows its own blocking read loop and recurses without IN_DONT_FOLLOW, while the daemon needs a plain
/// descriptor to poll beside its signal pipe, and full control over links and overflow.
final class InotifyWatcher {
    let descriptor: Int32
    private var folders: [Int32: String] = [:]
    private static let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MOVED_FROM | IN_DELETE_SELF
                                     | IN_DONT_FOLLOW | IN_ONLYDIR | IN_EXCL_UNLINK)

    init() throws(SpoolError) {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw systemError("inotify_init1", "") }
    }

    deinit { close(descriptor) }

    /// Drops every watch, then watches `roots` recursively. Returns the files already there (the rescan),
    /// found after each folder's watch is in place so that nothing written in between is missed.
    func rewatch(_ roots: [String]) -> [String] {
        for descriptorOfFolder in folders.keys { inotify_rm_watch(descriptor, descriptorOfFolder) }
        folders.removeAll()
        return roots.flatMap { watchTree($0) }
    }

    /// Watches `root` and its sub-folders (never through links); returns the non-folder entries found.
    func watchTree(_ root: String) -> [String] {
        var found: [String] = []
        var pending = [root]
        while let folder = pending.popLast() {
            let wd = inotify_add_watch(descriptor, folder, Self.mask)
            if wd >= 0 { folders[wd] = folder }
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where !name.hasPrefix(".") {
                let path = folder + "/" + name
                if FileStatus.of(path)?.kind == .directory { pending.append(path) } else { found.append(path) }
            }
        }
        return found
    }

    /// Everything queued now; returns at once when nothing is.
    func drain() -> [WatchEvent] {
        var events: [WatchEvent] = []
        let capacity = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: capacity)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, capacity) }
            if count <= 0 { break }
            events += parse(buffer[0..<count])
        }
        return events
    }

    private func parse(_ bytes: ArraySlice<UInt8>) -> [WatchEvent] {
        var events: [WatchEvent] = []
        var offset = bytes.startIndex
        let header = MemoryLayout<inotify_event>.size
        while offset + header <= bytes.endIndex {
            let (wd, mask, length) = bytes.withUnsafeBytes { raw -> (Int32, UInt32, Int) in
                let base = offset - bytes.startIndex
                return (raw.loadUnaligned(fromByteOffset: base, as: Int32.self),
                        raw.loadUnaligned(fromByteOffset: base + 4, as: UInt32.self),
                        Int(raw.loadUnaligned(fromByteOffset: base + 12, as: UInt32.self)))
            }
            let nameBytes = bytes[(offset + header)..<min(offset + header + length, bytes.endIndex)].prefix { $0 != 0 }
            offset += header + length
            if let event = interpret(wd: wd, mask: mask, name: String(decoding: nameBytes, as: UTF8.self)) {
                events.append(event)
            }
        }
        return events
    }

    private func interpret(wd: Int32, mask: UInt32, name: String) -> WatchEvent? {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 { return .rescan }
        if mask & UInt32(IN_IGNORED) != 0 { folders[wd] = nil; return nil }
        guard let folder = folders[wd] else { return nil }
        if mask & UInt32(IN_DELETE_SELF) != 0 { return nil }
        guard !name.isEmpty, !name.hasPrefix(".") else { return nil }
        let path = folder + "/" + name
        if mask & UInt32(IN_ISDIR) != 0 {
            // A folder moved away leaves stale paths behind its watches; one moved or made here must be
            // watched and scanned. A rescan does both correctly.
            return .rescan
        }
        if mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 { return .candidate(path) }
        if mask & UInt32(IN_CREATE) != 0 { return .created(path) }
        return nil
    }
}
