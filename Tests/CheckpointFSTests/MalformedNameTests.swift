import Foundation
import CSystem
import Glibc
import Testing
@testable import CheckpointFS

/// Names at and past the kernel's limits: whole paths of 4,095 and 4,096 bytes, components
/// of 255 and 256 bytes, NUL bytes, and a tree 10,000 directories deep.
@Suite struct MalformedNameTests {
    typealias Entry = TarBuilder.Entry

    /// A PAX name of `length` bytes made of components of `component` bytes.
    static func longName(length: Int, component: Int) -> String {
        var name = ""
        while name.utf8.count < length {
            let room = length - name.utf8.count - (name.isEmpty ? 0 : 1)
            let part = String(repeating: "n", count: min(component, max(1, room)))
            name += name.isEmpty ? part : "/" + part
        }
        return name
    }

    static func member(_ name: String) -> Entry {
        var entry = Entry.file("placeholder", "long\n")
        entry.pax = [("path", Array(name.utf8))]
        return entry
    }

    /// 4,096 bytes is one more than a path may have; a component of 256 one more than a name.
    @Test(arguments: [(4096, 200), (300, 256), (258, 256)])
    func tooLong(_ sizes: (Int, Int)) throws {
        let name = Self.longName(length: sizes.0, component: sizes.1)
        try MalformedCheck.expect(RawCheckpoint(
            description: "name of \(sizes.0) bytes, components of \(sizes.1)",
            tar: TarBuilder.archive([.file("fine", "x\n"), Self.member(name)]),
            expectation: .refused(file: "rootfs-diff.tar", entry: name)))
    }

    /// At the limits the member is applied. The view is compared with the commit for a name
    /// that, below the mount point, still fits PATH_MAX; the commit alone for 4,095 bytes.
    @Test(arguments: [(3900, 255), (255, 255)])
    func atTheLimit(_ sizes: (Int, Int)) throws {
        let name = Self.longName(length: sizes.0, component: sizes.1)
        try MalformedCheck.expect(RawCheckpoint(
            description: "name of \(sizes.0) bytes, components of \(sizes.1)",
            tar: TarBuilder.archive([Self.member(name)]), expectation: .applied(members: 1)))
    }

    @Test func fullLengthNameCommits() throws {
        let name = Self.longName(length: 4095, component: 255)
        let scratch = try TemporaryDirectory("longname")
        try RawCheckpoint(description: "4,095 bytes",
                          tar: TarBuilder.archive([Self.member(name)]),
                          expectation: .applied(members: 1)).write(to: scratch.path("ckpt"))
        let root = scratch.path("root")
        _ = try check("mkdir", root) { mkdir(root, 0o755) }
        let outcome = try Restore(source: CheckpointSource.open(path: scratch.path("ckpt")))
            .commit(rootPath: root)
        #expect(outcome.membersApplied == 1)
        var directory = try FileDescriptor.openDirectory(atPath: root)
        let parts = name.split(separator: "/").map { Array($0.utf8) }
        for part in parts.dropLast() {
            directory = try directory.openChild(part, flags: Self.directoryFlags)
        }
        #expect(try directory.statChild(parts.last!)?.st_size == 5)
    }

    /// A name 1,500 directories deep, and a symlink chain reaching 6,000 deep, committed by
    /// `checkpointfs commit` with 256 open files allowed: resolving a path must not hold a
    /// descriptor per level, or a deep tree fails with EMFILE halfway through a commit.
    @Test func deepNamesWithFewDescriptors() throws {
        let deep = Array(repeating: "a", count: 1500).joined(separator: "/")
        var link = Entry.symlink("placeholder", to: "placeholder")
        link.pax = [("path", Array("s".utf8)), ("linkpath", Array(deep.utf8))]
        let members = [Self.member(deep + "/f"), link,
                       Self.member("s/" + Array(repeating: "b", count: 1800)
                                   .joined(separator: "/") + "/g")]
        let scratch = try TemporaryDirectory("descriptors")
        try RawCheckpoint(description: "deep", tar: TarBuilder.archive(members),
                          expectation: .applied(members: 3)).write(to: scratch.path("ckpt"))
        let root = scratch.path("root")
        _ = try check("mkdir", root) { mkdir(root, 0o755) }
        let result = try Command.run("/usr/bin/prlimit", [
            "--nofile=256:256", MountHarness.program, "commit", "-q", "--root", root,
            scratch.path("ckpt"),
        ])
        #expect(result.status == 0, "commit: \(result.standardError)")
        try Self.removeDeep(root + "/a")
    }

