import Foundation

/// Holds candidate files until they are stable: size and mtime unchanged for `settleSeconds`, measured on a
/// monotonic clock, and no new event in that time. Entries that are not regular files are due at once
/// (they are refused, not waited for); entries that vanish are dropped.
struct SettleTracker {
    var settleSeconds: Double
    private var pending: [String: (status: FileStatus, since: Double)] = [:]

    init(settleSeconds: Double) { self.settleSeconds = settleSeconds }

    var count: Int { pending.count }
    var isEmpty: Bool { pending.isEmpty }

    /// An event on `path`: (re)start its settle time.
    mutating func notice(_ path: String, now: Double) {
        guard let status = FileStatus.of(path) else { pending[path] = nil; return }
        pending[path] = (status, now)
    }

    /// Paths that are ready to take now, in a stable order; they leave the tracker.
    mutating func due(now: Double) -> [String] {
        var ready: [String] = []
        for (path, entry) in pending {
            guard let status = FileStatus.of(path) else { pending[path] = nil; continue }
            if status.kind != .regular {
                ready.append(path)
            } else if status != entry.status {
                pending[path] = (status, now)
            } else if now - entry.since >= settleSeconds {
                ready.append(path)
            }
        }
        for path in ready { pending[path] = nil }
        return ready.sorted()
    }

    mutating func removeAll() { pending.removeAll() }
}

/// Seconds on the monotonic clock: settle times must not jump with the wall clock.
func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}
