import CSystem
import Glibc

extension FileDescriptor {
    /// The `/proc/self/fd` path of this descriptor. For an O_PATH descriptor, the *xattr
    /// calls that follow this magic link reach the inode itself, even a symlink's, which
    /// the f*xattr calls refuse with EBADF.
    var procPath: String { "/proc/self/fd/\(raw)" }

    /// listxattr(2) and getxattr(2) of the inode this descriptor refers to.
    public func extendedAttributes() throws(SystemError) -> [(name: PathBytes, value: [UInt8])] {
        let proc = procPath
        var names = [UInt8](repeating: 0, count: 1024)
        var length: Int
        while true {
            length = names.withUnsafeMutableBytes {
                listxattr(proc, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
            }
            if length >= 0 { break }
            let code = ckpt_errno()
            if code == ENOTSUP { return [] }
            guard code == ERANGE else {
                throw SystemError(errno: code, operation: "listxattr", path: path)
            }
            names = [UInt8](repeating: 0, count: names.count * 4)
        }
        var result: [(name: PathBytes, value: [UInt8])] = []
        for name in names[0..<length].split(separator: 0) {
            if let value = try extendedAttribute(Array(name)) {
                result.append((Array(name), value))
            }
        }
        return result
    }

    /// getxattr(2) of one attribute; nil when it is absent.
    public func extendedAttribute(_ name: PathBytes) throws(SystemError) -> [UInt8]? {
        let proc = procPath
        var value = [UInt8](repeating: 0, count: 256)
        while true {
            let length = name.withCPath { cName in
                value.withUnsafeMutableBytes { getxattr(proc, cName, $0.baseAddress, $0.count) }
            }
            if length >= 0 { return Array(value[0..<length]) }
            let code = ckpt_errno()
            if code == ENODATA { return nil }
            guard code == ERANGE else {
                throw SystemError(errno: code, operation: "getxattr \(name.displayPath)",
                                  path: path)
            }
            value = [UInt8](repeating: 0, count: value.count * 16)
        }
    }

    /// setxattr(2) of one attribute on the inode this descriptor refers to.
    public func setExtendedAttribute(_ name: PathBytes, _ value: [UInt8]) throws(SystemError) {
        let proc = procPath
        _ = try name.withCPath { (cName) throws(SystemError) in
            try check("setxattr \(name.displayPath)", path) {
                value.withUnsafeBytes { setxattr(proc, cName, $0.baseAddress, $0.count, 0) }
            }
        }
    }
}
