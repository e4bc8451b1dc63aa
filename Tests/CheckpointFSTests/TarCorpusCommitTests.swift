import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// Real-world tar edge cases as the diff tar over an empty root: where the reference
/// accepted an archive, the commit gives its tree; where it refused one, so do we, before
/// writing anything; and the two archives where our rules differ are accepted on purpose.
@Suite struct TarCorpusCommitTests {
    /// Archives the reference refuses and we apply, with the rule of docs/semantics.md that
    /// decides.
    static let acceptedOnPurpose: [String: String] = [
        // The reference has no reader for GNU's old sparse type; regular files may be sparse.
        "sparse.gnu": "sparse members are regular files",
        // Symlink targets are stored verbatim; only paths are resolved inside the root.
        "symlinks": "a symlink whose target climbs is stored as it is",
    ]

    @Test(arguments: TarCorpus.all)
    func commitMatchesTheReference(_ archive: TarCorpusArchive) throws {
        let sandbox = try Sandbox()
        let scratch = try TemporaryDirectory("corpus")
        let checkpoint = scratch.path("checkpoint")
        try FileManager.default.createDirectory(atPath: checkpoint,
                                                withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: archive.archivePath,
                                         toPath: checkpoint + "/rootfs-diff.tar")
        // An old root mtime, so only what the commit stamps shows as fresh.
        var old = [timespec(tv_sec: 1_500_000_000, tv_nsec: 0),
                   timespec(tv_sec: 1_500_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, sandbox.root, &old, 0) == 0)
        let before = try TreeSnapshot(of: sandbox.root)
        let start = Int(time(nil))

        let result = Result {
            let source = try CheckpointSource.open(path: checkpoint)
            return try Restore(source: source).commit(rootPath: sandbox.root)
        }
        let referenceAccepted = try archive.reference.exitStatus() == 0
        let referenceMessage = try archive.reference.message()

        switch result {
        case .success:
            #expect(referenceAccepted || Self.acceptedOnPurpose[archive.name] != nil,
                    "\(archive.name): the reference refused it: \(referenceMessage)")
            if referenceAccepted {
                var got = try TreeSnapshot(of: sandbox.root, freshAfter: start)
                var expected = try archive.reference.snapshot()
                // The reference's root kept the time its sandbox made it at, where nothing
                // was created in it; ours keeps the time set above.
                if expected.lines.first?.hasSuffix("mtime=FRESH") == false {
                    #expect(got.lines.first == before.lines.first)
                    got.lines.removeFirst()
                    expected.lines.removeFirst()
                }
                #expect(got == expected, "\(archive.name):\n\(got.difference(from: expected))")
            }
        case .failure(let error):
            #expect(!referenceAccepted, "\(archive.name): refused: \(error)")
            #expect(error is CheckpointError, "\(archive.name): \(error)")
            #expect("\(error)".contains("rootfs-diff.tar"), "\(error) does not name the file")
            let after = try TreeSnapshot(of: sandbox.root)
            #expect(after == before, "root changed:\n\(after.difference(from: before))")
        }
        sandbox.expectNothingChangedOutsideRoot()
    }
}
