import CheckpointFS
import CSystem
import Glibc

/// Two connected Unix stream sockets, closed on exec: a one-way report from a forked
/// daemon or a probe thread. Unlike a pipe, a report sent with MSG_NOSIGNAL after the
/// reader went away fails with EPIPE instead of killing the sender with SIGPIPE.
struct SocketPair {
    let reader: Int32
    let writer: Int32

    /// socketpair(2).
    init() throws(SystemError) {
        var ends: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &ends) == 0 else {
            throw SystemError(errno: ckpt_errno(), operation: "socketpair", path: "")
        }
        reader = ends[0]
        writer = ends[1]
    }

    /// Sends all of `bytes` on `socket`; a reader that is gone is no error to the sender.
    static func send(_ bytes: [UInt8], on socket: Int32) {
        var remaining = bytes[...]
        while !remaining.isEmpty {
            let sent = remaining.withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 && ckpt_errno() == EINTR { continue }
            if sent <= 0 { return }
            remaining = remaining.dropFirst(sent)
        }
    }

    /// Reads `socket` until the other end closes.
    static func receiveAll(on socket: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes {
                Glibc.read(socket, $0.baseAddress, $0.count)
            }
            if count < 0 && ckpt_errno() == EINTR { continue }
            if count <= 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }
}
