import CSystem
import Glibc
@testable import CheckpointFS

/// Why a lower root could not be built.
enum LowerBuilderError: Error, CustomStringConvertible {
    /// A system call failed.
    case system(SystemError)
    /// The spec asks for something the builder does not make.
    case unsupported(entry: String, reason: String)

    var description: String {
        switch self {
        case .system(let error): "building the lower root: \(error)"
        case .unsupported(let entry, let reason): "lower entry \(entry): \(reason)"
        }
    }
}

/// Builds a case's lower root from its spec, entry for entry as the fixtures' case builder
/// made the recorded `lower.snap`: so a test gets the same lower root without the script.
///
/// Entries are made in order, missing parents first (0755, 0:0). A file is written (an
/// existing one is truncated, keeping its inode), a symlink gets its target verbatim, a hard
/// link links the target path inside the root and takes no metadata of its own, FIFOs and
/// devices are made with mkfifo/mknod. Every entry except a hard link then gets its owner
/// (lchown), its mode (chmod; never on a symlink), its xattrs (lsetxattr) and its mtime
/// (utimensat, without following). Directory metadata, for both listed and implied
/// directories, is applied last, deepest first, so that making entries inside a directory
/// does not disturb its mtime. An entry with path `.` is the root itself.
///
/// Names are plain paths here, which is safe because the specs are ours; a name that is
/// absolute or has a `..` component is refused all the same, so a mistaken spec cannot write
/// outside the root.
enum LowerBuilder {
    /// Builds `spec.lower` at `root`, which must be missing or an empty directory.
    static func build(_ spec: CaseSpec, at root: String) throws(LowerBuilderError) {
        try build(spec.lower, at: root)
    }

