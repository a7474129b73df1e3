import Dispatch
import Glibc

/// SIGTERM/SIGINT (stop) and SIGHUP (reload) turned into bytes on a pipe that the poll loop watches, so a
/// signal wakes the loop at once and is acted on between jobs, never inside one.
final class SignalPipe {
    enum Request: UInt8 { case stop = 1, reload = 2 }

    let readDescriptor: Int32
    private let writeDescriptor: Int32
    private var sources: [DispatchSourceSignal] = []

    init() throws(SpoolError) {
        (readDescriptor, writeDescriptor) = try wakeupPipe()
        let queue = DispatchQueue(label: "medlensd.signals")
        for (number, request) in [(SIGTERM, Request.stop), (SIGINT, .stop), (SIGHUP, .reload)] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            let fd = writeDescriptor
            source.setEventHandler {
                var byte = request.rawValue
                _ = write(fd, &byte, 1)
            }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        sources.forEach { $0.cancel() }
        close(readDescriptor)
        close(writeDescriptor)
    }

    private var pending = Set<Request>()

    /// The requests that arrived since the last call.
    func drain() -> Set<Request> {
        var byte: UInt8 = 0
        while read(readDescriptor, &byte, 1) == 1 {
            if let request = Request(rawValue: byte) { pending.insert(request) }
        }
        defer { pending.removeAll() }
        return pending
    }

    /// Whether a stop was asked for, keeping every request for the next `drain`.
    func peekStop() -> Bool {
        var byte: UInt8 = 0
        while read(readDescriptor, &byte, 1) == 1 {
            if let request = Request(rawValue: byte) { pending.insert(request) }
        }
        return pending.contains(.stop)
    }
}

/// A non-blocking, close-on-exec pipe: bytes written to its second end wake a poll on its first.
func wakeupPipe() throws(SpoolError) -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw systemError("pipe", "") }
    for fd in fds {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }
    return (fds[0], fds[1])
}
