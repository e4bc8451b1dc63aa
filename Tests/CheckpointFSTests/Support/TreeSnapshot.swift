import Glibc
@testable import CheckpointFS

/// A canonical, sorted listing of a directory tree: one line per entry, byte for byte what the
/// reference fixtures' snapshot script prints, so a snapshot of our result compares directly
/// with the recorded `expected.snap` and `lower.snap` files.
///
/// A line reads `PATH type=T mode=MMMM uid=U gid=G [size=N] [mtime=S mtime_ns=NS | mtime=FRESH]
/// [sha256=H] [target=T] [rdev=MAJ:MIN] [nlink=N] [hl=FIRST] [xattrs=NAME=HEX,...]`. The root
/// is `.`; lines are sorted by the raw bytes of the relative path. `size` is printed for regular
/// files and symlinks, `sha256` for regular files, `target` for symlinks, `rdev` for devices,
/// `nlink` and `hl` for everything but directories. `hl` names the first path, in sort order,
/// of a group of names sharing one inode. Paths, targets and xattr names escape every byte that
/// is not printable ASCII, and space, `\`, `=` and `,`, as `\xNN`. An entry that the directory
/// lists but `lstat` cannot reach prints as `PATH error=ENAME`.
///
/// Only `lstat`, `readlink`, `llistxattr`, `lgetxattr` and `open`+`read` with `O_NOFOLLOW` are
/// used, so it never follows a symlink or opens a FIFO or device, and it works on a FUSE mount.
/// Paths are plain strings of bytes here: this reads a tree the test made, it guards nothing.
struct TreeSnapshot: Equatable, CustomStringConvertible, Sendable {
    /// The columns that can be left out, named as the script's `--ignore` names them.
    enum Field: String, CaseIterable, Sendable {
        case type, mode, uid, gid, size, mtime, sha256, target, rdev, nlink, hl, xattrs, root
        /// The nanosecond column only.
        case mtimeNanoseconds = "mtime_ns"
        /// Both mtime columns, for directories only.
        case directoryMtime = "dirmtime"
    }

    /// The lines, without their terminating newlines.
    var lines: [String]

    init(lines: [String]) {
        self.lines = lines
    }

    /// Parses the text of a `.snap` file.
    init(text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
    }

    /// Snapshots the tree at `root` (a directory, or any single entry).
    ///
    /// - Parameters:
    ///   - freshAfter: epoch seconds; an mtime at or after it prints as `mtime=FRESH` with no
    ///     nanosecond column, so times stamped "now" by the code under test compare equal.
    ///   - noMtime: leaves out both mtime columns (the same as ignoring `.mtime`).
    ///   - ignoring: columns to leave out.
    ///   - excluding: relative paths whose entries and subtrees are left out.
    ///   - xattrInclude: when not empty, only xattrs whose names start with one of these.
    ///   - xattrExclude: xattrs whose names start with one of these are left out.
    ///   - directoryLinkCounts: prints `nlink` for directories too.
    /// - Throws: `SystemError` when the root itself cannot be reached.
    init(
        of root: String,
        freshAfter: Int? = nil,
        noMtime: Bool = false,
        ignoring: Set<Field> = [],
        excluding: [String] = [],
        xattrInclude: [String] = [],
        xattrExclude: [String] = [],
        directoryLinkCounts: Bool = false
    ) throws(SystemError) {
        var ignored = ignoring
        if noMtime { ignored.insert(.mtime) }
        let walker = SnapshotWalker(
            excluded: Set(excluding.map { PathBytes(path: $0).trimmingSlashes() }))
        let entries = try walker.walk(PathBytes(path: root))
        let formatter = SnapshotFormatter(
            ignored: ignored,
            freshAfter: freshAfter,
            xattrInclude: xattrInclude.map { PathBytes(path: $0) },
            xattrExclude: xattrExclude.map { PathBytes(path: $0) },
            directoryLinkCounts: directoryLinkCounts,
            hardLinkGroups: SnapshotFormatter.hardLinkGroups(entries)
        )
        lines = []
        for entry in entries {
            if let line = try formatter.line(for: entry) { lines.append(line) }
        }
    }

