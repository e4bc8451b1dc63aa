import Foundation
@testable import CheckpointFS

/// One recorded case of `Fixtures/cases/`, with what the reference did and what we must do.
struct CheckpointCase: Sendable, CustomStringConvertible {
    /// The folder name, e.g. `"04-hardlinks"`.
    var name: String
    /// The reference exited 0 (`oracle.rc`).
    var referenceAccepted: Bool
    /// Crafted to escape the root: the reference's result is what must not happen.
    var hostile: Bool
    var expectation: CaseExpectation
    /// What the case is about and why the expectation is what it is.
    var note: String

    var description: String { name }

    /// `cases/NAME` inside the fixtures.
    var directory: String { Fixtures.path("cases/" + name) }

    /// `cases/NAME/checkpoint`; it does not exist for a case with neither file (10).
    var checkpointDirectory: String { directory + "/checkpoint" }

    var diffTarPath: String? { existing(checkpointDirectory + "/rootfs-diff.tar") }
    var deletedListPath: String? { existing(checkpointDirectory + "/deleted.files") }

    /// Whether our rules accept the checkpoint (benign or contained).
    var mustBeAccepted: Bool {
        if case .refused = expectation { return false }
        return true
    }

    func spec() throws -> CaseSpec {
        try CaseSpec(contentsOf: directory + "/spec.json")
    }

    /// Builds the case's lower root at `root` (missing or an empty directory).
    func buildLower(at root: String) throws {
        try LowerBuilder.build(spec(), at: root)
    }

    /// `lower.snap`: the lower root as built.
    func lowerSnapshot() throws -> TreeSnapshot {
        try TreeSnapshot(contentsOf: directory + "/lower.snap")
    }

    /// The reference's run on the case: `oracle.rc`, `oracle.stderr`, `expected.snap`.
    var reference: ReferenceRecord { ReferenceRecord(folder: "cases/" + name) }

    /// `expected.snap`: the root after the reference ran, mtimes it stamped read `FRESH`.
    func referenceSnapshot() throws -> TreeSnapshot {
        try reference.snapshot()
    }

    /// Copies the case's checkpoint files into `destination`, creating it; the folder is
    /// created even for a case with neither file.
    func copyCheckpoint(to destination: String) throws {
        let files = FileManager.default
        try files.createDirectory(atPath: destination, withIntermediateDirectories: true)
        for source in [diffTarPath, deletedListPath].compactMap({ $0 }) {
            let name = (source as NSString).lastPathComponent
            try files.copyItem(atPath: source, toPath: destination + "/" + name)
        }
    }

    private func existing(_ path: String) -> String? {
        FileManager.default.fileExists(atPath: path) ? path : nil
    }
}
