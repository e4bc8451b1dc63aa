import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// The generated checkpoints are worth comparing: most apply, changing many entries, and
/// some are refused, so both sides of the differential test are exercised.
@Suite struct GeneratedMixTests {
    @Test func seedsCoverAppliedAndRefusedCheckpoints() throws {
        var applied = 0
        var refused = 0
        var changes = 0
        for seed in 1...240 {
            let scratch = try TemporaryDirectory("mix")
            let lower = scratch.path("lower")
            _ = try check("mkdir", lower) { mkdir(lower, 0o755) }
            var generator = RandomCheckpoint(seed: UInt64(seed))
            try generator.buildLower(in: lower)
            let (tar, deleted) = generator.makeCheckpoint()
            let tarPath = scratch.path("rootfs-diff.tar")
            try Data(tar).write(to: URL(fileURLWithPath: tarPath))
            let restore = Restore(
                index: try TarIndex(path: tarPath), tarPath: tarPath,
                deletedList: DeletedPaths(displayName: "deleted.files", paths: deleted))
            do {
                let (tree, _) = try restore.plan(rootPath: lower)
                applied += 1
                changes += try tree.changes().count
            } catch is CheckpointError {
                refused += 1
            }
        }
        #expect(applied >= 100)
        #expect(refused >= 12)
        #expect(changes >= applied * 5)
    }
}
