/// Failures of the spool itself (not of one input): folders that cannot be made, a journal that cannot open.
public struct SpoolError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The errno text for a failed system call.
func systemError(_ call: String, _ path: String) -> SpoolError {
    SpoolError("\(call) \(path): \(String(cString: strerror(errno)))")
}

import Glibc
