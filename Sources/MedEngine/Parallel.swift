import Foundation
import Synchronization

/// Splits work across the cores on a pool of persistent workers; small jobs stay on the calling thread.
enum Parallel {
    /// Worker count for every parallel loop, GEMMs included (`CPUBackend.setThreads`).
    nonisolated(unsafe) static var cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    static func forEach(_ count: Int, cost: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(cores, count)
        if chunks <= 1 || count * cost < 32_768 {
            if count > 0 { body(0..<count) }
            return
        }
        WorkerPool.shared.run(parts: chunks) { chunk in
            let lo = count * chunk / chunks, hi = count * (chunk + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Runs `body(part, parts)` on every core for kernels that split their own work; on the calling thread
    /// alone (parts = 1) when `cost` is small.
    static func parts(cost: Int, _ body: (_ part: Int, _ parts: Int) -> Void) {
        let n = cost < 32_768 ? 1 : cores
        if n <= 1 { body(0, 1); return }
        WorkerPool.shared.run(parts: n) { body($0, n) }
    }
}

/// Persistent worker threads that wait briefly between jobs before they sleep, so that the next operation
/// starts on every core at once (an inference is hundreds of parallel operations of 0.01-2 ms). Parts are
/// claimed, not assigned: the calling thread runs every part no worker has claimed and never waits for a
/// worker the OS has not scheduled, which matters on a machine shared with other work.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Job generation (bits 32...), its part count (bits 16-31) and the parts claimed so far (bits 0-15).
    private let state = Atomic<Int>(0)
    private let done = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wake = NSCondition()
    /// Read by a worker only between claiming a part of the current job and reporting it done, while the
    /// calling thread waits; written by the calling thread only between jobs.
    private var job: ((Int) -> Void)?
    private var threads = 0

    /// Runs body(0..<parts), on the calling thread and up to parts - 1 workers. A call made while the pool is
    /// busy (another model's inference, or from inside a job) runs all parts on its own thread.
    func run(parts n: Int, _ body: (Int) -> Void) {
        guard n > 1, n < 1 << 16, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            for part in 0..<n { body(part) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        while threads < n - 1 { startWorker() }
        withoutActuallyEscaping(body) { body in
            job = body
            done.store(0, ordering: .relaxed)
            // Sequentially consistent with the sleepers count: a worker going to sleep either sees the new
            // generation or is seen and woken.
            let generation = (state.load(ordering: .relaxed) >> 32) + 1
            state.store(generation << 32 | n << 16, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                wake.lock(); wake.broadcast(); wake.unlock()
            }
            while let part = claim(generation) { body(part); done.add(1, ordering: .releasing) }
            var spins = 0
            while done.load(ordering: .acquiring) < n {
                spins += 1
                if spins > 4096 { sched_yield() }
            }
            job = nil
        }
    }

    /// The next unclaimed part of job `generation`, or nil when none is left or that job is over.
    private func claim(_ generation: Int) -> Int? {
        var s = state.load(ordering: .acquiring)
        while s >> 32 == generation && s & 0xFFFF < (s >> 16) & 0xFFFF {
            let (exchanged, now) = state.compareExchange(expected: s, desired: s + 1, ordering: .acquiringAndReleasing)
            if exchanged { return s & 0xFFFF }
            s = now
        }
        return nil
    }

    private func startWorker() {
        threads += 1
        let thread = Thread { [unowned self] in self.work() }
        thread.name = "medengine-worker-\(threads)"
        thread.start()
    }

    private func work() {
        var seen = 0
        while true {
            // Wait up to 0.2 ms for the next job, then sleep. Past the first few microseconds the wait yields:
            // on a busy machine a pure spin took the core from the thread about to publish that job.
            var spins = 0, since = DispatchTime.now().uptimeNanoseconds
            var generation = state.load(ordering: .acquiring) >> 32
            while generation == seen {
                spins += 1
                if spins > 4096 { sched_yield() }
                if spins & 255 == 0, DispatchTime.now().uptimeNanoseconds - since > 200_000 {
                    wake.lock()
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while state.load(ordering: .sequentiallyConsistent) >> 32 == seen { wake.wait() }
                    sleepers.subtract(1, ordering: .relaxed)
                    wake.unlock()
                    since = DispatchTime.now().uptimeNanoseconds
                }
                generation = state.load(ordering: .acquiring) >> 32
            }
            seen = generation
            while let part = claim(generation) {
                job?(part)
                done.add(1, ordering: .releasing)
            }
        }
    }
}
