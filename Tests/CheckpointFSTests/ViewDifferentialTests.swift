import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// The promise the project rests on: for every input, the mounted view equals a commit of
/// the same checkpoint on a copy of the root, and a checkpoint one refuses the other refuses
/// with the same error.
@Suite struct ViewDifferentialTests {
    /// Mounts `checkpoint` over `lower`, commits it onto a copy of `lower`, and compares.
    static func expectViewEqualsCommit(
        lower: String,
        checkpoint: String,
        label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let scratch = try TemporaryDirectory("differential")
        let copy = scratch.path("copy")
        try Command.succeed("/bin/cp", ["-a", lower, copy])
        let mountPoint = scratch.path("view")
        _ = try check("mkdir", mountPoint) { mkdir(mountPoint, 0o755) }
        let lowerBefore = try TreeSnapshot(of: lower)
        let start = Int(time(nil))

        let committed = Result {
            let source = try CheckpointSource.open(path: checkpoint)
            return try Restore(source: source).commit(rootPath: copy)
        }
        let mounted = Result {
            try MountHarness(root: lower, checkpoint: checkpoint, mountPoint: mountPoint)
        }

        switch (committed, mounted) {
        case (.success, .success(let view)):
            let viewSnapshot = try TreeSnapshot(of: view.mountPoint, freshAfter: start)
            let commitSnapshot = try TreeSnapshot(of: copy, freshAfter: start)
            #expect(view.unmount() == 0, "\(label): daemon: \(view.log())",
                    sourceLocation: sourceLocation)
            let difference = commitSnapshot.difference(from: viewSnapshot)
            #expect(viewSnapshot == commitSnapshot,
                    "\(label): view (-) vs commit (+):\n\(difference)",
                    sourceLocation: sourceLocation)
        case (.failure(let error), .failure(let mountError)):
            // The daemon prints the same error the commit threw.
            #expect("\(mountError)".contains("\(error)"),
                    "\(label): commit said \(error); mount said \(mountError)",
                    sourceLocation: sourceLocation)
            #expect(try !MountHarness.isMounted(mountPoint), sourceLocation: sourceLocation)
            let copyAfter = try TreeSnapshot(of: copy)
            #expect(copyAfter == lowerBefore, "\(label): a refused commit wrote",
                    sourceLocation: sourceLocation)
        case (.success, .failure(let error)):
            Issue.record("\(label): commit applied, mount failed: \(error)",
                         sourceLocation: sourceLocation)
        case (.failure(let error), .success(let view)):
            view.unmount()
            Issue.record("\(label): mount worked, commit failed: \(error)",
                         sourceLocation: sourceLocation)
        }
        let lowerAfter = try TreeSnapshot(of: lower)
        #expect(lowerAfter == lowerBefore, "\(label): the view changed its lower root",
                sourceLocation: sourceLocation)
    }

    @Test(arguments: CaseCatalog.all)
    func recordedCase(_ testCase: CheckpointCase) throws {
        let scratch = try TemporaryDirectory("case")
        let lower = scratch.path("lower")
        try testCase.buildLower(at: lower)
        try testCase.copyCheckpoint(to: scratch.path("checkpoint"))
        try Self.expectViewEqualsCommit(
            lower: lower, checkpoint: scratch.path("checkpoint"), label: testCase.name)
    }

    @Test(arguments: [
        "unpacked/ckrich", "unpacked/ck-addonly", "unpacked/ck-delonly",
        "archives/ckrich-none.tar", "archives/ckrich-gzip.tar.gz",
        "archives/ckrich-zstd-default.tar.zst", "archives/ckrich-ignore-rootfs.tar.zst",
        "archives/ck-nochange.tar.zst",
    ])
    func podmanCheckpoint(_ form: String) throws {
        let scratch = try TemporaryDirectory("podman")
        let lower = scratch.path("base")
        _ = try check("mkdir", lower) { mkdir(lower, 0o755) }
        try BaseRootfs.extract(into: lower)
        try Self.expectViewEqualsCommit(
            lower: lower, checkpoint: Fixtures.path("podman/" + form), label: form)
    }

    /// Each corpus archive as the diff tar over an empty root and over the podman base.
    @Test(arguments: TarCorpus.all)
    func corpusArchive(_ archive: TarCorpusArchive) throws {
        let scratch = try TemporaryDirectory("corpus")
        let checkpoint = scratch.path("checkpoint")
        _ = try check("mkdir", checkpoint) { mkdir(checkpoint, 0o755) }
        try FileManager.default.copyItem(atPath: archive.archivePath,
                                         toPath: checkpoint + "/rootfs-diff.tar")
        for base in ["empty", "base"] {
            let lower = scratch.path(base)
            _ = try check("mkdir", lower) { mkdir(lower, 0o755) }
            if base == "base" { try BaseRootfs.extract(into: lower) }
            try Self.expectViewEqualsCommit(
                lower: lower, checkpoint: checkpoint, label: "\(archive.name) over \(base)")
        }
    }

    /// A hard link member chowns the shared inode, and chown(2) drops setuid and setgid
    /// bits: the view must show the modes the commit ends with, for every combination of
    /// set-id, sticky and group-execute bits, on lower files and on member files.
    @Test func hardLinkOwnerChangeDropsSetIDBits() throws {
        let scratch = try TemporaryDirectory("setid")
        let lower = scratch.path("lower")
        _ = try check("mkdir", lower) { mkdir(lower, 0o755) }
        let modes: [UInt32] = [0o4755, 0o2755, 0o2745, 0o6755, 0o6745, 0o1755, 0o4644, 0o755]
        var members: [TarBuilder.Entry] = []
        for mode in modes {
            let name = "lower-\(String(mode, radix: 8))"
            try Data("x\n".utf8).write(to: URL(fileURLWithPath: lower + "/" + name))
            _ = try check("chmod", name) { chmod(lower + "/" + name, mode_t(mode)) }
            members.append(.hardLink(name + "-link", to: name))
            let memberName = "member-\(String(mode, radix: 8))"
            members.append(.file(memberName, "y\n", mode: mode))
            var link = TarBuilder.Entry.hardLink(memberName + "-link", to: memberName)
            link.uid = 1000
            members.append(link)
        }
        let checkpoint = scratch.path("checkpoint")
        _ = try check("mkdir", checkpoint) { mkdir(checkpoint, 0o755) }
        try Data(TarBuilder.archive(members))
            .write(to: URL(fileURLWithPath: checkpoint + "/rootfs-diff.tar"))
        try Self.expectViewEqualsCommit(lower: lower, checkpoint: checkpoint, label: "set-id")

        let (tree, _) = try Restore(source: CheckpointSource.open(path: checkpoint))
            .plan(rootPath: lower)
        let node = try #require(tree.root.children[ChildName(Array("member-6745-link".utf8))])
        #expect(node.permissions == 0o2745)
    }

    /// Generated lower roots and checkpoints whose names collide on purpose, fixed seeds.
    @Test(arguments: 1...240)
    func generated(_ seed: Int) throws {
        let scratch = try TemporaryDirectory("generated")
        let (lower, checkpoint) = try RandomCheckpoint.make(seed: UInt64(seed), in: scratch.path)
        try Self.expectViewEqualsCommit(lower: lower, checkpoint: checkpoint, label: "seed \(seed)")
    }
}
