import Glibc
import Testing
@testable import CheckpointFS

/// Checkpoints with more than one fault: a member the apply refuses early in the tar, and a
/// broken header after it or a deleted list that does not parse.
///
/// The view is planned while the tar is read, the commit only after all of it is indexed;
/// both must still refuse with the same error, the one a whole reading meets first: a fault
/// of the tar itself, then of the deleted list, then of the apply.
@Suite struct MalformedFaultOrderTests {
    typealias Entry = TarBuilder.Entry

    /// A hard link whose target is missing (refused by the apply), then members after it.
    static let members: [Entry] = [
        .file("first", "first\n"),
        .hardLink("orphan", to: "missing"),
        .file("middle", "middle\n"),
        .file("last", "last\n"),
    ]

    enum LaterFault: String, CaseIterable, CustomStringConvertible, Sendable {
        case checksumOfLastHeader, cutInsideLastHeader, none
        var description: String { rawValue }
    }

    @Test(arguments: LaterFault.allCases, [false, true])
    func refusedMemberBeforeAnotherFault(_ later: LaterFault, badDeletedList: Bool) throws {
        var tar = TarBuilder.archive(Self.members)
        let last = TarBytes.blocks(tar).last!.header
        switch later {
        case .checksumOfLastHeader:
            tar.replaceSubrange((last + 148)..<(last + 156), with: Array("0000000\0".utf8))
        case .cutInsideLastHeader:
            tar = Array(tar[..<(last + 256)])
        case .none:
            break
        }
        // The expected error: the tar's own fault wins, then the deleted list's, then the
        // member the apply refuses.
        let expectation: RawCheckpoint.Expectation = switch (later, badDeletedList) {
        case (.none, false): .refused(file: "rootfs-diff.tar", entry: "orphan")
        case (.none, true): .refused(file: "deleted.files", entry: nil)
        default: .refused(file: "rootfs-diff.tar", entry: nil)
        }
        let checkpoint = RawCheckpoint(
            description: "refused member, then \(later), deleted list bad: \(badDeletedList)",
            tar: tar, deleted: badDeletedList ? Array("[\"/etc\",".utf8) : nil,
            expectation: expectation)
        try MalformedCheck.expect(checkpoint)
        if later != .none {
            let error = try #require(throws: CheckpointError.self) {
                try Self.commitError(checkpoint)
            }
            guard case .malformedArchive = error else {
                Issue.record("\(checkpoint): a later header fault is named first, got \(error)")
                return
            }
        }
    }

    private static func commitError(_ checkpoint: RawCheckpoint) throws {
        let scratch = try TemporaryDirectory("fault-order")
        try checkpoint.write(to: scratch.path("checkpoint"))
        let root = scratch.path("root")
        _ = try check("mkdir", root) { mkdir(root, 0o755) }
        try MalformedCheck.buildLower(at: root)
        _ = try Restore(source: CheckpointSource.open(path: scratch.path("checkpoint")))
            .commit(rootPath: root)
    }
}
