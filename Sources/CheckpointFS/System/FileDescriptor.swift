import CSystem
import Glibc

/// An owned file descriptor, closed when the last reference goes.
///
/// Every access to a root goes through descriptors like this one: a name is always
/// resolved relative to a directory descriptor and never followed if it is a symlink,
/// so nothing the kernel resolves can leave the directory it started in.
public final class FileDescriptor: @unchecked Sendable {
    public let raw: Int32
    /// The path, or for a descriptor opened by name beneath another, that one's path.
    private let location: String
    private let name: PathBytes?

    /// The path this descriptor was opened for, for error messages only. It is put together
    /// when asked for: the view opens thousands of lower directories and never needs it.
    public var path: String {
        guard let name else { return location }
        return location.hasSuffix("/") ? location + name.displayPath
            : location + "/" + name.displayPath
    }

    public init(adopting raw: Int32, path: String) {
        precondition(raw >= 0, "adopting an invalid descriptor")
        self.raw = raw
        location = path
        name = nil
    }

    private init(adopting raw: Int32, beneath parentPath: String, name: PathBytes) {
        precondition(raw >= 0, "adopting an invalid descriptor")
        self.raw = raw
        location = parentPath
        self.name = name
    }

    deinit {
        // close(2): the descriptor is gone even on EINTR, so never retry.
        _ = Glibc.close(raw)
    }

    /// Opens `path` (absolute, or relative to the working directory) as a directory.
    public static func openDirectory(atPath path: String) throws(SystemError) -> FileDescriptor {
        let fd = try check("open", path) {
            Glibc.open(path, O_RDONLY | CKPT_O_DIRECTORY | CKPT_O_CLOEXEC)
        }
        return FileDescriptor(adopting: fd, path: path)
    }

    /// Opens `path` read-only (following symlinks: for paths the user named).
    public static func open(atPath path: String, flags: Int32 = 0) throws(SystemError)
        -> FileDescriptor
    {
        let fd = try check("open", path) { Glibc.open(path, O_RDONLY | CKPT_O_CLOEXEC | flags) }
        return FileDescriptor(adopting: fd, path: path)
    }

    func childPath(_ name: PathBytes) -> String {
        path.hasSuffix("/") ? path + name.displayPath : path + "/" + name.displayPath
    }

    /// openat(2) of one name, never following a final symlink.
    public func openChild(_ name: PathBytes, flags: Int32, mode: mode_t = 0) throws(SystemError)
        -> FileDescriptor
    {
        let fullFlags = flags | CKPT_O_NOFOLLOW | CKPT_O_CLOEXEC
        let fd = try name.withCPath { (cName) throws(SystemError) in
            try check("openat", childPath(name)) { openat(raw, cName, fullFlags, mode) }
        }
        return FileDescriptor(adopting: fd, beneath: path, name: name)
    }

    /// openat2(2) of a relative path with the given RESOLVE_* flags.
    public func openBeneath(
        _ relative: PathBytes,
        flags: Int32,
        resolve: UInt64
    ) throws(SystemError) -> FileDescriptor {
        let full = relative.isEmpty ? Array(".".utf8) : relative
        let fd = try full.withCPath { (cPath) throws(SystemError) in
            try check("openat2", childPath(full)) {
                ckpt_openat2(raw, cPath, flags | CKPT_O_CLOEXEC, 0, resolve)
            }
        }
        return FileDescriptor(adopting: fd, beneath: path, name: full)
    }

    /// fstatat(2) of a name without following it; `nil` when it does not exist.
    public func statChild(_ name: PathBytes) throws(SystemError) -> Glibc.stat? {
        var info = Glibc.stat()
        let result = name.withCPath { fstatat(raw, $0, &info, CKPT_AT_SYMLINK_NOFOLLOW) }
        if result == 0 { return info }
        let code = ckpt_errno()
        if code == ENOENT { return nil }
        throw SystemError(errno: code, operation: "fstatat", path: childPath(name))
    }

    /// fstat(2) of this descriptor.
    public func stat() throws(SystemError) -> Glibc.stat {
        var info = Glibc.stat()
        _ = try check("fstat", path) { fstat(raw, &info) }
        return info
    }

    /// readlinkat(2) of a name.
    public func readLink(_ name: PathBytes) throws(SystemError) -> PathBytes {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = try name.withCPath { (cName) throws(SystemError) in
            try check("readlinkat", childPath(name)) {
                buffer.withUnsafeMutableBytes {
                    readlinkat(raw, cName, $0.baseAddress!.assumingMemoryBound(to: CChar.self),
                               $0.count)
                }
            }
        }
        return Array(buffer[0..<length])
    }

    /// The names in this directory, without `.` and `..`, in the order the kernel gives them.
    public func directoryEntries() throws(SystemError) -> [DirectoryEntry] {
        let copy = try check("dup", path) { dup(raw) }
        guard let stream = fdopendir(copy) else {
            let code = ckpt_errno()
            _ = Glibc.close(copy)
            throw SystemError(errno: code, operation: "fdopendir", path: path)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var entries: [DirectoryEntry] = []
        while true {
            ckpt_set_errno(0)
            guard let entry = readdir(stream) else {
                let code = ckpt_errno()
                if code != 0 {
                    throw SystemError(errno: code, operation: "readdir", path: path)
                }
                return entries
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [0x2e] || name == [0x2e, 0x2e] { continue }
            entries.append(DirectoryEntry(name: name, type: entry.pointee.d_type,
                                          inode: UInt64(entry.pointee.d_ino)))
        }
    }
}

/// One entry of a directory as getdents(2) reports it.
public struct DirectoryEntry: Sendable {
    public var name: PathBytes
    /// `DT_*`; `DT_UNKNOWN` where the file system does not say.
    public var type: UInt8
    public var inode: UInt64
}