    /// Builds the given lower entries at `root`, which must be missing or an empty directory.
    static func build(_ entries: [CaseSpec.Entry], at root: String) throws(LowerBuilderError) {
        do {
            try makeTree(entries, root: PathBytes(path: root))
        } catch let error as SystemError {
            throw .system(error)
        } catch let error as LowerBuilderError {
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }

    private static func makeTree(_ entries: [CaseSpec.Entry], root: PathBytes) throws {
        var existing = Glibc.stat()
        if root.withCPath({ lstat($0, &existing) }) != 0 {
            try call("mkdir", root) { mkdir($0, 0o755) }
        }

        // Directories whose metadata comes last: nil entries are implied parents.
        var directories: [(path: PathBytes, entry: CaseSpec.Entry?)] = [(root, nil)]
        for entry in entries {
            let relative = entry.path ?? []
            let path = try joined(root, relative)

            var missing: [PathBytes] = []
            var parent = directoryName(path)
            while !exists(parent) {
                missing.append(parent)
                parent = directoryName(parent)
            }
            for directory in missing.reversed() {
                try call("mkdir", directory) { mkdir($0, 0o755) }
                directories.append((directory, nil))
            }

            switch entry.kind {
            case .dir:
                if path != root { try call("mkdir", path) { mkdir($0, 0o755) } }
                directories.append((path, entry))
                continue
            case .hardlink:
                guard let target = entry.target else {
                    throw LowerBuilderError.unsupported(
                        entry: relative.displayPath, reason: "hard link without a target")
                }
                let source = try joined(root, target)
                try call("link", path) { cPath in
                    source.withCPath { linkat(CKPT_AT_FDCWD, $0, CKPT_AT_FDCWD, cPath, 0) }
                }
                // The link shares the target's inode, and with it all metadata.
                continue
            case .file:
                try writeFile(path, contents: entry.content)
            case .symlink:
                guard let target = entry.target else {
                    throw LowerBuilderError.unsupported(
                        entry: relative.displayPath, reason: "symlink without a target")
                }
                try call("symlink", path) { cPath in target.withCPath { symlink($0, cPath) } }
            case .fifo:
                try call("mkfifo", path) { mkfifo($0, 0o644) }
            case .char, .block:
                let kind: mode_t = entry.kind == .char ? 0o020_000 : 0o060_000
                let device = ckpt_makedev(entry.major, entry.minor)
                try call("mknod", path) { mknod($0, kind | 0o600, device) }
            case .raw:
                throw LowerBuilderError.unsupported(
                    entry: relative.displayPath, reason: "type raw exists only in tars")
            }
            try applyMetadata(entry, to: path, isDirectory: false)
        }

        // A listed directory's entry replaces an implied one; implied ones never replace.
        var order: [PathBytes] = []
        var chosen: [PathBytes: CaseSpec.Entry?] = [:]
        for (path, entry) in directories {
            if chosen[path] == nil { order.append(path) }
            if entry != nil || chosen[path] == nil { chosen[path] = .some(entry) }
        }
        let deepestFirst = order.enumerated().sorted { left, right in
            let leftDepth = left.element.count { $0 == 0x2f }
            let rightDepth = right.element.count { $0 == 0x2f }
            return leftDepth != rightDepth ? leftDepth > rightDepth : left.offset < right.offset
        }
        for (_, path) in deepestFirst {
            try applyMetadata(chosen[path] ?? nil, to: path, isDirectory: true)
        }
    }

    /// lchown(2), chmod(2) (not for symlinks), lsetxattr(2) and utimensat(2) for one entry;
    /// a nil entry stands for an implied directory: 0:0, 0755, the default mtime.
    private static func applyMetadata(
        _ entry: CaseSpec.Entry?,
        to path: PathBytes,
        isDirectory: Bool
    ) throws(SystemError) {
        try call("lchown", path) { lchown($0, entry?.uid ?? 0, entry?.gid ?? 0) }
        if entry?.kind != .symlink {
            let mode = entry?.mode ?? (isDirectory ? 0o755 : 0o644)
            try call("chmod", path) { chmod($0, mode_t(mode)) }
        }
        for (name, value) in entry?.xattrs ?? [:] {
            try call("lsetxattr", path) { cPath in
                value.withUnsafeBytes { bytes in
                    lsetxattr(cPath, name, bytes.baseAddress, bytes.count, 0)
                }
            }
        }
        let nanoseconds = entry?.mtimeNanoseconds ?? CaseSpec.lowerMtime * 1_000_000_000
        let time = timespec(
            tv_sec: Int(nanoseconds / 1_000_000_000),
            tv_nsec: Int(nanoseconds % 1_000_000_000))
        let times = [time, time]
        try call("utimensat", path) {
            utimensat(CKPT_AT_FDCWD, $0, times, CKPT_AT_SYMLINK_NOFOLLOW)
        }
    }

    /// Creates or truncates a regular file (0644 before its chmod) and writes its contents.
    private static func writeFile(_ path: PathBytes, contents: [UInt8]) throws(SystemError) {
        let flags = O_WRONLY | O_CREAT | O_TRUNC | CKPT_O_CLOEXEC
        let fd = try call("open", path) { Glibc.open($0, flags, 0o644) }
        let file = FileDescriptor(adopting: fd, path: path.displayPath)
        var offset = 0
        while offset < contents.count {
            let written = try check("write", file.path) {
                contents.withUnsafeBytes {
                    Glibc.write(file.raw, $0.baseAddress! + offset, $0.count - offset)
                }
            }
            offset += written
        }
    }

    /// Calls a path-taking system call and turns -1 into a `SystemError`.
    @discardableResult
    private static func call(
        _ operation: String,
        _ path: PathBytes,
        _ body: (UnsafePointer<CChar>) -> Int32
    ) throws(SystemError) -> Int32 {
        try path.withCPath { (cPath) throws(SystemError) in
            try check(operation, path.displayPath) { body(cPath) }
        }
    }

    /// `root/relative`, or `root` itself for `""` and `"."`.
    private static func joined(_ root: PathBytes, _ relative: PathBytes) throws -> PathBytes {
        if relative.isEmpty || relative == [0x2e] { return root }
        let components = relative.split(separator: 0x2f, omittingEmptySubsequences: false)
        let climbs = components.contains { $0.elementsEqual([0x2e, 0x2e]) }
        if relative.first == 0x2f || climbs {
            throw LowerBuilderError.unsupported(
                entry: relative.displayPath, reason: "the name leaves the root")
        }
        return root.last == 0x2f ? root + relative : root + [0x2f] + relative
    }

    /// The parent as Python's `os.path.dirname` computes it: everything before the last
    /// slash, with trailing slashes dropped unless it is all slashes.
    private static func directoryName(_ path: PathBytes) -> PathBytes {
        guard let slash = path.lastIndex(of: 0x2f) else { return [] }
        let head = Array(path[...slash])
        if head.allSatisfy({ $0 == 0x2f }) { return head }
        return Array(head.reversed().drop { $0 == 0x2f }.reversed())
    }

    /// lstat(2) succeeds: a symlink counts as existing whatever it points to.
    private static func exists(_ path: PathBytes) -> Bool {
        if path.isEmpty { return true }
        var info = Glibc.stat()
        return path.withCPath { lstat($0, &info) } == 0
    }
}
