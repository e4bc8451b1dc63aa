import CSystem
import Foundation
import Glibc
import Testing
@testable import CheckpointFS

// Helpers for the create tests: a scratch directory holding a base and a changed root, a
// maker for entries of any type, owner, mode, time and xattrs, and an entry-by-entry
// comparison of two trees. Paths are plain strings here: these are trees the test made.

/// A directory under `$TMPDIR` (or /tmp) with `base/`, `changed/`, `out/` and `applied/`,
/// removed with everything in it when the object goes.
final class CreateScratch {
    let path: String

    init() throws {
        let parent = ProcessInfo.processInfo.environment["TMPDIR"].flatMap {
            $0.isEmpty ? nil : $0
        } ?? "/tmp"
        var template = Array("\(parent)/checkpointfs-create-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw SystemError(errno: ckpt_errno(), operation: "mkdtemp", path: parent)
        }
        path = String(cString: template)
        for name in ["base", "changed"] { try TreeMaker(root: path).directory(name) }
    }

    deinit {
        let parent = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        if let directory = try? FileDescriptor.openDirectory(atPath: parent) {
            try? directory.removeTree(PathBytes(path: name))
        }
    }

    var base: String { path + "/base" }
    var changed: String { path + "/changed" }
    var output: String { path + "/out" }
    var applied: String { path + "/applied" }

    /// A maker for the base root.
    var inBase: TreeMaker { TreeMaker(root: base) }
    /// A maker for the changed root.
    var inChanged: TreeMaker { TreeMaker(root: changed) }

    /// Copies the base to `changed/` with `cp -a` (owners, modes, times, xattrs, hard
    /// links, devices), so a test then only makes its changes.
    func copyBaseToChanged() throws {
        try TreeMaker(root: path).remove("changed")
        try run("/bin/cp", ["-a", base, changed])
    }

    /// Runs `create` into `out/`, copies the base to `applied/` and commits the diff there
    /// with the apply engine, exactly as `checkpointfs commit` does.
    @discardableResult
    func createAndApply(options: CreateOptions = CreateOptions(allowLossy: true)) throws
        -> (plan: DiffPlan, outcome: ApplyOutcome)
    {
        let plan = try CheckpointDiff.create(
            basePath: base, changedPath: changed, outputPath: output, options: options)
        try run("/bin/cp", ["-a", base, applied])
        let source = try CheckpointSource.open(path: output)
        defer { source.close() }
        let outcome = try Restore(source: source).commit(rootPath: applied)
        return (plan, outcome)
    }

    func run(_ program: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SystemError(
                errno: EIO, operation: "\(program) exited \(process.terminationStatus)",
                path: arguments.joined(separator: " "))
        }
    }
}

/// Makes entries below a root by relative path, with lchown, chmod, utimensat and lsetxattr.
struct TreeMaker {
    let root: String

    func full(_ path: String) -> String { root + "/" + path }

    func directory(
        _ path: String, mode: mode_t = 0o755, uid: uid_t = 0, gid: gid_t = 0
    ) throws {
        try call("mkdir", path) { mkdir(full(path), 0o700) }
        try owner(path, uid: uid, gid: gid)
        try self.mode(path, mode)
    }

    func file(
        _ path: String, _ contents: String, mode: mode_t = 0o644, uid: uid_t = 0, gid: gid_t = 0
    ) throws {
        try file(path, bytes: Array(contents.utf8), mode: mode, uid: uid, gid: gid)
    }

