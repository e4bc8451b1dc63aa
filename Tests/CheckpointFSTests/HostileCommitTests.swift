import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// Checkpoints that try to leave the root, each kind in several spellings. Every one is
/// either refused before anything is written, or resolved inside the root as if it were
/// `/`; canaries around the root show that nothing outside it changes.
@Suite struct HostileCommitTests {
    typealias Entry = TarBuilder.Entry

    struct Attempt: CustomStringConvertible, Sendable {
        var description: String
        var members: [Entry] = []
        var deleted: [String] = []
        /// The entry the refusal must name, or nil when the checkpoint is applied.
        var refusedEntry: String? = nil
        /// Paths (relative to the root) that must exist afterwards, for applied attempts.
        var mustExist: [String] = []
        /// Paths (relative to the root) that must be gone afterwards.
        var mustBeGone: [String] = []
    }

    /// The lower root every attempt starts from: symlinks that climb or are absolute, a
    /// file, a directory.
    static func buildLower(_ root: String) throws {
        for (name, target) in [("abs", "/"), ("up", ".."), ("upup", "../../.."),
                               ("etclink", "/etc"), ("canarylink", "../canary")] {
            _ = try check("symlink", name) { symlink(target, root + "/" + name) }
        }
        try Data("lower file\n".utf8).write(to: URL(fileURLWithPath: root + "/file"))
        _ = try check("mkdir", "etc") { mkdir(root + "/etc", 0o755) }
        try Data("root:x:0:0\n".utf8).write(to: URL(fileURLWithPath: root + "/etc/passwd"))
    }

    /// A symlink `long` whose target, `t/t/...`, has `targetLength` bytes (a PAX linkpath).
    static func longSymlink(targetLength: Int) -> Entry {
        let target = Array(String(repeating: "t/", count: targetLength / 2 + 1).utf8)
            .prefix(targetLength)
        var entry = Entry.symlink("long", to: "t")
        entry.pax = [("linkpath", Array(target))]
        return entry
    }

    static let attempts: [Attempt] = [
        // Names that climb.
        Attempt(description: "dot-dot prefix", members: [.file("../x", "out\n")],
                refusedEntry: "../x"),
        Attempt(description: "climb after a component", members: [.file("a/../../x", "o\n")],
                refusedEntry: "a/../../x"),
        Attempt(description: "dot-dot directory", members: [.directory("..")],
                refusedEntry: ".."),
        Attempt(description: "dot-dot file", members: [.file("..", "o\n")], refusedEntry: ".."),
        Attempt(description: "dot-slash then climb", members: [.file("./../x", "o\n")],
                refusedEntry: "./../x"),
        Attempt(description: "climb after good members",
                members: [.file("fine", "ok\n"), .file("d/../../../x", "o\n")],
                refusedEntry: "d/../../../x"),
        Attempt(description: "absolute climb", members: [.file("/../x", "o\n")],
                refusedEntry: "/../x"),
        // Hard links that climb, miss, or name directories.
        Attempt(description: "hard link climbing", members: [.hardLink("h", to: "../outside")],
                refusedEntry: "h"),
        Attempt(description: "hard link absolute climb",
                members: [.hardLink("h", to: "/../../etc/passwd")], refusedEntry: "h"),
        Attempt(description: "hard link to missing", members: [.hardLink("h", to: "nope")],
                refusedEntry: "h"),
        Attempt(description: "hard link to directory", members: [.hardLink("h", to: "etc")],
                refusedEntry: "h"),
        Attempt(description: "hard link to itself", members: [.hardLink("file", to: "file")],
                refusedEntry: "file"),
        Attempt(description: "hard link to the root", members: [.hardLink("h", to: "/")],
                refusedEntry: "h"),
        // Types and xattrs the apply cannot carry out.
        Attempt(description: "unknown type Z",
                members: [Entry(name: Array("z".utf8), type: UInt8(ascii: "Z"))],
                refusedEntry: "z"),
        Attempt(description: "contiguous file (type 7), which the reference does not handle",
                members: [Entry(name: Array("c".utf8), type: UInt8(ascii: "7"))],
                refusedEntry: "c"),
        Attempt(description: "GNU incremental directory",
                members: [Entry(name: Array("inc/".utf8), type: UInt8(ascii: "D"))],
                refusedEntry: "inc/"),
        Attempt(description: "user xattr on a symlink",
                members: [Entry(name: Array("s".utf8), type: UInt8(ascii: "2"),
                                linkName: Array("file".utf8),
                                pax: [("SCHILY.xattr.user.x", Array("v".utf8))])],
                refusedEntry: "s"),
        Attempt(description: "symlink with an empty target",
                members: [.file("fine", "ok\n"), .symlink("empty", to: "")],
                refusedEntry: "empty"),
        Attempt(description: "symlink target over the kernel's limit",
                members: [.file("fine", "ok\n"), longSymlink(targetLength: 4096)],
                refusedEntry: "long"),
        Attempt(description: "xattr in no namespace the kernel knows",
                members: [.file("fine", "ok\n"),
                          Entry(name: Array("x".utf8),
                                pax: [("SCHILY.xattr.bogus.name", Array("v".utf8))])],
                refusedEntry: "x"),
        Attempt(description: "xattr name over 255 bytes",
                members: [Entry(name: Array("x".utf8),
                                pax: [("SCHILY.xattr.user." + String(repeating: "n", count: 251),
                                       Array("v".utf8))])],
                refusedEntry: "x"),
        Attempt(description: "xattr value over 64 KiB",
                members: [Entry(name: Array("x".utf8),
                                pax: [("SCHILY.xattr.user.big",
                                       [UInt8](repeating: 0x41, count: 65537))])],
                refusedEntry: "x"),
        Attempt(description: "member under a lower file", members: [.file("file/x", "o\n")],
                refusedEntry: "file/x"),
        Attempt(description: "member under a dangling member symlink",
                members: [.symlink("dl", to: "/missing/dir"), .file("dl/x", "o\n")],
                refusedEntry: "dl/x"),
        Attempt(description: "symlink loop",
                members: [.symlink("l1", to: "l2"), .symlink("l2", to: "l1"),
                          .file("l1/x", "o\n")],
                refusedEntry: "l1/x"),
        // Deleted paths that name the root or leave it.
        Attempt(description: "delete the root", deleted: ["/"], refusedEntry: "/"),
        Attempt(description: "delete the empty path", deleted: [""], refusedEntry: ""),
        Attempt(description: "delete dot", deleted: ["/."], refusedEntry: "/."),
        Attempt(description: "delete climbing", deleted: ["../outside"],
                refusedEntry: "../outside"),
        Attempt(description: "delete absolute climbing", deleted: ["/../../etc/x"],
                refusedEntry: "/../../etc/x"),
        Attempt(description: "delete climbing after good paths",
                deleted: ["/file", "/etc/../.."], refusedEntry: "/etc/../.."),
        Attempt(description: "delete under a lower file", deleted: ["/file/x"],
                refusedEntry: "/file/x"),

        // Resolved inside the root as if it were `/`.
        Attempt(description: "absolute name", members: [.file("/abs-name", "in\n")],
                mustExist: ["abs-name"]),
        Attempt(description: "symlink target at the kernel's limit",
                members: [longSymlink(targetLength: 4095)], mustExist: ["long"]),
        Attempt(description: "through a lower symlink to /", members: [.file("abs/x", "in\n")],
                mustExist: ["x"]),
        Attempt(description: "through a lower symlink to ..", members: [.file("up/x", "in\n")],
                mustExist: ["x"]),
        Attempt(description: "through a lower symlink climbing far",
                members: [.file("upup/etc/passwd", "in\n")], mustExist: ["etc/passwd"]),
        Attempt(description: "through a lower symlink to /etc",
                members: [.file("etclink/passwd", "in\n")], mustExist: ["etc/passwd"]),
        Attempt(description: "through a member symlink that climbs",
                members: [.symlink("m", to: "../../.."), .file("m/y", "in\n")],
                mustExist: ["m", "y"]),
        Attempt(description: "through a member symlink to /../..",
                members: [.symlink("m", to: "/../../etc"), .file("m/z", "in\n")],
                mustExist: ["etc/z"]),
        Attempt(description: "directory through a symlink",
                members: [.directory("up/newdir/"), .file("abs/newdir/f", "in\n")],
                mustExist: ["newdir/f"]),
        Attempt(description: "hard link through a symlink",
                members: [.hardLink("h", to: "up/file")], mustExist: ["h", "file"]),
        Attempt(description: "hard link to a lower symlink links the symlink",
                members: [.hardLink("h", to: "canarylink")], mustExist: ["h"]),
        Attempt(description: "replacing a lower symlink to / replaces the link",
                members: [.file("abs", "now a file\n")], mustExist: ["abs"]),
        Attempt(description: "delete through a symlink", deleted: ["/up/file"],
                mustBeGone: ["file"]),
        Attempt(description: "delete a symlink, not its target", deleted: ["/etclink"],
                mustExist: ["etc/passwd"], mustBeGone: ["etclink"]),
        Attempt(description: "delete through a climbing symlink",
                deleted: ["/canarylink", "/upup/canary"], mustBeGone: ["canarylink"]),
    ]

