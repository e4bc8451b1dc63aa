import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// `checkpointfs diff`, run as the built program, on the real podman checkpoints and on small
/// made-up ones.
@Suite struct DiffCommandTests {
    /// `ckrich-podman-diff.txt` is `podman diff` of the container at checkpoint time: the
    /// container's changes against its image. `diff` lists the changes a restore makes, and
    /// podman 4.3 does not restore all of the container's changes. Its checkpoint left these
    /// "C" entries out of the diff tar (the fixture README, section 5: podman includes a
    /// changed file only when the same path is a file on the HOST, and never a changed
    /// directory's owner or mode), so a restore leaves them as the image has them.
    static let changesPodmanDropped = [
        "C /data/base-link", "C /data/chmod-me.txt", "C /data/chown-me.txt",
        "C /data/dir-to-file", "C /data/file-to-symlink", "C /data/modify-me.txt",
        "C /data/subdir/existing.txt", "C /data/xattr-base.txt", "C /var/log/base.log",
    ]
    /// `/data/opaque-me` was deleted and re-created in the container, so the diff tar holds
    /// `data/opaque-me/new.txt` and the deleted list holds `/data/opaque-me`: a restore
    /// untars the one and then removes the directory with it (README, section 6), so after
    /// the restore there is no `/data/opaque-me/new.txt` to add. Only `D /data/opaque-me`
    /// stays, and `diff` warns about it.
    static let addedThenDeleted = ["A /data/opaque-me/new.txt"]

    /// Every other line of podman's list is a change the restore makes, and `diff` must list
    /// exactly those: the A lines of every added entry, the D lines of the deleted list, and
    /// C for `/etc/passwd`, `/etc/group` and each existing directory something changes in.
    static func expectedLines() throws -> [String] {
        let podman = try Fixtures.text("podman/state/ckrich-podman-diff.txt")
            .split(separator: "\n").map(String.init)
        let left = Set(changesPodmanDropped + addedThenDeleted)
        #expect(left.isSubset(of: Set(podman)), "the fixture no longer holds these lines")
        return podman.filter { !left.contains($0) }
    }

    static let forms = [
        "unpacked/ckrich", "archives/ckrich-none.tar", "archives/ckrich-gzip.tar.gz",
        "archives/ckrich-zstd-default.tar.zst",
    ]

