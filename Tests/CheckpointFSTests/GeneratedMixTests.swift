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
            let (lower, checkpoint) = try RandomCheckpoint.make(seed: UInt64(seed),
                                                                in: scratch.path)
            do {
                let restore = try Restore(source: CheckpointSource.open(path: checkpoint))
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
