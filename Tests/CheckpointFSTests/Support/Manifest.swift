import CSystem
import Glibc
@testable import CheckpointFS

/// A tree listing in the format of the podman fixtures' manifests (`podman/state/*.manifest`),
/// line for line, so our results compare directly with what podman restored.
///
/// A line reads `TYPE MODE UID:GID SIZE HL EXTRA XATTRS [mtime=S] PATH`: the type letter,
/// four octal digits, the owner, the size of a regular file (0 for anything else), `hl:FIRST`
/// for a non-directory with more than one link (FIRST: the first of its names met in walk
/// order) or `-`, then the first 16 hex digits of a regular file's SHA-256, `->TARGET` for a
/// symlink, `dev=MAJ,MIN` for a device or `-`, then `name=b'...'` pairs (the value in Python's
/// bytes notation) joined by `,` or `-` (`ERR` when they cannot be listed), the mtime in whole
/// seconds when asked for, and last the path from the root, which itself is `/`. Lines come in
/// walk order: a directory's entries sorted by name, then each subdirectory's the same way.
///
/// Unlike a tree snapshot, paths and targets are printed raw, and a link count above one marks
/// a hard link even when the other names lie outside the tree.
struct Manifest: Equatable, CustomStringConvertible, Sendable {
    var lines: [String]

    init(lines: [String]) {
        self.lines = lines
    }

    /// Parses the text of a `.manifest` file.
    init(text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// Reads a `.manifest` file.
    init(contentsOf path: String) throws(SystemError) {
        self.init(text: String(decoding: try TestFile.bytes(atPath: path), as: UTF8.self))
    }

    /// Lists the tree at `root`.
    ///
    /// - Parameters:
    ///   - withMtime: adds the `mtime=` column, as the `.mtime.manifest` files have it.
    ///   - excluding: absolute paths (from the root) whose entries and subtrees are left out.
    /// - Throws: `SystemError` when an entry cannot be read.
    init(of root: String, withMtime: Bool = false, excluding: [String] = []) throws(SystemError) {
        var walk = ManifestWalk(
            root: PathBytes(path: root),
            withMtime: withMtime,
            excluded: excluding.map { PathBytes(path: $0) })
        try walk.run()
        lines = walk.lines
    }

    var text: String {
        lines.map { $0 + "\n" }.joined()
    }

    var description: String { text }

    /// This manifest without the lines of these paths (e.g. what podman adds on restore).
    func removing(paths: [String]) -> Manifest {
        Manifest(lines: lines.filter { line in !paths.contains { line.hasSuffix(" " + $0) } })
    }

    /// Python's `repr` of a bytes value: `b'...'`, double quotes when only they avoid an
    /// escape, `\t \n \r`, `\\`, the quote and bytes outside printable ASCII escaped.
    static func bytesLiteral(_ bytes: [UInt8]) -> String {
        let quote: UInt8 = bytes.contains(0x27) && !bytes.contains(0x22) ? 0x22 : 0x27
        var out = "b" + String(Unicode.Scalar(quote))
        for byte in bytes {
            switch byte {
            case quote, 0x5c: out += "\\" + String(Unicode.Scalar(byte))
            case 0x09: out += "\\t"
            case 0x0a: out += "\\n"
            case 0x0d: out += "\\r"
            case 0x20..<0x7f: out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = String(byte, radix: 16)
                out += "\\x" + (digits.count == 1 ? "0" + digits : digits)
            }
        }
        return out + String(Unicode.Scalar(quote))
    }

    /// The lines only in `expected` (`- `) and only in this manifest (`+ `).
    func difference(from expected: Manifest) -> String {
        TreeSnapshot.difference(lines, from: expected.lines)
    }
}

/// The walk behind `Manifest`: top-down, a directory's entries sorted, subdirectories (not
/// symlinks to them) visited in name order after all the entries of their parent.
private struct ManifestWalk {
    let root: PathBytes
    let withMtime: Bool
    let excluded: [PathBytes]
    var lines: [String] = []
    var firstLinkName: [SnapshotFormatter.InodeKey: PathBytes] = [:]

