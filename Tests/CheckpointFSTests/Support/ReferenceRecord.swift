import Foundation

/// What the reference apply left in a fixture folder: `oracle.rc`, `oracle.stderr` and
/// `expected.snap` (the root afterwards, mtimes it stamped shown as `FRESH`; for a refusal,
/// what it had written before refusing).
struct ReferenceRecord: Sendable {
    /// The folder, relative to the fixtures.
    var folder: String

    /// `oracle.rc`: 0 when the reference applied everything.
    func exitStatus() throws -> Int32 {
        let text = try Fixtures.text(folder + "/oracle.rc")
        guard let status = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: folder])
        }
        return status
    }

    /// `oracle.stderr`: the reference's message, empty when it had none.
    func message() throws -> String {
        try Fixtures.text(folder + "/oracle.stderr")
    }

    /// `expected.snap`.
    func snapshot() throws -> TreeSnapshot {
        try TreeSnapshot(contentsOf: Fixtures.path(folder + "/expected.snap"))
    }
}
