import Dispatch
import Synchronization
import Testing
@testable import MedEngine

/// The worker pool runs every part exactly once, whoever claims it.
@Suite struct ParallelTests {
    @Test func everyPartRunsOnceAcrossRepeatedJobs() {
        // Each part writes only its own slot.
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 7)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        for _ in 0..<500 {
            WorkerPool.shared.run(parts: 7) { part in counts[part] += 1 }
        }
        #expect(counts.allSatisfy { $0 == 500 })
    }

    @Test func nestedAndConcurrentJobsRunInline() {
        // Jobs started from inside a job, or while another caller holds the pool, run on their own thread.
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<100 {
                WorkerPool.shared.run(parts: 3) { outer in
                    WorkerPool.shared.run(parts: 2) { inner in total.add(outer * 2 + inner + 1, ordering: .relaxed) }
                }
            }
        }
        // Each outer job adds (1 + 2) + (3 + 4) + (5 + 6) = 21.
        #expect(total.load(ordering: .relaxed) == 4 * 100 * 21)
    }

    @Test func forEachCoversTheRangeOnce() {
        let seen = UnsafeMutableBufferPointer<Int>.allocate(capacity: 100_000)
        seen.initialize(repeating: 0)
        defer { seen.deallocate() }
        Parallel.forEach(seen.count, cost: 8) { r in for i in r { seen[i] += 1 } }
        #expect(seen.allSatisfy { $0 == 1 })
    }
}
