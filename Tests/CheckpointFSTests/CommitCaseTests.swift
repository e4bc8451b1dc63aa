import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// Every recorded case committed by the library: benign ones give the reference's tree,
/// refused ones leave the root as it was, and nothing outside the root ever changes.
@Suite struct CommitCaseTests {
    /// Commits a case onto a freshly built lower root in a sandbox.
    /// - Returns: the outcome, or the error the commit threw.
    static func commit(_ testCase: CheckpointCase, sandbox: Sandbox, scratch: TemporaryDirectory)
        throws -> Result<ApplyOutcome, any Error>
    {
        try testCase.buildLower(at: sandbox.root)
        let checkpoint = scratch.path("checkpoint")
        try testCase.copyCheckpoint(to: checkpoint)
        return Result {
            let source = try CheckpointSource.open(path: checkpoint)
            defer { source.close() }
            return try Restore(source: source).commit(rootPath: sandbox.root)
        }
    }

    @Test(arguments: CaseCatalog.all)
    func commitFollowsTheRules(_ testCase: CheckpointCase) throws {
        let sandbox = try Sandbox()
        let scratch = try TemporaryDirectory("commit-case")
        let start = Int(time(nil))
        let result = try Self.commit(testCase, sandbox: sandbox, scratch: scratch)

        switch testCase.expectation {
        case .matchesReference:
            _ = try result.get()
            let got = try TreeSnapshot(of: sandbox.root, freshAfter: start)
            let expected = try testCase.referenceSnapshot()
            #expect(got == expected, "\(testCase.name):\n\(got.difference(from: expected))")
        case .refused(let refusal):
            guard case .failure(let error as CheckpointError) = result else {
                Issue.record("\(testCase.name): expected \(refusal), got \(result)")
                return
            }
            #expect(refusal.matches(error), "\(testCase.name): \(error)")
            let lower = try testCase.lowerSnapshot()
            let got = try TreeSnapshot(of: sandbox.root)
            #expect(got == lower, "root changed:\n\(got.difference(from: lower))")
        case .contained(let entries):
            _ = try result.get()
            for entry in entries {
                #expect(entry.mismatch(inRoot: sandbox.root) == nil, "\(entry)")
            }
        }
        sandbox.expectNothingChangedOutsideRoot()
    }

    /// Running a commit again over its own result gives the same tree.
    @Test(arguments: CaseCatalog.all.filter { $0.expectation.isMatchesReference })
    func committingTwiceGivesTheSameTree(_ testCase: CheckpointCase) throws {
        let sandbox = try Sandbox()
        let scratch = try TemporaryDirectory("commit-twice")
        let start = Int(time(nil))
        _ = try Self.commit(testCase, sandbox: sandbox, scratch: scratch).get()
        let once = try TreeSnapshot(of: sandbox.root, freshAfter: start)
        let source = try CheckpointSource.open(path: scratch.path("checkpoint"))
        _ = try Restore(source: source).commit(rootPath: sandbox.root)
        let twice = try TreeSnapshot(of: sandbox.root, freshAfter: start)
        #expect(once == twice, "\(testCase.name):\n\(twice.difference(from: once))")
    }
}

extension CaseExpectation {
    var isMatchesReference: Bool {
        if case .matchesReference = self { return true }
        return false
    }
}
