import CSystem
import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// The snapshot helper, and the scratch-space helpers built on it.
@Suite struct TreeSnapshotTests {
    static let isRoot = geteuid() == 0

    /// Command-line arguments of the script and the same request made of `TreeSnapshot`.
    struct Variant: Sendable, CustomStringConvertible {
        var arguments: [String]
        var take: @Sendable (String) throws -> TreeSnapshot
        var description: String {
            arguments.isEmpty ? "defaults" : arguments.joined(separator: " ")
        }
    }

    static let freshAfter = Int(Date().timeIntervalSince1970) - 60

    static let variants: [Variant] = [
        Variant(arguments: []) { try TreeSnapshot(of: $0) },
        Variant(arguments: ["--fresh-after", String(freshAfter)]) {
            try TreeSnapshot(of: $0, freshAfter: freshAfter)
        },
        Variant(arguments: ["--no-mtime"]) { try TreeSnapshot(of: $0, noMtime: true) },
        Variant(arguments: ["--no-mtime-ns"]) {
            try TreeSnapshot(of: $0, ignoring: [.mtimeNanoseconds])
        },
        Variant(arguments: ["--ignore", "sha256,xattrs,root"]) {
            try TreeSnapshot(of: $0, ignoring: [.sha256, .xattrs, .root])
        },
        Variant(arguments: ["--ignore", "dirmtime,nlink,hl"]) {
            try TreeSnapshot(of: $0, ignoring: [.directoryMtime, .nlink, .hl])
        },
        Variant(arguments: ["--ignore", "type,mode,uid,gid,size,target,rdev"]) {
            try TreeSnapshot(of: $0, ignoring: [.type, .mode, .uid, .gid, .size, .target, .rdev])
        },
        Variant(arguments: ["--exclude", "d", "--exclude", "/sub/deeper/"]) {
            try TreeSnapshot(of: $0, excluding: ["d", "/sub/deeper/"])
        },
        Variant(arguments: ["--xattr-include", "user.", "--xattr-exclude", "user.e"]) {
            try TreeSnapshot(of: $0, xattrInclude: ["user."], xattrExclude: ["user.e"])
        },
        Variant(arguments: ["--dir-nlink", "--fresh-after", String(freshAfter)]) {
            try TreeSnapshot(of: $0, freshAfter: freshAfter, directoryLinkCounts: true)
        },
    ]

    @Test(
        "Developer check: byte-identical to the treesnap script on an odd tree",
        .enabled(if: ReferenceTools.hasTreesnap, "needs the fixtures' treesnap script"),
        .enabled(if: isRoot, "devices and owners need root"),
        arguments: variants)
    func developerCheckOddTree(_ variant: Variant) throws {
        let directory = try TemporaryDirectory("odd")
        try OddTree.make(at: directory.path("tree"))
        try expectSameAsScript(directory.path("tree"), variant)
    }

    @Test(
        "Developer check: byte-identical to the treesnap script on every case's lower root",
        .enabled(if: ReferenceTools.hasTreesnap, "needs the fixtures' treesnap script"),
        .enabled(if: isRoot, "owners and devices need root"),
        arguments: CaseCatalog.all)
    func developerCheckCaseLowers(_ checkpointCase: CheckpointCase) throws {
        let directory = try TemporaryDirectory("lower")
        try checkpointCase.buildLower(at: directory.path("lower"))
        for variant in Self.variants {
            try expectSameAsScript(directory.path("lower"), variant)
        }
    }

    @Test(
        "Developer check: byte-identical to the treesnap script on the podman base root",
        .enabled(if: ReferenceTools.hasTreesnap, "needs the fixtures' treesnap script"),
        .enabled(if: isRoot, "extracting owners needs root"))
    func developerCheckBaseRoot() throws {
        let directory = try TemporaryDirectory("base")
        try BaseRootfs.extract(into: directory.path)
        for variant in Self.variants {
            try expectSameAsScript(directory.path, variant)
        }
    }

    @Test(
        "Developer check: byte-identical to the treesnap script on the fixtures folder",
        .enabled(if: ReferenceTools.hasTreesnap, "needs the fixtures' treesnap script"))
    func developerCheckFixtures() throws {
        try expectSameAsScript(Fixtures.directory.path, Self.variants[0])
    }

    private func expectSameAsScript(_ root: String, _ variant: Variant) throws {
        let ours = try variant.take(root)
        let script = try ReferenceTools.treesnap(root, variant.arguments)
        #expect(ours.text == script.text, "\(variant): \(ours.difference(from: script))")
    }