    func file(
        _ path: String, bytes: [UInt8], mode: mode_t = 0o644, uid: uid_t = 0, gid: gid_t = 0
    ) throws {
        let fd = try call("open", path) { open(full(path), O_WRONLY | O_CREAT | O_TRUNC, 0o600) }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            done += try call("write", path) {
                bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            }
        }
        try owner(path, uid: uid, gid: gid)
        try self.mode(path, mode)
    }

    /// A file whose name is given as bytes (not necessarily UTF-8) in `directory`.
    func file(in directory: String, named name: [UInt8], _ contents: String) throws {
        let path = PathBytes(path: full(directory)) + [UInt8(ascii: "/")] + name
        let fd = path.withCPath { open($0, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
        guard fd >= 0 else {
            throw SystemError(errno: ckpt_errno(), operation: "open", path: path.displayPath)
        }
        defer { close(fd) }
        let bytes = Array(contents.utf8)
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw SystemError(errno: ckpt_errno(), operation: "write", path: path.displayPath)
        }
    }

    func symlink(_ path: String, to target: String, uid: uid_t = 0, gid: gid_t = 0) throws {
        try call("symlink", path) { Glibc.symlink(target, full(path)) }
        try owner(path, uid: uid, gid: gid)
    }

    func hardLink(_ path: String, to existing: String) throws {
        try call("link", path) { link(full(existing), full(path)) }
    }

    func fifo(_ path: String, mode: mode_t = 0o644) throws {
        try call("mkfifo", path) { mkfifo(full(path), 0o600) }
        try self.mode(path, mode)
    }

    func device(
        _ path: String, block: Bool = false, major: UInt32, minor: UInt32, mode: mode_t = 0o600
    ) throws {
        let type: mode_t = block ? 0o060000 : 0o020000  // S_IFBLK, S_IFCHR
        try call("mknod", path) { mknod(full(path), type | 0o600, ckpt_makedev(major, minor)) }
        try self.mode(path, mode)
    }

    func owner(_ path: String, uid: uid_t, gid: gid_t) throws {
        try call("lchown", path) { lchown(full(path), uid, gid) }
    }

    func mode(_ path: String, _ mode: mode_t) throws {
        try call("chmod", path) { chmod(full(path), mode) }
    }

    /// Sets the mtime (and atime) without following a symlink.
    func time(_ path: String, _ seconds: Int, nanoseconds: Int = 0) throws {
        var times = [timespec(tv_sec: seconds, tv_nsec: nanoseconds),
                     timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
        try call("utimensat", path) {
            utimensat(CKPT_AT_FDCWD, full(path), &times, CKPT_AT_SYMLINK_NOFOLLOW)
        }
    }

    func xattr(_ path: String, _ name: String, _ value: String) throws {
        try call("lsetxattr", path) {
            value.withCString { lsetxattr(full(path), name, $0, strlen($0), 0) }
        }
    }

    func removeXattr(_ path: String, _ name: String) throws {
        try call("lremovexattr", path) { lremovexattr(full(path), name) }
    }

    /// Removes an entry, a directory with everything in it; a missing one is fine.
    func remove(_ path: String) throws {
        let parent = (full(path) as NSString).deletingLastPathComponent
        let name = (full(path) as NSString).lastPathComponent
        try FileDescriptor.openDirectory(atPath: parent).removeTree(PathBytes(path: name))
    }

    @discardableResult
    private func call<T: BinaryInteger>(
        _ operation: String, _ path: String, _ body: () -> T
    ) throws -> T {
        let result = body()
        if result == -1 {
            throw SystemError(errno: ckpt_errno(), operation: operation, path: full(path))
        }
        return result
    }
}

/// Compares two trees entry by entry: type, mode, owner, size, bytes, mtime with
/// nanoseconds, symlink target, device number, xattrs (without `security.selinux`) and the
/// set of names each non-directory shares its inode with. Names are bytes: they need not be
/// UTF-8.
enum TreeDifference {
    struct Entry {
        var info: stat
        var target: [UInt8]
        var xattrs: [String: [UInt8]]
        var absolute: PathBytes
    }

    /// Every difference, one line each; empty when the trees are the same.
    /// - Parameter ignoringRootTime: leave out the root directory's own mtime.
    static func between(
        _ expected: String, _ actual: String, ignoringRootTime: Bool = false
    ) throws -> [String] {
        let left = try entries(of: expected)
        let right = try entries(of: actual)
        let leftGroups = linkGroups(left)
        let rightGroups = linkGroups(right)
        var found: [String] = []
        let paths = Set(left.keys).union(right.keys).sorted { $0.lexicographicallyPrecedes($1) }
        for path in paths {
            let shown = path.displayPath
            guard let mine = left[path] else { found.append("\(shown): unexpected"); continue }
            guard let theirs = right[path] else { found.append("\(shown): missing"); continue }
            let compare = { (field: String, a: String, b: String) in
                if a != b { found.append("\(shown): \(field) \(a), expected \(b)") }
            }
            compare("type", octal(theirs.info.st_mode & S_IFMT), octal(mine.info.st_mode & S_IFMT))
            compare("mode", octal(theirs.info.st_mode & 0o7777), octal(mine.info.st_mode & 0o7777))
            compare("owner", "\(theirs.info.st_uid):\(theirs.info.st_gid)",
                    "\(mine.info.st_uid):\(mine.info.st_gid)")
            if !(ignoringRootTime && path == [UInt8(ascii: ".")]) {
                compare("mtime", "\(theirs.info.st_mtim.tv_sec).\(theirs.info.st_mtim.tv_nsec)",
                        "\(mine.info.st_mtim.tv_sec).\(mine.info.st_mtim.tv_nsec)")
            }
            if mine.info.st_mode & S_IFMT != S_IFDIR {
                compare("size", "\(theirs.info.st_size)", "\(mine.info.st_size)")
            }
            compare("rdev", "\(theirs.info.st_rdev)", "\(mine.info.st_rdev)")
            compare("target", theirs.target.displayPath, mine.target.displayPath)
            compare("xattrs", describe(theirs.xattrs), describe(mine.xattrs))
            compare("hard links", rightGroups[path] ?? "", leftGroups[path] ?? "")
            if mine.info.st_mode & S_IFMT == S_IFREG, theirs.info.st_mode & S_IFMT == S_IFREG,
               try bytes(of: mine.absolute) != bytes(of: theirs.absolute)
            {
                found.append("\(shown): contents differ")
            }
        }
        return found
    }

    /// Every entry below `root` by relative path (`.` for the root itself), read with
    /// lstat(2), readlink(2) and llistxattr(2), never following a symlink.
    static func entries(of root: String) throws -> [PathBytes: Entry] {
        var result: [PathBytes: Entry] = [:]
        var pending: [PathBytes] = [[UInt8(ascii: ".")]]
        while let relative = pending.popLast() {
            let absolute = PathBytes(path: root) + [UInt8(ascii: "/")] + relative
            var info = stat()
            guard absolute.withCPath({ lstat($0, &info) }) == 0 else {
                throw SystemError(errno: ckpt_errno(), operation: "lstat",
                                  path: absolute.displayPath)
            }
            var target: [UInt8] = []
            if info.st_mode & S_IFMT == S_IFLNK {
                var buffer = [CChar](repeating: 0, count: 4096)
                let count = absolute.withCPath { readlink($0, &buffer, buffer.count) }
                target = buffer[0..<max(0, count)].map { UInt8(bitPattern: $0) }
            }
            result[relative] = Entry(info: info, target: target,
                                     xattrs: try xattrs(of: absolute), absolute: absolute)
            if info.st_mode & S_IFMT == S_IFDIR {
                let directory = try open(absolute, flags: CKPT_O_DIRECTORY)
                for entry in try directory.directoryEntries() {
                    let isRoot = relative == [UInt8(ascii: ".")]
                    pending.append(
                        isRoot ? entry.name : relative + [UInt8(ascii: "/")] + entry.name)
                }
            }
        }
        return result
    }

    /// For each non-directory sharing its inode with other names, those names.
    static func linkGroups(_ entries: [PathBytes: Entry]) -> [PathBytes: String] {
        var byInode: [[UInt64]: [PathBytes]] = [:]
        for (path, entry) in entries where entry.info.st_mode & S_IFMT != S_IFDIR {
            byInode[[UInt64(entry.info.st_dev), UInt64(entry.info.st_ino)], default: []]
                .append(path)
        }
        var groups: [PathBytes: String] = [:]
        for paths in byInode.values where paths.count > 1 {
            let text = paths.map(\.displayPath).sorted().joined(separator: " ")
            for path in paths { groups[path] = text }
        }
        return groups
    }

    static func xattrs(of path: PathBytes) throws -> [String: [UInt8]] {
        var names = [CChar](repeating: 0, count: 65536)
        let length = path.withCPath { llistxattr($0, &names, names.count) }
        guard length >= 0 else {
            throw SystemError(errno: ckpt_errno(), operation: "llistxattr",
                              path: path.displayPath)
        }
        var result: [String: [UInt8]] = [:]
        let list = names[0..<length].map { UInt8(bitPattern: $0) }
        for name in list.split(separator: 0).map({ String(decoding: $0, as: UTF8.self) })
        where name != "security.selinux" {
            var value = [UInt8](repeating: 0, count: 65536)
            let size = path.withCPath { lgetxattr($0, name, &value, value.count) }
            guard size >= 0 else {
                throw SystemError(errno: ckpt_errno(), operation: "lgetxattr",
                                  path: path.displayPath)
            }
            result[name] = Array(value[0..<size])
        }
        return result
    }

    static func bytes(of path: PathBytes) throws -> [UInt8] {
        try open(path, flags: 0).readToEnd(limit: Int.max) ?? []
    }

    /// open(2) of a path given as bytes, read-only, never following a final symlink.
    static func open(_ path: PathBytes, flags: Int32) throws -> FileDescriptor {
        let flags = O_RDONLY | CKPT_O_NOFOLLOW | CKPT_O_CLOEXEC | flags
        let fd = path.withCPath { Glibc.open($0, flags) }
        guard fd >= 0 else {
            throw SystemError(errno: ckpt_errno(), operation: "open", path: path.displayPath)
        }
        return FileDescriptor(adopting: fd, path: path.displayPath)
    }

    private static func octal(_ value: mode_t) -> String { String(value, radix: 8) }

    private static func describe(_ xattrs: [String: [UInt8]]) -> String {
        xattrs.keys.sorted().map { "\($0)=\(xattrs[$0]!)" }.joined(separator: ",")
    }
}

/// The comparison the round-trip tests rely on must see every kind of difference.
@Suite struct CreateTreeTests {
    @Test func comparisonFindsEachDifference() throws {
        let scratch = try CreateScratch()
        let base = scratch.inBase
        try base.file("f", "one")
        try base.file("g", "same size")
        try base.symlink("l", to: "a")
        try base.directory("d")
        try base.file("h1", "x")
        try base.hardLink("h2", to: "h1")
        try base.device("dev", major: 1, minor: 3)
        try base.time("f", 1_600_000_000, nanoseconds: 5)
        try scratch.copyBaseToChanged()
        #expect(try TreeDifference.between(scratch.base, scratch.changed).isEmpty)

        let changed = scratch.inChanged
        try changed.mode("f", 0o600)
        try changed.time("f", 1_600_000_000, nanoseconds: 6)
        try changed.file("g", "SAME SIZE")
        try changed.remove("l")
        try changed.symlink("l", to: "b")
        try changed.owner("d", uid: 7, gid: 8)
        try changed.xattr("d", "user.k", "v")
        try changed.remove("h2")
        try changed.file("h2", "x")
        try changed.remove("dev")
        try changed.device("dev", major: 1, minor: 5)
        try changed.file("new", "")
        let found = try TreeDifference.between(scratch.base, scratch.changed)
        let expected = ["f: mode", "f: mtime", "g: contents", "l: target", "d: owner",
                        "d: xattrs", "h1: hard links", "h2: hard links", "dev: rdev",
                        "new: unexpected"]
        for prefix in expected {
            #expect(found.contains { $0.hasPrefix(prefix) }, "\(prefix) not found in \(found)")
        }
    }
}
