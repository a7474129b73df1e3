import Dispatch
import Foundation

/// Splits index ranges across the cores with Dispatch; small jobs stay on the calling thread because
/// waking a worker costs more than a few thousand flops.
enum Parallel {
    /// Worker count for every parallel loop, GEMMs included (`CPUBackend.setThreads`).
    nonisolated(unsafe) static var cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    static func forEach(_ count: Int, cost: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(cores, count)
        if chunks <= 1 || count * cost < 32_768 {
            if count > 0 { body(0..<count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let lo = count * chunk / chunks, hi = count * (chunk + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Runs `body(part, parts)` on every core for kernels that split their own work; on the calling thread
    /// alone (parts = 1) when `cost` is small.
    static func parts(cost: Int, _ body: (_ part: Int, _ parts: Int) -> Void) {
        let n = cost < 32_768 ? 1 : cores
        if n <= 1 { body(0, 1); return }
        DispatchQueue.concurrentPerform(iterations: n) { body($0, n) }
    }
}
