import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// The real podman checkpoints, in every form podman writes them, committed onto the base
/// image: the result is the root podman restored, apart from what podman adds on restore.
@Suite struct PodmanCommitTests {
    /// Checkpoint forms of the same container; all hold the same diff tar and deleted list.
    static let forms = [
        "unpacked/ckrich", "archives/ckrich-none.tar", "archives/ckrich-gzip.tar.gz",
        "archives/ckrich-zstd-default.tar.zst",
    ]

    /// What podman itself puts into a container root when it restores one, and the root,
    /// whose mode is the mount's: not part of a checkpoint.
    static let podmanAdditions = [
        "/", "/etc/hosts", "/etc/resolv.conf", "/etc/mtab", "/run/.containerenv",
    ]

    @Test(arguments: forms)
    func commitGivesWhatPodmanRestored(_ form: String) throws {
        let sandbox = try Sandbox()
        try BaseRootfs.extract(into: sandbox.root)
        let source = try CheckpointSource.open(path: Fixtures.path("podman/" + form))
        defer { source.close() }
        let outcome = try Restore(source: source).commit(rootPath: sandbox.root)

        #expect(outcome.pathsRemoved == 5)
        #expect(outcome.deletedTarContent == ["/data/opaque-me"])
        // The manifests leave out the kernel file systems podman mounts there.
        let ours = try Manifest(of: sandbox.root, excluding: ["/dev", "/proc", "/sys"])
            .removing(paths: Self.podmanAdditions)
        let restored = try Manifest(
            contentsOf: Fixtures.path("podman/state/ckrich-restored.manifest"))
            .removing(paths: Self.podmanAdditions)
        #expect(ours == restored, "\(ours.difference(from: restored))")
        sandbox.expectNothingChangedOutsideRoot()
    }

    @Test func ignoreRootfsExportChangesNothing() throws {
        let sandbox = try Sandbox()
        try BaseRootfs.extract(into: sandbox.root)
        let before = try TreeSnapshot(of: sandbox.root)
        let source = try CheckpointSource.open(
            path: Fixtures.path("podman/archives/ckrich-ignore-rootfs.tar.zst"))
        let outcome = try Restore(source: source).commit(rootPath: sandbox.root)
        #expect(outcome == ApplyOutcome())
        #expect(try TreeSnapshot(of: sandbox.root) == before)
    }

    @Test(arguments: ["ck-addonly", "ck-delonly", "ck-nochange"])
    func smallExportsApply(_ name: String) throws {
        let sandbox = try Sandbox()
        try BaseRootfs.extract(into: sandbox.root)
        let source = try CheckpointSource.open(
            path: Fixtures.path("podman/archives/\(name).tar.zst"))
        let outcome = try Restore(source: source).commit(rootPath: sandbox.root)
        switch name {
        case "ck-addonly": #expect(outcome.membersApplied > 0 && outcome.pathsRemoved == 0)
        case "ck-delonly": #expect(outcome.membersApplied == 0 && outcome.pathsRemoved > 0)
        default: #expect(outcome == ApplyOutcome())
        }
    }
}