    /// Reads a `.snap` file.
    init(contentsOf path: String) throws(SystemError) {
        self.init(text: String(decoding: try TestFile.bytes(atPath: path), as: UTF8.self))
    }

    /// The lines joined, each ending in a newline, as the script writes them.
    var text: String {
        lines.map { $0 + "\n" }.joined()
    }

    var description: String { text }

    /// The lines only in `expected` (`- `) and only in this snapshot (`+ `), for a readable
    /// failure message; empty when both are equal.
    func difference(from expected: TreeSnapshot) -> String {
        Self.difference(lines, from: expected.lines)
    }

    /// The lines only in `expected` (`- `), then those only in `actual` (`+ `), each in
    /// their own order.
    static func difference(_ actual: [String], from expected: [String]) -> String {
        let mine = Set(actual)
        let theirs = Set(expected)
        let missing = expected.filter { !mine.contains($0) }.map { "- " + $0 }
        let extra = actual.filter { !theirs.contains($0) }.map { "+ " + $0 }
        return (missing + extra).joined(separator: "\n")
    }
}

/// One entry found by the walk: its path relative to the root (`.` for the root), its full
/// path, and what `lstat` said about it.
struct SnapshotEntry {
    var relative: PathBytes
    var absolute: PathBytes
    var status: Result<Glibc.stat, SystemError>
}

/// Finds every entry under a root, depth first, pruning excluded relative paths.
struct SnapshotWalker {
    var excluded: Set<PathBytes>

    /// Returns every entry, root included, sorted by the bytes of the relative path.
    func walk(_ root: PathBytes) throws(SystemError) -> [SnapshotEntry] {
        let rootStatus = try TreeReader.status(root).get()
        var entries = [
            SnapshotEntry(relative: [0x2e], absolute: root, status: .success(rootStatus)),
        ]
        guard SnapshotKind(rootStatus.st_mode) == .directory else { return entries }

        var pending: [(relative: PathBytes, absolute: PathBytes)] = [([], root)]
        while let (relative, absolute) = pending.popLast() {
            // The script reports an unreadable directory on stderr and goes on without its
            // contents; a snapshot that misses them then fails its comparison anyway.
            guard let names = TreeReader.names(in: absolute) else { continue }
            for name in names.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                let childRelative = relative.isEmpty ? name : relative + [0x2f] + name
                if excluded.contains(childRelative) { continue }
                let childAbsolute = absolute + [0x2f] + name
                let status = TreeReader.status(childAbsolute)
                entries.append(
                    SnapshotEntry(relative: childRelative, absolute: childAbsolute, status: status))
                if case .success(let info) = status, SnapshotKind(info.st_mode) == .directory {
                    pending.append((childRelative, childAbsolute))
                }
            }
        }
        return entries.sorted { $0.relative.lexicographicallyPrecedes($1.relative) }
    }
}

/// The file type letters of a snapshot line.
enum SnapshotKind: String {
    case regular = "f", directory = "d", symlink = "l", fifo = "p"
    case characterDevice = "c", blockDevice = "b", socket = "s", other = "?"

    init(_ mode: mode_t) {
        switch mode & 0o170_000 {
        case 0o100_000: self = .regular
        case 0o040_000: self = .directory
        case 0o120_000: self = .symlink
        case 0o010_000: self = .fifo
        case 0o020_000: self = .characterDevice
        case 0o060_000: self = .blockDevice
        case 0o140_000: self = .socket
        default: self = .other
        }
    }
}

extension Array where Element == UInt8 {
    /// The path without leading and trailing slashes.
    fileprivate func trimmingSlashes() -> PathBytes {
        Array(drop { $0 == 0x2f }.reversed().drop { $0 == 0x2f }.reversed())
    }
}
