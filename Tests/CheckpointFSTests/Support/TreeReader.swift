import CSystem
import Glibc
@testable import CheckpointFS

/// The reads a tree listing makes of one entry, by path, never following the entry itself and
/// never opening anything but a regular file, so that listing a FUSE view or a directory with
/// FIFOs and devices in it is safe. Paths are plain here: this reads a tree a test made.
enum TreeReader {
    /// lstat(2).
    static func status(_ path: PathBytes) -> Result<Glibc.stat, SystemError> {
        var info = Glibc.stat()
        if path.withCPath({ lstat($0, &info) }) == 0 { return .success(info) }
        let code = ckpt_errno()
        return .failure(SystemError(errno: code, operation: "lstat", path: path.displayPath))
    }

    /// The names opendir(3)/readdir(3) list, without `.` and `..`, in the kernel's order;
    /// nil if the directory cannot be listed.
    static func names(in directory: PathBytes) -> [PathBytes]? {
        guard let stream = directory.withCPath({ opendir($0) }) else { return nil }
        defer { closedir(stream) }
        var names: [PathBytes] = []
        while true {
            ckpt_set_errno(0)
            guard let entry = readdir(stream) else {
                return ckpt_errno() == 0 ? names : nil
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name == [0x2e] || name == [0x2e, 0x2e] { continue }
            names.append(name)
        }
    }

    /// The SHA-256 of a file's contents as hex, read with open(2) (`O_NOFOLLOW`, `O_NONBLOCK`)
    /// and read(2) in 1 MiB chunks; the errno when opening or reading fails.
    static func sha256(of path: PathBytes) -> Result<String, Errno> {
        let flags = O_RDONLY | CKPT_O_NOFOLLOW | O_NONBLOCK | CKPT_O_CLOEXEC
        let fd = path.withCPath { Glibc.open($0, flags) }
        guard fd >= 0 else { return .failure(Errno(code: ckpt_errno())) }
        defer { _ = Glibc.close(fd) }

        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                let code = ckpt_errno()
                if code == EINTR { continue }
                return .failure(Errno(code: code))
            }
            if count == 0 { return .success(hasher.finalizeHex()) }
            buffer.withUnsafeBytes {
                hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<count]))
            }
        }
    }

    /// readlink(2), growing the buffer until the whole target fits.
    static func linkTarget(_ path: PathBytes) throws(SystemError) -> PathBytes {
        var capacity = Int(PATH_MAX)
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let length = try path.withCPath { (cPath) throws(SystemError) in
                try check("readlink", path.displayPath) {
                    buffer.withUnsafeMutableBytes {
                        readlink(cPath, $0.baseAddress!.assumingMemoryBound(to: CChar.self),
                                 $0.count)
                    }
                }
            }
            if length < capacity { return Array(buffer[0..<length]) }
            capacity *= 4
        }
    }

    /// llistxattr(2): the xattr names in the kernel's order.
    static func xattrNames(_ path: PathBytes) -> Result<[PathBytes], Errno> {
        path.withCPath { cPath in sized { llistxattr(cPath, $0, $1) } }
            .map { $0.split(separator: 0).map(Array.init) }
    }

    /// lgetxattr(2) of one name.
    static func xattrValue(_ path: PathBytes, _ name: PathBytes) -> Result<[UInt8], Errno> {
        path.withCPath { cPath in
            name.withCPath { cName in sized { lgetxattr(cPath, cName, $0, $1) } }
        }
    }

    /// An errno value, read right after the call that failed.
    struct Errno: Error, CustomStringConvertible {
        var code: Int32
        var description: String { String(code) }
    }

    /// Calls a size-probing xattr function: first with no buffer for the length, then with a
    /// buffer of that length, again if the value grew in between (ERANGE).
    private static func sized(
        _ call: (UnsafeMutablePointer<CChar>?, Int) -> Int
    ) -> Result<[UInt8], Errno> {
        while true {
            let needed = call(nil, 0)
            if needed < 0 { return .failure(Errno(code: ckpt_errno())) }
            if needed == 0 { return .success([]) }
            var buffer = [UInt8](repeating: 0, count: needed)
            let length = buffer.withUnsafeMutableBytes {
                call($0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
            }
            if length >= 0 { return .success(Array(buffer[0..<length])) }
            let code = ckpt_errno()
            if code != ERANGE { return .failure(Errno(code: code)) }
        }
    }
}