    init(root: PathBytes, withMtime: Bool, excluded: [PathBytes]) {
        self.root = root
        self.withMtime = withMtime
        self.excluded = excluded
    }

    mutating func run() throws(SystemError) {
        try list(absolute: root, relative: [0x2f])
        try visit(directory: root, relative: [])
    }

    private mutating func visit(directory: PathBytes, relative: PathBytes) throws(SystemError) {
        guard let names = TreeReader.names(in: directory) else { return }
        var subdirectories: [(absolute: PathBytes, relative: PathBytes)] = []
        for name in names.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let absolute = directory + [0x2f] + name
            let childRelative = relative + [0x2f] + name
            let isDirectory = try list(absolute: absolute, relative: childRelative)
            if isDirectory { subdirectories.append((absolute, childRelative)) }
        }
        for (absolute, childRelative) in subdirectories {
            try visit(directory: absolute, relative: childRelative)
        }
    }

    /// Adds the line of one entry unless it is excluded; returns whether it is a directory.
    private mutating func list(absolute: PathBytes, relative: PathBytes) throws(SystemError)
        -> Bool
    {
        let info = try TreeReader.status(absolute).get()
        let kind = SnapshotKind(info.st_mode)
        let isExcluded = excluded.contains { prefix in
            let trimmed = Array(prefix.reversed().drop { $0 == 0x2f }.reversed())
            return relative == prefix || relative.starts(with: trimmed + [0x2f])
        }
        if isExcluded { return kind == .directory }

        var hardLink = "-"
        if kind != .directory && info.st_nlink > 1 {
            let key = SnapshotFormatter.InodeKey(
                device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            let first = firstLinkName[key] ?? relative
            firstLinkName[key] = first
            hardLink = "hl:" + String(decoding: first, as: UTF8.self)
        }
        let mtime = withMtime ? " mtime=\(Self.wholeSeconds(info.st_mtim))" : ""
        let fields = [
            kind.rawValue,
            octal(UInt32(info.st_mode) & 0o7777),
            "\(info.st_uid):\(info.st_gid)",
            kind == .regular ? "\(info.st_size)" : "0",
            hardLink,
            try extra(absolute, kind: kind, device: info.st_rdev),
            xattrs(absolute) + mtime,
            String(decoding: relative, as: UTF8.self),
        ]
        lines.append(fields.joined(separator: " "))
        return kind == .directory
    }

    private func extra(_ path: PathBytes, kind: SnapshotKind, device: dev_t) throws(SystemError)
        -> String
    {
        switch kind {
        case .regular:
            switch TreeReader.sha256(of: path) {
            case .success(let digest): return String(digest.prefix(16))
            case .failure(let error):
                throw SystemError(errno: error.code, operation: "read", path: path.displayPath)
            }
        case .symlink:
            return "->" + String(decoding: try TreeReader.linkTarget(path), as: UTF8.self)
        case .characterDevice, .blockDevice:
            return "dev=\(ckpt_major(device)),\(ckpt_minor(device))"
        default:
            return "-"
        }
    }

    private func xattrs(_ path: PathBytes) -> String {
        guard case .success(let names) = TreeReader.xattrNames(path) else { return "ERR" }
        var pairs: [String] = []
        for name in names.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard case .success(let value) = TreeReader.xattrValue(path, name) else {
                return "ERR"
            }
            let rendered = Manifest.bytesLiteral(value)
            pairs.append(String(decoding: name, as: UTF8.self) + "=" + rendered)
        }
        return pairs.isEmpty ? "-" : pairs.joined(separator: ",")
    }

    /// The mtime as Python's `int(st_mtime)` gives it: seconds plus nanoseconds as one double,
    /// truncated toward zero.
    static func wholeSeconds(_ time: timespec) -> Int {
        Int(Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9)
    }

    private func octal(_ value: UInt32) -> String {
        let digits = String(value, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