    /// A NUL byte inside a PAX name or symlink target: libarchive ends the string there, so
    /// the name applied is what precedes it; the view must agree with the commit.
    @Test(arguments: [("path", "nul\0after"), ("linkpath", "tar\0get")])
    func nulInAPaxRecord(_ record: (String, String)) throws {
        var entry = record.0 == "path" ? Entry.file("placeholder", "x\n")
            : Entry.symlink("link", to: "placeholder")
        entry.pax = [(record.0, Array(record.1.utf8))]
        try MalformedCheck.expect(RawCheckpoint(
            description: "NUL in PAX \(record.0)", tar: TarBuilder.archive([entry]),
            expectation: .applied(members: 1)))
    }

    /// 10,000 directories deep, which no single name can spell: each stage of 2,000 levels is
    /// written through a symlink to the bottom of the one before. Both the commit and the view
    /// reach the file at the bottom.
    @Test func tenThousandLevels() throws {
        let stage = Array(repeating: "a", count: 2000).joined(separator: "/")
        var members: [Entry] = [Self.directoryMember(stage + "/")]
        for level in 1..<5 {
            var link = Entry.symlink("placeholder", to: "placeholder")
            link.pax = [("path", Array("s\(level)".utf8)),
                        ("linkpath", Array(((level == 1 ? "" : "/s\(level - 1)/") + stage).utf8))]
            members.append(link)
            members.append(Self.directoryMember("s\(level)/" + stage + "/"))
        }
        members.append(Self.member("s4/" + stage + "/bottom"))
        let scratch = try TemporaryDirectory("deep")
        try RawCheckpoint(description: "10,000 levels", tar: TarBuilder.archive(members),
                          expectation: .applied(members: nil)).write(to: scratch.path("ckpt"))
        let root = scratch.path("root")
        _ = try check("mkdir", root) { mkdir(root, 0o755) }
        let outcome = try Restore(source: CheckpointSource.open(path: scratch.path("ckpt")))
            .commit(rootPath: root)
        #expect(outcome.membersApplied == members.count)
        #expect(try Self.depthToBottom(from: root) == 10_000)

        let mountPoint = scratch.path("view")
        _ = try check("mkdir", mountPoint) { mkdir(mountPoint, 0o755) }
        let empty = scratch.path("lower")
        _ = try check("mkdir", empty) { mkdir(empty, 0o755) }
        let view = try MountHarness(root: empty, checkpoint: scratch.path("ckpt"),
                                    mountPoint: mountPoint)
        #expect(try Self.depthToBottom(from: view.mountPoint) == 10_000)
        #expect(view.unmount() == 0, "daemon: \(view.log())")
        // The tree is too deep for string paths; take it down by descriptors.
        try Self.removeDeep(root + "/a")
    }

    static let directoryFlags = O_RDONLY | CKPT_O_DIRECTORY

    static func directoryMember(_ name: String) -> Entry {
        var entry = Entry.directory("placeholder/")
        entry.pax = [("path", Array(name.utf8))]
        return entry
    }

    /// Follows `a/a/a/...` down from `top` by descriptors; returns how many levels there are
    /// above the file `bottom`, or -1 when there is none.
    static func depthToBottom(from top: String) throws -> Int {
        var directory = try FileDescriptor.openDirectory(atPath: top)
        var depth = 0
        while let info = try directory.statChild(Array("a".utf8)),
              info.st_mode & S_IFMT == S_IFDIR
        {
            directory = try directory.openChild(Array("a".utf8), flags: Self.directoryFlags)
            depth += 1
        }
        return try directory.statChild(Array("bottom".utf8)) == nil ? -1 : depth
    }

    /// Removes a tree too deep for string paths without recursion or a descriptor per
    /// level: descend into the first directory found, removing files on the way; climb by
    /// `..` when a directory is empty, removing it.
    static func removeDeep(_ top: String) throws {
        var directory = try FileDescriptor.openDirectory(atPath: top)
        var names: [PathBytes] = []
        while true {
            if let child = try directory.directoryEntries().first {
                let mode = try directory.statChild(child.name)?.st_mode ?? 0
                if mode & S_IFMT == S_IFDIR {
                    directory = try directory.openChild(child.name, flags: Self.directoryFlags)
                    names.append(child.name)
                } else {
                    _ = child.name.withCPath { unlinkat(directory.raw, $0, 0) }
                }
                continue
            }
            guard let name = names.popLast() else { break }
            directory = try directory.openChild(Array("..".utf8), flags: Self.directoryFlags)
            _ = name.withCPath { unlinkat(directory.raw, $0, CKPT_AT_REMOVEDIR) }
        }
        _ = rmdir(top)
    }
}