    @Test("SHA-256 gives the FIPS 180 example digests, whatever the chunking")
    func sha256KnownAnswers() {
        func digest(_ bytes: [UInt8], chunk: Int) -> String {
            var hasher = SHA256()
            var offset = 0
            repeat {
                let end = min(offset + chunk, bytes.count)
                hasher.update(Array(bytes[offset..<end]))
                offset = end
            } while offset < bytes.count
            return hasher.finalizeHex()
        }
        let twoBlocks = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        let million = [UInt8](repeating: 0x61, count: 1_000_000)
        for chunk in [1, 3, 63, 64, 65, 1 << 20] {
            #expect(digest([], chunk: chunk)
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            #expect(digest(Array("abc".utf8), chunk: chunk)
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            #expect(digest(twoBlocks, chunk: chunk)
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        }
        #expect(digest(million, chunk: 4099)
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test(
        "Lines are sorted by path bytes and escape what does not split cleanly",
        .enabled(if: isRoot, "devices and owners need root"))
    func orderAndEscaping() throws {
        let directory = try TemporaryDirectory("odd")
        let root = directory.path("tree")
        try OddTree.make(at: root)
        let snapshot = try TreeSnapshot(of: root, ignoring: [.xattrs])
        let paths = snapshot.lines.map { String($0.prefix { $0 != " " }) }

        let raw = paths.map(Self.unescape)
        #expect(raw == raw.sorted { $0.lexicographicallyPrecedes($1) })
        // "!" and the escaped space sort before the root's "." by their raw bytes.
        #expect(paths.prefix(3) == ["\\x20lead", "!bang", "."])
        #expect(paths.contains("a\\x20b\\x3dc\\x2cd\\x5ce"))
        #expect(paths.contains("nl\\x0aname"))
        #expect(paths.contains("caf\\xe9"))
        #expect(paths.contains("utf8-\\xe6\\x97\\xa5"))
        #expect(snapshot.lines.contains { $0.hasPrefix("link-odd ") && $0.contains(
            " target=tar\\x20get\\xff\\x3d ") })
    }

    /// The bytes an escaped path stands for.
    static func unescape(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x5c, index + 3 < bytes.count, bytes[index + 1] == 0x78,
               let value = UInt8(String(decoding: bytes[index + 2...index + 3], as: UTF8.self),
                                 radix: 16)
            {
                out.append(value)
                index += 4
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    @Test("Names sharing an inode carry the first name in sort order and their count")
    func hardLinkGroups() throws {
        let directory = try TemporaryDirectory("links")
        let root = directory.path
        try Data("same\n".utf8).write(to: URL(fileURLWithPath: root + "/m"))
        #expect(mkdir(root + "/a", 0o755) == 0)
        #expect(link(root + "/m", root + "/a/z") == 0)
        #expect(link(root + "/m", root + "/b") == 0)
        try Data("alone\n".utf8).write(to: URL(fileURLWithPath: root + "/c"))

        let lines = try TreeSnapshot(of: root, ignoring: [.mtime, .sha256]).lines
        #expect(lines.filter { $0.hasSuffix(" nlink=3 hl=a/z") }.count == 3)
        #expect(lines.contains { $0.hasPrefix("c ") && $0.hasSuffix(" nlink=1") })
        let withoutGroups = try TreeSnapshot(of: root, ignoring: [.mtime, .sha256, .hl]).lines
        #expect(!withoutGroups.contains { $0.contains("hl=") })
    }

    @Test("An mtime at or after fresh-after prints as FRESH, without nanoseconds")
    func freshMtimes() throws {
        let directory = try TemporaryDirectory("fresh")
        let root = directory.path
        for (name, seconds, nanoseconds) in [("old", 1_599_999_999, 999_999_999),
                                             ("edge", 1_600_000_000, 0),
                                             ("new", 1_600_000_001, 5)]
        {
            try Data().write(to: URL(fileURLWithPath: root + "/" + name))
            let time = timespec(tv_sec: seconds, tv_nsec: nanoseconds)
            #expect(utimensat(CKPT_AT_FDCWD, root + "/" + name, [time, time], 0) == 0)
        }

        let lines = try TreeSnapshot(of: root, freshAfter: 1_600_000_000, ignoring: [.root]).lines
        #expect(lines.contains {
            $0.hasPrefix("old ") && $0.contains(" mtime=1599999999 mtime_ns=999999999 ")
        })
        #expect(lines.contains { $0.hasPrefix("edge ") && $0.contains(" mtime=FRESH sha256=") })
        #expect(lines.contains { $0.hasPrefix("new ") && $0.contains(" mtime=FRESH sha256=") })
        #expect(!lines.contains { $0.hasPrefix(".") })
    }

    @Test("Excluded subtrees and filtered xattrs are left out")
    func exclusionAndXattrFilters() throws {
        let directory = try TemporaryDirectory("filters")
        let root = directory.path
        #expect(mkdir(root + "/keep", 0o755) == 0)
        #expect(mkdir(root + "/keep/skip", 0o755) == 0)
        try Data().write(to: URL(fileURLWithPath: root + "/keep/skip/inner"))
        try Data().write(to: URL(fileURLWithPath: root + "/keep/file"))
        for (name, value) in [("user.a", "1"), ("user.b", "2")] {
            #expect(setxattr(root + "/keep/file", name, value, 1, 0) == 0)
        }

        let snapshot = try TreeSnapshot(
            of: root, noMtime: true, excluding: ["/keep/skip/"], xattrExclude: ["user.b"])
        let paths = snapshot.lines.map { String($0.prefix { $0 != " " }) }
        #expect(paths == [".", "keep", "keep/file"])
        #expect(snapshot.lines[2].hasSuffix(" xattrs=user.a=31"))
        #expect(!snapshot.lines.contains { $0.contains("mtime") })
    }

    @Test("A snapshot survives a round trip through its text")
    func textRoundTrip() throws {
        let snapshot = try TreeSnapshot(of: Fixtures.path("cases"))
        #expect(TreeSnapshot(text: snapshot.text) == snapshot)
        #expect(snapshot.difference(from: snapshot).isEmpty)
        var changed = snapshot
        changed.lines[1] += " extra"
        #expect(changed.difference(from: snapshot)
            == "- \(snapshot.lines[1])\n+ \(snapshot.lines[1]) extra")
    }
}

