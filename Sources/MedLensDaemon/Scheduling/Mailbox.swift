import Foundation
import Glibc

/// Messages from worker threads to the daemon's loop: a locked list plus a pipe byte, so that a message wakes the
/// loop's poll at once. Only the loop reads it, so only the loop writes the journal.
final class Mailbox<Message>: @unchecked Sendable {
    let readDescriptor: Int32
    private let writeDescriptor: Int32
    private let lock = NSLock()
    private var messages: [Message] = []

    init() throws(SpoolError) {
        (readDescriptor, writeDescriptor) = try wakeupPipe()
    }

    deinit {
        close(readDescriptor)
        close(writeDescriptor)
    }

    func post(_ message: Message) {
        lock.lock()
        messages.append(message)
        lock.unlock()
        var byte: UInt8 = 1
        _ = write(writeDescriptor, &byte, 1)
    }

    func drain() -> [Message] {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(readDescriptor, &buffer, buffer.count) > 0 {}
        lock.lock()
        defer { lock.unlock() }
        let taken = messages
        messages.removeAll()
        return taken
    }
}

/// A fixed set of threads running closures from a queue, used for runs (decode → infer → assemble).
final class WorkerPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var tasks: [() -> Void] = []
    private var stopped = false
    private var threads: [Thread] = []

    init(threads count: Int, name: String) {
        for index in 0..<count {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "\(name)-\(index)"
            thread.stackSize = 8 << 20
            threads.append(thread)
            thread.start()
        }
    }

    func submit(_ task: @escaping () -> Void) {
        condition.lock()
        tasks.append(task)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while tasks.isEmpty && !stopped { condition.wait() }
            if tasks.isEmpty && stopped { condition.unlock(); return }
            let task = tasks.removeFirst()
            condition.unlock()
            task()
        }
    }
}

/// A counting semaphore that bounds how many runs decode at once (decoding holds the most memory).
final class Gate: @unchecked Sendable {
    private let semaphore: DispatchSemaphore
    init(_ count: Int) { semaphore = DispatchSemaphore(value: max(1, count)) }
    func run<T>(_ body: () throws -> T) rethrows -> T {
        semaphore.wait()
        defer { semaphore.signal() }
        return try body()
    }
}
