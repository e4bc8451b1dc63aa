import Glibc
import Testing
@testable import CheckpointFS

/// `create`, then the apply engine's commit onto a copy of the base, must give back the
/// changed root entry by entry, in every case podman 4.3 loses and in the reverse of each.
@Suite struct CreateRoundTripTests {
    /// A base and a changed root that differ in every way the diff format can carry. All of
    /// it sits below `outer/`, which only gains a header, so the root itself never changes.
    static func makeRichPair(_ scratch: CreateScratch) throws {
        let base = scratch.inBase
        for directory in ["outer", "outer/top", "outer/top/keep", "outer/top/files",
                          "outer/top/dirs", "outer/top/gone", "outer/top/new"] {
            try base.directory(directory)
        }
        try base.file("outer/top/keep/existing.txt", "linked from elsewhere")
        try base.file("outer/top/keep/untouched.txt", "never changes")
        try base.file("outer/top/keep/for-rebuilt.txt", "linked from a rebuilt directory")

        let files = "outer/top/files/"
        try base.file(files + "same-size.txt", "aaaa")
        try base.file(files + "grows.txt", "short")
        try base.file(files + "chmod.txt", "mode")
        try base.file(files + "chown.txt", "owner")
        try base.file(files + "xattr-add.txt", "add")
        try base.file(files + "xattr-remove.txt", "remove")
        try base.xattr(files + "xattr-remove.txt", "user.gone", "1")
        try base.xattr(files + "xattr-remove.txt", "trusted.gone", "2")
        try base.file(files + "mtime.txt", "time")
        try base.file(files + "setuid.txt", "#!/bin/true\n", mode: 0o755)
        try base.file(files + "split-a", "was one inode")
        try base.hardLink(files + "split-b", to: files + "split-a")
        try base.file(files + "join-a", "two inodes")
        try base.file(files + "join-b", "two inodes")
        try base.symlink(files + "symlink-to-file", to: "somewhere")
        try base.file(files + "file-to-symlink", "becomes a link")
        try base.symlink(files + "retarget", to: "old/target")
        try base.device(files + "device-to-file", major: 1, minor: 3)
        try base.file(files + "file-to-device", "becomes a device")
        try base.device(files + "device-renumbered", major: 1, minor: 5)
        try base.fifo(files + "fifo-kept")
        for (index, name) in ["same-size.txt", "grows.txt", "join-a", "join-b"].enumerated() {
            try base.time(files + name, 1_500_000_000 + index)
        }

        let dirs = "outer/top/dirs/"
        for name in ["chmod", "chown", "xattr-add", "xattr-gone", "mtime", "recreated",
                     "recreated/sub", "d2f", "d2f/x", "d2sym"] {
            try base.directory(dirs + name)
        }
        try base.xattr(dirs + "xattr-gone", "user.old", "1")
        try base.xattr(dirs + "xattr-gone", "user.kept", "k")
        try base.file(dirs + "xattr-gone/child.txt", "stays")
        try base.file(dirs + "recreated/old.txt", "old content")
        try base.file(dirs + "recreated/sub/inner.txt", "inner")
        try base.file(dirs + "f2d", "a file that becomes a directory")
        try base.file(dirs + "d2f/x/y", "below a directory that becomes a file")
        try base.file(dirs + "d2sym/z", "below a directory that becomes a symlink")
        try base.symlink(dirs + "sym2d", to: "../keep")

        let gone = "outer/top/gone/"
        try base.file(gone + "delete-me.txt", "deleted")
        try base.directory(gone + "deleted-dir")
        try base.directory(gone + "deleted-dir/b")
        try base.file(gone + "deleted-dir/b/c", "deep")
        try base.fifo(gone + "fifo-old")
        try base.file(gone + "stays.txt", "stays in a rebuilt directory")
        try base.hardLink(gone + "linked-out", to: "outer/top/keep/for-rebuilt.txt")

        try setDirectoryTimes(base, 1_400_000_000)
        try scratch.copyBaseToChanged()

        let changed = scratch.inChanged
        try changed.file(files + "same-size.txt", "bbbb")
        try changed.time(files + "same-size.txt", 1_500_000_000)
        try changed.file(files + "grows.txt", "now much longer")
        try changed.mode(files + "chmod.txt", 0o600)
        try changed.owner(files + "chown.txt", uid: 1000, gid: 1001)
        try changed.xattr(files + "xattr-add.txt", "user.new", "value")
        try changed.xattr(files + "xattr-add.txt", "trusted.new", "t")
        try changed.removeXattr(files + "xattr-remove.txt", "user.gone")
        try changed.time(files + "mtime.txt", 1_600_000_000, nanoseconds: 123_456_789)
        try changed.mode(files + "setuid.txt", 0o4755)
        try changed.remove(files + "split-a")
        try changed.file(files + "split-a", "a new inode")
        try changed.remove(files + "join-b")
        try changed.hardLink(files + "join-b", to: files + "join-a")
        try changed.remove(files + "symlink-to-file")
        try changed.file(files + "symlink-to-file", "now a file")
        try changed.remove(files + "file-to-symlink")
        try changed.symlink(files + "file-to-symlink", to: "/absolute/dangling")
        try changed.xattr(files + "file-to-symlink", "trusted.onlink", "s")
        try changed.remove(files + "retarget")
        try changed.symlink(files + "retarget", to: "new/target")
        try changed.remove(files + "device-to-file")
        try changed.file(files + "device-to-file", "was a device")
        try changed.remove(files + "file-to-device")
        try changed.device(files + "file-to-device", block: true, major: 7, minor: 1)
        try changed.remove(files + "device-renumbered")
        try changed.device(files + "device-renumbered", major: 1, minor: 9, mode: 0o640)

        try changed.mode(dirs + "chmod", 0o700)
        try changed.owner(dirs + "chown", uid: 1000, gid: 1000)
        try changed.xattr(dirs + "xattr-add", "user.d", "1")
        try changed.removeXattr(dirs + "xattr-gone", "user.old")
        try changed.time(dirs + "mtime", 1_650_000_000, nanoseconds: 42)
        try changed.remove(dirs + "recreated")
        try changed.directory(dirs + "recreated", mode: 0o750)
        try changed.file(dirs + "recreated/new.txt", "new content")
        try changed.remove(dirs + "f2d")
        try changed.directory(dirs + "f2d")
        try changed.directory(dirs + "f2d/sub")
        try changed.file(dirs + "f2d/sub/deep", "inside a directory that was a file")
        try changed.remove(dirs + "d2f")
        try changed.file(dirs + "d2f", "a directory became this file")
        try changed.remove(dirs + "d2sym")
        try changed.symlink(dirs + "d2sym", to: "../keep")
        try changed.remove(dirs + "sym2d")
        try changed.directory(dirs + "sym2d", mode: 0o711)
        try changed.file(dirs + "sym2d/child", "a symlink became a directory")

        try changed.remove(gone + "delete-me.txt")
        try changed.remove(gone + "deleted-dir")
        try changed.remove(gone + "fifo-old")

        let new = "outer/top/new/"
        try changed.mode("outer/top/new", 0o700)
        try changed.owner("outer/top/new", uid: 1000, gid: 1000)
        try changed.file(new + "hl-a", "three names, one inode", mode: 0o640, uid: 5, gid: 6)
        try changed.hardLink(new + "hl-b", to: new + "hl-a")
        try changed.hardLink(new + "hl-c", to: new + "hl-a")
        try changed.hardLink(new + "to-base", to: "outer/top/keep/existing.txt")
        try changed.fifo(new + "fifo", mode: 0o620)
        try changed.hardLink(new + "fifo-again", to: new + "fifo")
        try changed.symlink(new + "symlink", to: "hl-a")
        try changed.hardLink(new + "symlink-again", to: new + "symlink")
        try changed.device(new + "char", major: 1, minor: 7, mode: 0o666)
        try changed.device(new + "block", block: true, major: 8, minor: 1)
        try changed.file(new + "empty", "")
        try changed.file(new + "big-ids", "ids beyond ustar", uid: 3_000_000, gid: 3_000_001)
        try changed.file(new + "trusted", "xattr", mode: 0o600)
        try changed.xattr(new + "trusted", "trusted.t", "1")
        try changed.xattr(new + "trusted", "user.binary", "\u{1}\u{2}")
        try changed.file(new + "epoch", "mtime zero")
        try changed.time(new + "epoch", 0)
        try changed.file(new + "nanoseconds", "ns")
        try changed.time(new + "nanoseconds", 1_700_000_000, nanoseconds: 999_999_999)
        try changed.directory(new + "sticky", mode: 0o1777)
        try changed.directory(new + "setgid", mode: 0o2775, gid: 100)
        try changed.file(new + "setgid/file", "g", mode: 0o2755)
        try changed.file(new + "ünïcødé 日本.txt", "utf-8 name")
        try changed.file(in: new.dropLastSlash, named: Array("bad".utf8) + [0xff, 0xfe], "bytes")
        try changed.file(in: new.dropLastSlash, named: Array("new\nline".utf8), "newline")
        let long = new + String(repeating: "d", count: 120)
        try changed.directory(long)
        try changed.file(long + "/" + String(repeating: "f", count: 130), "long name")
        try changed.symlink(new + "long-target", to: String(repeating: "t/", count: 80))
        try changed.file(new + "sparse", "")
        try makeSparse(changed.full(new + "sparse"))
    }

