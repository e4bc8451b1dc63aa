import Foundation
import Testing
@testable import CheckpointFS

/// `create` on the real podman data: the base image and the full root podman exported from
/// the changed container (`podman export`). podman's own checkpoint of that container lost
/// modified files, metadata changes, a re-created directory and a hard link to a base file;
/// ours must give the exported root back.
@Suite struct CreatePodmanTests {
    /// `base/` is the image, `changed/` the exported root, with the root directory's own
    /// mode and mtime taken from the base (the export has no entry for the root).
    static func scratch() throws -> CreateScratch {
        let scratch = try CreateScratch()
        try BaseRootfs.extract(into: scratch.base)
        try Command.succeed("/usr/bin/tar", [
            "--zstd", "-xpf", Fixtures.path("podman/state/ckrich-podman-export.tar.zst"),
            "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", scratch.changed,
        ])
        try Command.succeed("/bin/chmod", ["--reference=" + scratch.base, scratch.changed])
        try Command.succeed("/usr/bin/touch", ["-r", scratch.base, scratch.changed])
        return scratch
    }

    /// The change list is podman's (`podman diff` at checkpoint time) except where a tree
    /// comparison must differ from podman's reading of the overlay upper directory.
    @Test func changeListIsPodmans() throws {
        let scratch = try Self.scratch()
        let ours = try CreateChangeListTests.changes(scratch)

        var expected = try Fixtures.text("podman/state/ckrich-podman-diff.txt")
            .split(separator: "\n").map(String.init)
        func replace(_ line: String, with lines: [String]) {
            let index = expected.firstIndex(of: line)!
            expected.replaceSubrange(index...index, with: lines)
        }
        // overlay marks a directory made where something was deleted as opaque, and podman
        // reads that as deleted; between two trees it is a changed entry (a file became a
        // directory; a directory lost old entries, listed on their own).
        replace("D /data/file-to-dir", with: ["C /data/file-to-dir"])
        replace("D /data/opaque-me", with: ["C /data/opaque-me"])
        replace("A /data/opaque-me/new.txt", with: [
            "A /data/opaque-me/new.txt", "D /data/opaque-me/old.txt", "D /data/opaque-me/sub",
        ])
        // podman hides the files it mounts over; the export holds them.
        replace("C /etc/group", with: ["C /etc/group", "A /etc/hosts", "A /etc/mtab"])
        replace("C /etc/passwd", with: ["C /etc/passwd", "A /etc/resolv.conf"])
        replace("A /root/.cache/c.txt",
                with: ["A /root/.cache/c.txt", "C /run", "A /run/.containerenv"])
        #expect(ours == expected)
    }

    @Test func exportedRootComesBack() throws {
        let scratch = try Self.scratch()

        // Entries are deleted in /bin and /data, which are re-created from the root: only
        // the root's own mtime cannot come back, and that refuses without --allow-lossy.
        #expect {
            try CheckpointDiff.create(basePath: scratch.base, changedPath: scratch.changed,
                                      outputPath: scratch.output)
        } throws: { error in
            guard case CreateError.inexpressible(let changes) = error else { return false }
            return changes == [InexpressibleChange(path: [UInt8(ascii: "/")],
                                                   reason: .rootTimeStamped)]
        }

        let (plan, outcome) = try scratch.createAndApply()
        #expect(plan.rebuiltDirectories.map(\.displayPath) == ["/bin", "/data"])
        #expect(outcome.deletedTarContent.isEmpty)
        let difference = try scratch.appliedDifference()
        #expect(CreateScratch.paths(difference) == ["."], "\(difference)")
        #expect(try scratch.appliedDifference(ignoring: [.root]).isEmpty)
    }

    /// The same comparison fails for podman's own checkpoint of that container, where it
    /// lost what the README of the fixtures lists: the test data does exercise those cases.
    @Test func podmansCheckpointDoesNotComeBack() throws {
        let scratch = try Self.scratch()
        try Command.succeed("/bin/cp", ["-a", scratch.base, scratch.applied])
        let source = try CheckpointSource.open(path: Fixtures.path("podman/unpacked/ckrich"))
        defer { source.close() }
        try Restore(source: source).commit(rootPath: scratch.applied)

        let lost = CreateScratch.paths(try scratch.appliedDifference(ignoring: [.root]))
        for path in ["data/modify-me.txt", "data/chmod-me.txt", "data/chown-me.txt",
                     "data/xattr-base.txt", "data/dir-to-file", "data/file-to-dir",
                     "data/opaque-me/new.txt", "data/hl-to-base.txt", "var/log/base.log"] {
            #expect(lost.contains(path), "\(path)")
        }
    }
}