    @Test(arguments: attempts)
    func attemptStaysInsideTheRoot(_ attempt: Attempt) throws {
        let sandbox = try Sandbox()
        try Self.buildLower(sandbox.root)
        let scratch = try TemporaryDirectory("hostile")
        let checkpoint = scratch.path("checkpoint")
        _ = try check("mkdir", checkpoint) { mkdir(checkpoint, 0o755) }
        if !attempt.members.isEmpty {
            try Data(TarBuilder.archive(attempt.members))
                .write(to: URL(fileURLWithPath: checkpoint + "/rootfs-diff.tar"))
        }
        if !attempt.deleted.isEmpty {
            try JSONEncoder().encode(attempt.deleted)
                .write(to: URL(fileURLWithPath: checkpoint + "/deleted.files"))
        }
        let before = try TreeSnapshot(of: sandbox.root)

        let result = Result {
            let source = try CheckpointSource.open(path: checkpoint)
            return try Restore(source: source).commit(rootPath: sandbox.root)
        }

        if let entry = attempt.refusedEntry {
            switch result {
            case .failure(CheckpointError.refusedMember(let file, let member, _)):
                #expect(member == entry && file.hasSuffix("rootfs-diff.tar"))
            case .failure(CheckpointError.refusedDeletedPath(let file, let path, _)):
                #expect(path == entry && file.hasSuffix("deleted.files"))
            default:
                Issue.record("\(attempt): expected a refusal naming '\(entry)', got \(result)")
            }
            let after = try TreeSnapshot(of: sandbox.root)
            #expect(after == before, "root changed:\n\(after.difference(from: before))")
        } else {
            _ = try result.get()
            for path in attempt.mustExist {
                var info = stat()
                #expect(lstat(sandbox.root + "/" + path, &info) == 0, "\(path) missing")
            }
            for path in attempt.mustBeGone {
                var info = stat()
                #expect(lstat(sandbox.root + "/" + path, &info) != 0, "\(path) still there")
            }
        }
        sandbox.expectNothingChangedOutsideRoot()
    }
}