    /// Stamps every directory of a tree with one time (touching a directory leaves its
    /// parent's mtime alone, so the order does not matter).
    static func setDirectoryTimes(_ maker: TreeMaker, _ seconds: Int) throws {
        try Command.succeed("/usr/bin/find", [maker.root, "-type", "d", "-exec", "/usr/bin/touch",
                                              "-d", "@\(seconds)", "{}", "+"])
    }

    /// A 4 MiB file with data only at its start and its end.
    static func makeSparse(_ path: String) throws {
        let fd = open(path, O_WRONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        let head = Array("head".utf8)
        let tail = Array("tail".utf8)
        _ = head.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        _ = tail.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 4 << 20 - 4) }
    }

    @Test func everyChangeComesBack() throws {
        let scratch = try CreateScratch()
        try Self.makeRichPair(scratch)
        let (plan, outcome) = try scratch.createAndApply(options: CreateOptions())

        #expect(plan.inexpressible.isEmpty, "\(plan.inexpressible)")
        let difference = try scratch.appliedDifference()
        #expect(difference.isEmpty, "\(difference.joined(separator: "\n"))")
        #expect(outcome.deletedTarContent.isEmpty)

        // Deletions inside kept directories are carried by re-creating those directories,
        // so nothing is left for the deleted list (which would stamp their mtimes).
        #expect(plan.deletedPaths.isEmpty)
        #expect(plan.rebuiltDirectories.map(\.displayPath) == [
            "/outer/top/dirs/recreated", "/outer/top/dirs/xattr-gone", "/outer/top/gone",
        ])

        // Unchanged entries get no member; unchanged base inodes are linked to by path.
        let byPath = Dictionary(plan.members.map { ($0.path.displayPath, $0) },
                                uniquingKeysWith: { $1 })
        #expect(byPath["outer/top/keep/untouched.txt"] == nil)
        #expect(byPath["outer/top/keep"] == nil)
        #expect(byPath["outer/top/new/to-base"]?.kind
                == .hardLink(target: PathBytes(path: "outer/top/keep/existing.txt")))
        #expect(byPath["outer/top/gone/linked-out"]?.kind
                == .hardLink(target: PathBytes(path: "outer/top/keep/for-rebuilt.txt")))
        #expect(byPath["outer/top/new/hl-c"]?.kind
                == .hardLink(target: PathBytes(path: "outer/top/new/hl-a")))
        #expect(byPath["outer/top/files/split-b"] == nil)
        #expect(byPath["outer/top/files/join-b"]?.kind
                == .hardLink(target: PathBytes(path: "outer/top/files/join-a")))
        // A kept directory gets a merging header only when something is created in it or
        // its own metadata changed.
        #expect(byPath["outer"] == nil)
        #expect(byPath["outer/top/files"]?.role == .mergedDirectory)
        #expect(byPath["outer/top/dirs/chmod"]?.role == .mergedDirectory)
    }

    @Test func everyChangeComesBackInReverse() throws {
        let scratch = try CreateScratch()
        try Self.makeRichPair(scratch)
        let reversed = try CreateScratch()
        try Command.succeed("/bin/rm", ["-rf", reversed.base, reversed.changed])
        try Command.succeed("/bin/cp", ["-a", scratch.changed, reversed.base])
        try Command.succeed("/bin/cp", ["-a", scratch.base, reversed.changed])

        let (plan, outcome) = try reversed.createAndApply(options: CreateOptions())

        #expect(plan.inexpressible.isEmpty, "\(plan.inexpressible)")
        let difference = try reversed.appliedDifference()
        #expect(difference.isEmpty, "\(difference.joined(separator: "\n"))")
        #expect(outcome.deletedTarContent.isEmpty)
    }
}

extension String {
    /// The path without its trailing `/`.
    fileprivate var dropLastSlash: String { hasSuffix("/") ? String(dropLast()) : self }
}