/// The scratch-space helpers: temporary directories, the sandbox and the base root.
@Suite struct ScratchSpaceTests {
    @Test("A temporary directory goes with all it holds, and nothing a symlink in it names")
    func temporaryDirectoryRemoval() throws {
        let outside = try TemporaryDirectory("outside")
        try Data("keep\n".utf8).write(to: URL(fileURLWithPath: outside.path("kept")))

        var path = ""
        do {
            let directory = try TemporaryDirectory("removal")
            path = directory.path
            #expect(mkdir(directory.path("locked"), 0o755) == 0)
            #expect(mkdir(directory.path("locked/deeper"), 0o755) == 0)
            try Data("x".utf8).write(to: URL(fileURLWithPath: directory.path("locked/deeper/f")))
            #expect(symlink(outside.path, directory.path("locked/to-outside")) == 0)
            #expect(symlink(outside.path("kept"), directory.path("to-kept")) == 0)
            #expect(chmod(directory.path("locked/deeper"), 0) == 0)
            #expect(chmod(directory.path("locked"), 0o500) == 0)
            try directory.remove()
        }
        #expect(access(path, F_OK) != 0)
        #expect(try String(contentsOfFile: outside.path("kept"), encoding: .utf8) == "keep\n")
    }

    @Test("The sandbox sees changes around the root and ignores those inside it")
    func sandboxDetectsEscapes() throws {
        let sandbox = try Sandbox()
        try Data("inside\n".utf8).write(to: URL(fileURLWithPath: sandbox.root + "/file"))
        #expect(mkdir(sandbox.root + "/dir", 0o700) == 0)
        #expect(try sandbox.changesOutsideRoot().isEmpty)

        let sibling = sandbox.scratch.path("w/rootx/secret")
        try Data("changed\n".utf8).write(to: URL(fileURLWithPath: sibling))
        let changes = try sandbox.changesOutsideRoot()
        #expect(changes.contains("- w/rootx/secret "))
        #expect(changes.contains("+ w/rootx/secret "))

        let other = try Sandbox()
        #expect(chmod(other.scratch.path("w"), 0o700) == 0)
        #expect(try other.changesOutsideRoot().contains("+ w type=d mode=0700"))

        let third = try Sandbox()
        try Data().write(to: URL(fileURLWithPath: third.scratch.path("w/new")))
        #expect(try third.changesOutsideRoot().contains("+ w/new "))
    }

