import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// A checkpoint given as the raw bytes of its two files, and what it must lead to.
struct RawCheckpoint: CustomStringConvertible, Sendable {
    /// What a malformed or hostile checkpoint must do.
    enum Expectation: Sendable {
        /// Refused whole, with an error naming `file` (`rootfs-diff.tar` or `deleted.files`)
        /// and, where there is one, `entry` in quotes.
        case refused(file: String, entry: String?)
        /// Applied, with this many members (nil: any number); the view equals the commit.
        case applied(members: Int?)
    }

    var description: String
    /// The bytes of `rootfs-diff.tar`; nil leaves the file out.
    var tar: [UInt8]?
    /// The bytes of `deleted.files`; nil leaves the file out.
    var deleted: [UInt8]? = nil
    var expectation: Expectation

    /// Writes the checkpoint directory at `path`.
    func write(to path: String) throws {
        _ = try check("mkdir", path) { mkdir(path, 0o755) }
        if let tar { try Data(tar).write(to: URL(fileURLWithPath: path + "/rootfs-diff.tar")) }
        if let deleted {
            try Data(deleted).write(to: URL(fileURLWithPath: path + "/deleted.files"))
        }
    }
}

/// Runs a raw checkpoint through everything that reads it, the way a user would meet it.
///
/// A commit in a `Sandbox` must refuse with an error naming the file (and the entry), leave
/// the root exactly as it was, and touch nothing around it; or apply as expected. Then the
/// same checkpoint is mounted over a fresh copy of the lower root and committed on another:
/// `ViewDifferentialTests.expectViewEqualsCommit` checks that the view equals the commit, or
/// that both refuse with the same error and no mount is left behind.
enum MalformedCheck {
    /// The lower root every checkpoint is applied to: a few files and directories, and the
    /// symlinks hostile names aim for.
    static func buildLower(at root: String) throws {
        for directory in ["etc", "data", "data/sub"] {
            _ = try check("mkdir", directory) { mkdir(root + "/" + directory, 0o755) }
        }
        for (name, text) in [("etc/passwd", "root:x:0:0\n"), ("data/a", "lower a\n"),
                             ("data/sub/b", "lower b\n")] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: root + "/" + name))
        }
        for (name, target) in [("abs", "/"), ("up", ".."), ("datalink", "data")] {
            _ = try check("symlink", name) { symlink(target, root + "/" + name) }
        }
    }

    static func expect(
        _ checkpoint: RawCheckpoint,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let scratch = try TemporaryDirectory("malformed")
        let directory = scratch.path("checkpoint")
        try checkpoint.write(to: directory)

        let sandbox = try Sandbox()
        try buildLower(at: sandbox.root)
        let before = try TreeSnapshot(of: sandbox.root)
        let committed = Result {
            try Restore(source: CheckpointSource.open(path: directory))
                .commit(rootPath: sandbox.root)
        }

        switch (checkpoint.expectation, committed) {
        case (.refused(let file, let entry), .failure(let error as CheckpointError)):
            let text = "\(error)"
            #expect(text.contains(file), "\(checkpoint): the error does not name \(file): \(text)",
                    sourceLocation: sourceLocation)
            if let entry {
                #expect(text.contains("'\(entry)'"),
                        "\(checkpoint): the error does not name '\(entry)': \(text)",
                        sourceLocation: sourceLocation)
            }
            let after = try TreeSnapshot(of: sandbox.root)
            let written = after.difference(from: before)
            #expect(after == before, "\(checkpoint): a refused commit wrote:\n\(written)",
                    sourceLocation: sourceLocation)
        case (.refused, let result):
            Issue.record("\(checkpoint): expected a refusal, got \(result)",
                         sourceLocation: sourceLocation)
        case (.applied(let members), .success(let outcome)):
            if let members {
                #expect(outcome.membersApplied == members,
                        "\(checkpoint): \(outcome.membersApplied) members applied",
                        sourceLocation: sourceLocation)
            }
        case (.applied, .failure(let error)):
            Issue.record("\(checkpoint): expected it applied, got \(error)",
                         sourceLocation: sourceLocation)
        }
        sandbox.expectNothingChangedOutsideRoot(sourceLocation: sourceLocation)

        let lower = scratch.path("lower")
        _ = try check("mkdir", lower) { mkdir(lower, 0o755) }
        try buildLower(at: lower)
        try ViewDifferentialTests.expectViewEqualsCommit(
            lower: lower, checkpoint: directory, label: checkpoint.description,
            sourceLocation: sourceLocation)
    }
}
