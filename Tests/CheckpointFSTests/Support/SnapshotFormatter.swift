import CSystem
import Glibc
@testable import CheckpointFS

/// Turns walked entries into snapshot lines (the format is described on `TreeSnapshot`).
struct SnapshotFormatter {
    var ignored: Set<TreeSnapshot.Field>
    var freshAfter: Int?
    var xattrInclude: [PathBytes]
    var xattrExclude: [PathBytes]
    var directoryLinkCounts: Bool
    /// The first relative path, in sort order, of every inode that more than one
    /// non-directory name shares.
    var hardLinkGroups: [InodeKey: PathBytes]

    struct InodeKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// Groups the non-directory entries by inode; `entries` must be sorted by path.
    static func hardLinkGroups(_ entries: [SnapshotEntry]) -> [InodeKey: PathBytes] {
        var first: [InodeKey: PathBytes] = [:]
        var counts: [InodeKey: Int] = [:]
        for entry in entries {
            guard case .success(let info) = entry.status,
                  SnapshotKind(info.st_mode) != .directory
            else { continue }
            let key = InodeKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            if first[key] == nil { first[key] = entry.relative }
            counts[key, default: 0] += 1
        }
        return first.filter { counts[$0.key, default: 0] > 1 }
    }

    /// The line for one entry, or nil for the root when `.root` is ignored.
    func line(for entry: SnapshotEntry) throws(SystemError) -> String? {
        if entry.relative == [0x2e] && ignored.contains(.root) { return nil }
        let info: Glibc.stat
        switch entry.status {
        case .success(let status): info = status
        case .failure(let error):
            return escape(entry.relative) + " error=" + errnoName(error.errno)
        }

        let kind = SnapshotKind(info.st_mode)
        let shows = { (field: TreeSnapshot.Field) in !ignored.contains(field) }
        var fields = [escape(entry.relative)]
        if shows(.type) { fields.append("type=" + kind.rawValue) }
        if shows(.mode) { fields.append("mode=" + octal(UInt32(info.st_mode) & 0o7777, width: 4)) }
        if shows(.uid) { fields.append("uid=\(info.st_uid)") }
        if shows(.gid) { fields.append("gid=\(info.st_gid)") }
        if shows(.size), kind == .regular || kind == .symlink {
            fields.append("size=\(info.st_size)")
        }
        if shows(.mtime), !(kind == .directory && ignored.contains(.directoryMtime)) {
            fields += mtimeFields(info.st_mtim)
        }
        if shows(.sha256), kind == .regular {
            fields.append("sha256=" + contentDigest(entry.absolute))
        }
        if shows(.target), kind == .symlink {
            fields.append("target=" + escape(try TreeReader.linkTarget(entry.absolute)))
        }
        if shows(.rdev), kind == .characterDevice || kind == .blockDevice {
            fields.append("rdev=\(ckpt_major(info.st_rdev)):\(ckpt_minor(info.st_rdev))")
        }
        if shows(.nlink), kind != .directory || directoryLinkCounts {
            fields.append("nlink=\(info.st_nlink)")
        }
        if shows(.hl), kind != .directory {
            let key = InodeKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            if let first = hardLinkGroups[key] { fields.append("hl=" + escape(first)) }
        }
        if shows(.xattrs) {
            let pairs = extendedAttributes(entry.absolute)
            if !pairs.isEmpty {
                let rendered = pairs.map { escape($0.name) + "=" + hex($0.value) }
                fields.append("xattrs=" + rendered.joined(separator: ","))
            }
        }
        return fields.joined(separator: " ")
    }

    private func mtimeFields(_ time: timespec) -> [String] {
        let nanoseconds = Int(time.tv_sec) * 1_000_000_000 + Int(time.tv_nsec)
        if let freshAfter, nanoseconds >= freshAfter * 1_000_000_000 { return ["mtime=FRESH"] }
        var fields = ["mtime=\(time.tv_sec)"]
        if !ignored.contains(.mtimeNanoseconds) { fields.append("mtime_ns=\(time.tv_nsec)") }
        return fields
    }

    /// A digest failure prints as `<error:REASON>`, like the script's.
    private func contentDigest(_ path: PathBytes) -> String {
        switch TreeReader.sha256(of: path) {
        case .success(let digest): return digest
        case .failure(let error):
            return "<error:" + String(cString: strerror(error.code)).replacingSpaces() + ">"
        }
    }

    /// The selected xattrs sorted by name. A name list that cannot be read means none; a
    /// value that cannot be read shows as `<error ERRNO>`.
    private func extendedAttributes(_ path: PathBytes) -> [(name: PathBytes, value: [UInt8])] {
        guard case .success(let names) = TreeReader.xattrNames(path) else { return [] }
        var pairs: [(name: PathBytes, value: [UInt8])] = []
        for name in names {
            if !xattrInclude.isEmpty && !xattrInclude.contains(where: { name.starts(with: $0) }) {
                continue
            }
            if xattrExclude.contains(where: { name.starts(with: $0) }) { continue }
            switch TreeReader.xattrValue(path, name) {
            case .success(let value): pairs.append((name, value))
            case .failure(let error): pairs.append((name, Array("<error \(error.code)>".utf8)))
            }
        }
        return pairs.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }
}

/// The script's path escaping: printable ASCII except space, `\`, `=` and `,` stays, every
/// other byte becomes `\xNN`.
fileprivate func escape(_ bytes: PathBytes) -> String {
    var out = ""
    for byte in bytes {
        let safe = byte > 0x20 && byte < 0x7f && byte != 0x5c && byte != 0x3d && byte != 0x2c
        if safe {
            out.unicodeScalars.append(Unicode.Scalar(byte))
        } else {
            out += "\\x" + hex([byte])
        }
    }
    return out
}

/// Lowercase hex digits of bytes.
fileprivate func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".unicodeScalars)
    var out = String.UnicodeScalarView()
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0f)])
    }
    return String(out)
}

fileprivate func octal(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 8)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

extension String {
    fileprivate func replacingSpaces() -> String {
        String(map { $0 == " " ? "_" : $0 })
    }
}

/// The symbolic name of an errno value as Python's `errno.errorcode` gives it; the number
/// itself for values this table does not know.
fileprivate func errnoName(_ code: Int32) -> String {
    let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EIO: "EIO", ENXIO: "ENXIO", EBADF: "EBADF",
        EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY",
        EEXIST: "EEXIST", EXDEV: "EXDEV", ENODEV: "ENODEV", ENOTDIR: "ENOTDIR",
        EISDIR: "EISDIR", EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE",
        ENOSPC: "ENOSPC", EROFS: "EROFS", ERANGE: "ERANGE", ENAMETOOLONG: "ENAMETOOLONG",
        ENOSYS: "ENOSYS", ELOOP: "ELOOP", ENODATA: "ENODATA", EOVERFLOW: "EOVERFLOW",
        EOPNOTSUPP: "EOPNOTSUPP", ENOTCONN: "ENOTCONN", ETIMEDOUT: "ETIMEDOUT",
        ESTALE: "ESTALE", ECONNABORTED: "ECONNABORTED", EINTR: "EINTR",
    ]
    return names[code] ?? String(code)
}
