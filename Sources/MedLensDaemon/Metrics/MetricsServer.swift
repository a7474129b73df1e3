import Foundation
import Glibc

/// Serves the metrics text to any request on a unix socket or a loopback TCP port (one short HTTP/1.0 answer per
/// connection), from its own thread so that a slow scraper never holds up the loop.
final class MetricsServer: @unchecked Sendable {
    private let descriptor: Int32
    private let render: @Sendable () -> String
    let address: String

    /// `socketPath` (a unix socket, replaced if stale) or `listen` ("127.0.0.1:9464").
    init(socketPath: String?, listen: String?, render: @escaping @Sendable () -> String) throws(SpoolError) {
        self.render = render
        if let socketPath {
            unlink(socketPath)
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(socketPath.utf8)
            guard descriptor >= 0, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw SpoolError("metrics socket path too long: \(socketPath)") }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { close(descriptor); throw systemError("bind", socketPath) }
            self.descriptor = descriptor
            self.address = socketPath
        } else if let listen, let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]) {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var yes: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian  // loopback only, whatever the host name said
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard descriptor >= 0, bound == 0 else { close(descriptor); throw systemError("bind", listen) }
            self.descriptor = descriptor
            self.address = "127.0.0.1:\(port)"
        } else {
            throw SpoolError("no metrics address")
        }
        guard Glibc.listen(descriptor, 16) == 0 else { close(descriptor); throw systemError("listen", self.address) }
        let thread = Thread { [unowned self] in self.serve() }
        thread.name = "medlensd-metrics"
        thread.start()
    }

    private func serve() {
        while true {
            let client = accept(descriptor, nil, nil)
            if client < 0 { if errno == EINTR || errno == ECONNABORTED { continue } else { return } }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var request = [UInt8](repeating: 0, count: 4096)
            _ = recv(client, &request, request.count, 0)
            let body = Array(render().utf8)
            let head = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            let response = Array(head.utf8) + body
            var sent = 0
            while sent < response.count {
                let n = response[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                sent += n
            }
            close(client)
        }
    }
}
