import CSystem
import Glibc

/// A failed system call: the errno it returned, the call, and the path it was about.
public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    public var errno: Int32
    public var operation: String
    public var path: String

    public init(errno: Int32, operation: String, path: String) {
        self.errno = errno
        self.operation = operation
        self.path = path
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        return path.isEmpty ? "\(operation): \(reason)" : "\(operation) \(path): \(reason)"
    }
}

/// Reads errno once after a call that returned -1 and throws it as a `SystemError`.
/// EINTR is retried: every call routed through here is safe to repeat (never `close`).
@inline(__always)
func check<T: BinaryInteger>(
    _ operation: String,
    _ path: @autoclosure () -> String,
    _ call: () -> T
) throws(SystemError) -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        let code = ckpt_errno()
        if code == EINTR { continue }
        throw SystemError(errno: code, operation: operation, path: path())
    }
}
