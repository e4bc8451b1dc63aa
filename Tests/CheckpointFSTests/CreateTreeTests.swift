import CSystem
import Foundation
import Glibc
import Testing
@testable import CheckpointFS

// Helpers for the create tests: a scratch directory holding a base and a changed root, a
// maker for entries of any type, owner, mode, time and xattrs, and an entry-by-entry
// comparison of two trees. Paths are plain strings here: these are trees the test made.

/// A temporary directory with `base/`, `changed/`, `out/` and `applied/`.
final class CreateScratch {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory("create")
        for name in ["base", "changed"] { try TreeMaker(root: path).directory(name) }
    }

    var path: String { directory.path }
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
        try Command.succeed("/bin/cp", ["-a", base, changed])
    }

    /// Runs `create` into `out/`, copies the base to `applied/` and commits the diff there
    /// with the apply engine, exactly as `checkpointfs commit` does.
    @discardableResult
    func createAndApply(options: CreateOptions = CreateOptions(allowLossy: true)) throws
        -> (plan: DiffPlan, outcome: ApplyOutcome)
    {
        let plan = try CheckpointDiff.create(
            basePath: base, changedPath: changed, outputPath: output, options: options)
        try Command.succeed("/bin/cp", ["-a", base, applied])
        let source = try CheckpointSource.open(path: output)
        defer { source.close() }
        let outcome = try Restore(source: source).commit(rootPath: applied)
        return (plan, outcome)
    }

    /// The lines in which the snapshots of `applied/` and `changed/` differ (`- ` for the
    /// changed root's, `+ ` for the applied one's); empty when the trees are the same.
    func appliedDifference(ignoring: Set<TreeSnapshot.Field> = []) throws -> [String] {
        let wanted = try TreeSnapshot(of: changed, ignoring: ignoring)
        let got = try TreeSnapshot(of: applied, ignoring: ignoring)
        let text = got.difference(from: wanted)
        return text.isEmpty ? [] : text.split(separator: "\n").map(String.init)
    }

    /// The paths (as the snapshot escapes them) that a difference names.
    static func paths(_ difference: [String]) -> Set<String> {
        Set(difference.map { String($0.dropFirst(2).prefix { $0 != " " }) })
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


/// The round trips rely on the maker making exactly the entries it is asked for.
@Suite struct CreateTreeTests {
    @Test func makerSetsEveryField() throws {
        let scratch = try CreateScratch()
        let maker = scratch.inChanged
        try maker.directory("d", mode: 0o2750, uid: 7, gid: 8)
        try maker.file("d/f", "abc", mode: 0o4711, uid: 1000, gid: 1001)
        try maker.time("d/f", 1_600_000_000, nanoseconds: 7)
        try maker.xattr("d/f", "user.k", "v")
        try maker.hardLink("d/g", to: "d/f")
        try maker.symlink("d/l", to: "../x", uid: 3, gid: 4)
        try maker.time("d/l", 1_500_000_000)
        try maker.fifo("d/p", mode: 0o620)
        try maker.device("d/c", major: 1, minor: 7, mode: 0o666)
        try maker.device("d/b", block: true, major: 8, minor: 1)
        try maker.file(in: "d", named: [0x62, 0xff], "raw")
        try maker.time("d", 1_400_000_000)

        let lines = try TreeSnapshot(of: scratch.changed, ignoring: [.root, .sha256]).lines
        let f = "d/f type=f mode=4711 uid=1000 gid=1001 size=3 mtime=1600000000 mtime_ns=7 "
            + "nlink=2 hl=d/f xattrs=user.k=76"
        #expect(lines.contains("d type=d mode=2750 uid=7 gid=8 mtime=1400000000 mtime_ns=0"))
        #expect(lines.contains(f))
        #expect(lines.contains(f.replacingOccurrences(of: "d/f type", with: "d/g type")))
        #expect(lines.contains("d/l type=l mode=0777 uid=3 gid=4 size=4 mtime=1500000000 "
                               + "mtime_ns=0 target=../x nlink=1"))
        #expect(lines.contains { $0.hasPrefix("d/p type=p mode=0620 ") })
        #expect(lines.contains { $0.hasPrefix("d/c type=c mode=0666 ") && $0.contains("rdev=1:7") })
        #expect(lines.contains { $0.hasPrefix("d/b type=b mode=0600 ") && $0.contains("rdev=8:1") })
        #expect(lines.contains { $0.hasPrefix("d/b\\xff type=f ") })
    }
}