    @Test("Every canary is in place when a sandbox is made")
    func sandboxCanaries() throws {
        let sandbox = try Sandbox()
        let lines = try sandbox.outsideSnapshot().lines
        for canary in Sandbox.canaries {
            #expect(lines.contains { $0.hasPrefix(canary + " type=f ") }, "\(canary)")
        }
        #expect(!lines.contains { $0.hasPrefix("w/root ") })
        #expect(try TreeSnapshot(of: sandbox.root, noMtime: true).lines
            == [". type=d mode=0755 uid=0 gid=0"])
    }
}

/// A tree with everything a snapshot must render: names that sort before `.`, need escaping
/// or are not UTF-8, every file type, a hard-link triple, xattrs on files, directories and a
/// symlink, odd modes and owners, sub-second, negative and current mtimes, a sparse file and a
/// file larger than the hash's read size.
enum OddTree {
    static func make(at root: String) throws {
        try directory(root, mode: 0o755)
        try file(root + "/!bang", "bang\n")
        try file(root + "/ lead", "leading space\n")
        try file(root + "/a b=c,d\\e", "escapes\n")
        try file(root + "/nl\nname", "newline\n")
        try file(root + "/utf8-日", "utf-8\n")
        try rawFile(root, name: Array("caf".utf8) + [0xe9], "latin-1\n")
        try file(root + "/empty", "")

        try directory(root + "/d", mode: 0o755)
        try file(root + "/d/inner", "inside a mode-0 directory\n")
        try file(root + "/h1", "linked three times\n")
        try directory(root + "/sub", mode: 0o1777)
        try directory(root + "/sub/deeper", mode: 0o2750)
        try check(link(root + "/h1", root + "/sub/h2"))
        try check(link(root + "/h1", root + "/sub/deeper/h3"))

        try check(symlink("/etc/passwd", root + "/link-abs"))
        try check(symlink("does/not/exist", root + "/link-dangling"))
        let odd = Array("tar get".utf8) + [0xff, 0x3d]
        try check(odd.withCPath { symlink($0, root + "/link-odd") })
        try check(mkfifo(root + "/fifo", 0o640))
        try check(mknod(root + "/null", 0o020_666, ckpt_makedev(1, 3)))
        try check(mknod(root + "/blk", 0o060_600, ckpt_makedev(7, 9)))
        try check(mknod(root + "/sock", 0o140_755, 0))

        try check(setxattr(root + "/h1", "user.bin", [0x00, 0xff, 0x2c], 3, 0))
        try check(setxattr(root + "/h1", "user.empty", nil, 0, 0))
        try check(setxattr(root + "/h1", "trusted.t", "T", 1, 0))
        try check(lsetxattr(root + "/link-abs", "trusted.s", "S", 1, 0))
        try check(setxattr(root + "/sub", "user.dir", "D", 1, 0))

        try check(chown(root + "/h1", 1234, 5678))
        try check(chmod(root + "/h1", 0o4755))
        try check(lchown(root + "/link-dangling", 42, 43))
        try check(chmod(root + "/empty", 0))

        // Over 1 MiB so the digest reads in several chunks; the sparse one has a hole.
        let big = (0..<2_500_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        try Data(big).write(to: URL(fileURLWithPath: root + "/big"))
        let sparse = Glibc.open(root + "/sparse", O_WRONLY | O_CREAT, 0o644)
        try check(sparse)
        try check(Int32(pwrite(sparse, "x", 1, 3 << 20)))
        try check(Glibc.close(sparse))

        try setTime(root + "/!bang", seconds: 1_600_000_000, nanoseconds: 123_456_789)
        try setTime(root + "/ lead", seconds: -2, nanoseconds: 500_000_000)
        try setTime(root + "/link-abs", seconds: 1_500_000_000, nanoseconds: 1)
        try setTime(root + "/sub/deeper", seconds: 1_000_000_000, nanoseconds: 999_999_999)
        try check(chmod(root + "/d", 0))
    }

    private static func directory(_ path: String, mode: mode_t) throws {
        try check(mkdir(path, 0o700))
        try check(chmod(path, mode))
    }

    private static func file(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    private static func rawFile(_ root: String, name: PathBytes, _ text: String) throws {
        let path = PathBytes(path: root + "/") + name
        let fd = path.withCPath { Glibc.open($0, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
        try check(fd)
        let bytes = Array(text.utf8)
        try check(Int32(Glibc.write(fd, bytes, bytes.count)))
        try check(Glibc.close(fd))
    }

    private static func setTime(_ path: String, seconds: Int, nanoseconds: Int) throws {
        let time = timespec(tv_sec: seconds, tv_nsec: nanoseconds)
        try check(utimensat(CKPT_AT_FDCWD, path, [time, time], CKPT_AT_SYMLINK_NOFOLLOW))
    }

    private static func check(_ result: Int32) throws {
        if result < 0 {
            throw SystemError(errno: ckpt_errno(), operation: "making the odd tree", path: "")
        }
    }
}

/// The manifest listing, checked against podman's own records of the same trees.
@Suite struct ManifestTests {
    static let isRoot = geteuid() == 0

    /// What podman adds to a root it restores, and what its manifests leave out.
    static let podmanAdditions = ["/etc/hosts", "/etc/resolv.conf", "/etc/mtab",
                                  "/run/.containerenv"]
    static let podmanOmissions = ["/dev", "/proc", "/sys"]

    /// Base, then the diff tar with GNU tar, then the deleted paths: the reconstruction the
    /// podman fixtures record as `recon-base-plus-diff.manifest`.
    static func reconstructCkrich(at root: String) throws {
        try BaseRootfs.extract(into: root)
        try Command.succeed("/usr/bin/tar", [
            "-xpf", Fixtures.path("podman/unpacked/ckrich/rootfs-diff.tar"), "--numeric-owner",
            "--xattrs", "--xattrs-include=*", "-C", root,
        ])
        let deleted = try JSONDecoder().decode(
            [String].self, from: Data(Fixtures.bytes("podman/unpacked/ckrich/deleted.files")))
        for path in deleted {
            try FileManager.default.removeItem(atPath: root + path)
        }
    }

    @Test(
        "GNU tar's reconstruction of ckrich lists exactly as podman's record of it",
        .enabled(if: isRoot, "extracting owners needs root"))
    func reconstructionMatchesRecord() throws {
        let directory = try TemporaryDirectory("recon")
        try Self.reconstructCkrich(at: directory.path)
        let ours = try Manifest(of: directory.path)
        let recorded = try Manifest(contentsOf: Fixtures.path(
            "podman/state/recon-base-plus-diff.manifest"))
        #expect(ours == recorded, "\(ours.difference(from: recorded))")
    }

    @Test(
        "The extracted base equals podman's restore without a diff, but for podman's own files",
        .enabled(if: isRoot, "extracting owners needs root"))
    func baseMatchesIgnoreRootfsRestore() throws {
        let directory = try TemporaryDirectory("base")
        try BaseRootfs.extract(into: directory.path)
        let ours = try Manifest(of: directory.path).removing(paths: Self.podmanOmissions + ["/"])
        let restored = try Manifest(contentsOf: Fixtures.path(
            "podman/state/ckrich-ignore-rootfs-restored.manifest"))
            .removing(paths: Self.podmanAdditions + ["/"])
        #expect(ours == restored, "\(ours.difference(from: restored))")
        #expect(ours.lines.count > 300)
    }

    @Test("xattr values print as Python's bytes literals")
    func bytesLiterals() {
        #expect(Manifest.bytesLiteral(Array("hello".utf8)) == "b'hello'")
        #expect(Manifest.bytesLiteral(Array("it's".utf8)) == "b\"it's\"")
        #expect(Manifest.bytesLiteral(Array("both ' and \"".utf8)) == "b'both \\' and \"'")
        #expect(Manifest.bytesLiteral([0, 0xff, 9, 10, 13, 0x5c, 0x20, 0x7f, 0x7e])
            == "b'\\x00\\xff\\t\\n\\r\\\\ \\x7f~'")
        #expect(Manifest.bytesLiteral([]) == "b''")
    }

    @Test(
        "Developer check: byte-identical to the fixtures' manifest script",
        .enabled(if: ReferenceTools.hasManifest, "needs the podman fixtures' manifest script"),
        .enabled(if: isRoot, "extracting owners needs root"))
    func developerCheckAgainstScript() throws {
        let directory = try TemporaryDirectory("recon")
        #expect(mkdir(directory.path("recon"), 0o755) == 0)
        try Self.reconstructCkrich(at: directory.path("recon"))
        try CaseCatalog.named("03-pax-xattrs-mtime").buildLower(at: directory.path("lower"))
        for tree in ["recon", "lower"] {
            for withMtime in [false, true] {
                let ours = try Manifest(of: directory.path(tree), withMtime: withMtime)
                let script = try ReferenceTools.manifest(directory.path(tree), withMtime: withMtime)
                #expect(ours.lines == script, "\(ours.difference(from: Manifest(lines: script)))")
            }
        }
    }
}