    @Test(arguments: forms)
    func podmanCheckpointListsTheChangesPodmanRecorded(_ form: String) throws {
        let base = try TemporaryDirectory("diff-base")
        try BaseRootfs.extract(into: base.path)
        let before = try TreeSnapshot(of: base.path)

        let result = try BuiltTool.run(["diff", "--root", base.path, PodmanFixture.path(form)])
        #expect(result.status == 0, "\(result.error)")
        let lines = String(decoding: result.output, as: UTF8.self)
            .split(separator: "\n").map(String.init)
        // podman prints its own order (a parent after its children at times); ours is sorted
        // by path, so the same lines compare as sets.
        #expect(Set(lines) == Set(try Self.expectedLines()))
        #expect(lines.count == (try Self.expectedLines()).count)
        let paths = lines.map { Array($0.utf8.dropFirst(2)) }
        #expect(paths == paths.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(result.error.contains(
            "warning: deleted path '/data/opaque-me' removes content the diff tar put there"))
        #expect(try TreeSnapshot(of: base.path) == before, "diff wrote to the root")
    }

    @Test func jsonHasPodmansShapeAndLayout() throws {
        let base = try TemporaryDirectory("diff-base")
        try BaseRootfs.extract(into: base.path)
        let result = try BuiltTool.run([
            "diff", "--format", "json", "--root", base.path,
            PodmanFixture.path("archives/ckrich-zstd-default.tar.zst"),
        ])
        #expect(result.status == 0, "\(result.error)")
        let text = String(decoding: result.output, as: UTF8.self)

        // The same keys in the same order, indented by five spaces as podman indents them:
        // the file podman wrote starts with the same lines.
        let podmanText = try Fixtures.text("podman/state/ckrich-podman-diff.json")
        #expect(Array(text.split(separator: "\n").prefix(4))
                == Array(podmanText.split(separator: "\n").prefix(4)))
        let keys = ["\"changed\"", "\"added\"", "\"deleted\"", "\"deletedWithTarContent\""]
        let offsets = keys.map { text.range(of: $0)?.lowerBound }
        #expect(offsets.allSatisfy { $0 != nil })
        #expect(offsets.compactMap { $0 } == offsets.compactMap { $0 }.sorted())

        let ours = try #require(
            try JSONSerialization.jsonObject(with: result.output) as? [String: [String]])
        let podman = try #require(
            try JSONSerialization.jsonObject(with: Data(podmanText.utf8)) as? [String: [String]])
        let left = Set((Self.changesPodmanDropped + Self.addedThenDeleted)
                       .map { String($0.dropFirst(2)) })
        for key in ["changed", "added", "deleted"] {
            let expected = (podman[key] ?? []).filter { !left.contains($0) }
            #expect(Set(ours[key] ?? []) == Set(expected), "\(key)")
        }
        #expect(ours["deletedWithTarContent"] == ["/data/opaque-me"])
    }

    @Test func dryRunOfCommitPrintsTheSameLinesAndWritesNothing() throws {
        let base = try TemporaryDirectory("diff-base")
        try BaseRootfs.extract(into: base.path)
        let before = try TreeSnapshot(of: base.path)
        let checkpoint = PodmanFixture.path("archives/ckrich-gzip.tar.gz")

        let diff = try BuiltTool.run(["diff", "--root", base.path, checkpoint])
        let dryRun = try BuiltTool.run(["commit", "--dry-run", "--root", base.path, checkpoint])
        #expect(diff.status == 0 && dryRun.status == 0, "\(diff.error) \(dryRun.error)")
        #expect(!diff.output.isEmpty)
        #expect(diff.output == dryRun.output)
        #expect(try TreeSnapshot(of: base.path) == before)
    }

    @Test func smallPodmanExports() throws {
        let base = try TemporaryDirectory("diff-base")
        try BaseRootfs.extract(into: base.path)
        // The fixture README: ck-addonly adds one file, ck-delonly only deletes, ck-nochange
        // changes nothing and the --ignore-rootfs export carries no changes.
        let expected: [(String, String)] = [
            ("ck-addonly.tar.zst", "C /data\nA /data/only-added.txt\n"),
            ("ck-delonly.tar.zst", "C /data\nD /data/deldir\nD /data/delete-me.txt\n"),
            ("ck-nochange.tar.zst", ""),
            ("ckrich-ignore-rootfs.tar.zst", ""),
        ]
        for (name, lines) in expected {
            let archive = PodmanFixture.path("archives/" + name)
            let text = try BuiltTool.run(["diff", "-r", base.path, archive])
            #expect(text.status == 0, "\(name): \(text.error)")
            #expect(String(decoding: text.output, as: UTF8.self) == lines, "\(name)")
            #expect(text.error.isEmpty, "\(name): \(text.error)")
        }
        let json = try BuiltTool.run([
            "diff", "-f", "json", "-r", base.path,
            PodmanFixture.path("archives/ck-nochange.tar.zst"),
        ])
        #expect(String(decoding: json.output, as: UTF8.self) == "{}\n")
    }

    @Test func namesThatNeedEscapingInJSON() throws {
        let scratch = try MountScratch(members: [
            .file("quote\"and\\back", "x\n"), .file("<tag>&amp", "y\n"),
        ], deleted: [])
        let result = try BuiltTool.run(["diff", "-f", "json", "-r", scratch.root,
                                        scratch.checkpoint])
        #expect(result.status == 0, "\(result.error)")
        // Go's encoder escapes <, > and & as well; podman's output would read the same.
        #expect(String(decoding: result.output, as: UTF8.self) == """
            {
                 "added": [
                      "/\\u003ctag\\u003e\\u0026amp",
                      "/quote\\"and\\\\back"
                 ]
            }

            """)
    }

    @Test func refusedCheckpointNamesTheMemberAndExitsThree() throws {
        let scratch = try MountScratch(members: [.file("ok", "x\n"), .file("a/../../x", "o\n")])
        let result = try BuiltTool.run(["diff", "--root", scratch.root, scratch.checkpoint])
        #expect(result.status == 3)
        #expect(result.output.isEmpty)
        #expect(result.error.contains(scratch.checkpoint + "/rootfs-diff.tar"))
        #expect(result.error.contains("member 'a/../../x' refused"))
    }

    @Test func commandLineMistakesExitTwo() throws {
        let checkpoint = PodmanFixture.path("unpacked/ckrich")
        let missingRoot = try BuiltTool.run(["diff", checkpoint])
        #expect(missingRoot.status == 2)
        #expect(missingRoot.error.contains("--root is required"))
        let badFormat = try BuiltTool.run(["diff", "-f", "yaml", "-r", "/", checkpoint])
        #expect(badFormat.status == 2)
        #expect(badFormat.error.contains("--format must be text or json, not 'yaml'"))
        let noRoot = try BuiltTool.run(["diff", "-r", "/nonexistent-root", checkpoint])
        #expect(noRoot.status == 1)
        #expect(noRoot.error.contains("/nonexistent-root"))
    }
}
