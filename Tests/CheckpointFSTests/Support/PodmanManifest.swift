import CSystem
import Glibc
@testable import CheckpointFS

/// A tree in the line format of the podman fixtures' manifests, so a committed root can be
/// compared with what podman itself restored:
///
///     TYPE MODE UID:GID SIZE HARDLINK SHA256[:16]|->TARGET|dev=MAJ,MIN XATTRS PATH
///
/// `HARDLINK` is `hl:` and the first path (in walk order) of a multiply linked inode; xattrs
/// are `name=b'value'` in Python's bytes notation, joined by commas.
enum PodmanManifest {
    /// The manifest lines of the tree at `root`, sorted.
    static func lines(of root: String) throws -> [String] {
        var rows: [String] = []
        var firstPath: [LowerIdentity: String] = [:]
        try walk(root: root, relative: "", rows: &rows, firstPath: &firstPath)
        return rows.sorted()
    }

    /// The lines of a fixture manifest, sorted.
    static func lines(fixture name: String) throws -> [String] {
        try Fixtures.text("podman/state/" + name).split(separator: "\n").map(String.init)
            .sorted()
    }

    private static func walk(
        root: String, relative: String,
        rows: inout [String], firstPath: inout [LowerIdentity: String]
    ) throws {
        let full = relative.isEmpty ? root : root + relative
        var info = stat()
        guard lstat(full, &info) == 0 else {
            throw GeneratorError(call: "lstat", path: full, errno: errno)
        }
        rows.append(try row(full, relative.isEmpty ? "/" : relative, info, &firstPath))
        guard info.st_mode & S_IFMT == S_IFDIR else { return }
        let names = try FileDescriptor.openDirectory(atPath: full).directoryEntries()
            .map { String(decoding: $0.name, as: UTF8.self) }.sorted()
        for name in names {
            try walk(root: root, relative: relative + "/" + name, rows: &rows,
                     firstPath: &firstPath)
        }
    }

    private static func row(
        _ full: String, _ path: String, _ info: stat,
        _ firstPath: inout [LowerIdentity: String]
    ) throws -> String {
        let type: String
        var extra = "-"
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            type = "f"
            var hasher = SHA256()
            hasher.update(try TestFile.bytes(atPath: full))
            extra = String(hasher.finalizeHex().prefix(16))
        case S_IFDIR: type = "d"
        case S_IFLNK:
            type = "l"
            var buffer = [CChar](repeating: 0, count: 4097)
            let length = readlink(full, &buffer, 4096)
            extra = "->" + String(decoding: buffer[0..<max(0, length)].map { UInt8(bitPattern: $0) },
                                  as: UTF8.self)
        case S_IFIFO: type = "p"
        case S_IFCHR, S_IFBLK:
            type = info.st_mode & S_IFMT == S_IFCHR ? "c" : "b"
            extra = "dev=\(ckpt_major(info.st_rdev)),\(ckpt_minor(info.st_rdev))"
        default: type = "s"
        }
        var link = "-"
        if type != "d" && info.st_nlink > 1 {
            let key = LowerIdentity(info)
            link = "hl:" + (firstPath[key] ?? path)
            if firstPath[key] == nil { firstPath[key] = path }
        }
        let xattrs = try FileDescriptor.open(atPath: full, flags: CKPT_O_PATH | CKPT_O_NOFOLLOW)
            .extendedAttributes().sorted { $0.name.lexicographicallyPrecedes($1.name) }
            .map { String(decoding: $0.name, as: UTF8.self) + "=" + pythonBytes($0.value) }
        let size = type == "f" ? Int(info.st_size) : 0
        let mode = String(info.st_mode & 0o7777, radix: 8).leftPadded(to: 4)
        let shownXattrs = xattrs.isEmpty ? "-" : xattrs.joined(separator: ",")
        return "\(type) \(mode) \(info.st_uid):\(info.st_gid) \(size) \(link) \(extra) "
            + "\(shownXattrs) \(path)"
    }

    /// Python's `repr` of a bytes value: `b'...'` with escapes.
    private static func pythonBytes(_ value: [UInt8]) -> String {
        var out = "b'"
        for byte in value {
            switch byte {
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "'"): out += "\\'"
            case 0x09: out += "\\t"
            case 0x0a: out += "\\n"
            case 0x0d: out += "\\r"
            case 0x20..<0x7f: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += "\\x" + String(byte, radix: 16).leftPadded(to: 2)
            }
        }
        return out + "'"
    }
}
