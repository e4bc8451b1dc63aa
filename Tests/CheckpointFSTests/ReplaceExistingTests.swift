import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// A member whose name is taken in the root. The commit makes each new entry at once and
/// only looks at what is there when the name is taken, so every kind of entry a member can
/// meet is tried here with every kind of member: the create must change nothing and follow
/// nothing (symlinks here lead out of the root), and the commit must end as the view shows.
@Suite struct ReplaceExistingTests {
    typealias Entry = TarBuilder.Entry

    /// What is at the name `n` before the member comes.
    enum Existing: String, CaseIterable, CustomStringConvertible, Sendable {
        case file, emptyDirectory, fullDirectory, fifo
        case symlinkToFile, symlinkOutToDirectory, symlinkOutToFile, absoluteSymlink
        case danglingSymlink

        var description: String { rawValue }

        /// Makes it at `root/n`, beside a file `other`.
        func make(in root: String) throws {
            try Data("other\n".utf8).write(to: URL(fileURLWithPath: root + "/other"))
            let path = root + "/n"
            switch self {
            case .file: try Data("lower\n".utf8).write(to: URL(fileURLWithPath: path))
            case .emptyDirectory: _ = try check("mkdir", path) { mkdir(path, 0o755) }
            case .fullDirectory:
                _ = try check("mkdir", path) { mkdir(path, 0o755) }
                _ = try check("mkdir", path) { mkdir(path + "/sub", 0o755) }
                try Data("deep\n".utf8).write(to: URL(fileURLWithPath: path + "/sub/deep"))
            case .fifo: _ = try check("mkfifo", path) { mkfifo(path, 0o644) }
            case .symlinkToFile: try link("other", at: path)
            // The sandbox root is SCRATCH/w/root: these lead to its canaries.
            case .symlinkOutToDirectory: try link("../../etc", at: path)
            case .symlinkOutToFile: try link("../outside", at: path)
            case .absoluteSymlink: try link("/etc", at: path)
            case .danglingSymlink: try link("missing", at: path)
            }
        }

        private func link(_ target: String, at path: String) throws {
            _ = try check("symlink", path) { symlink(target, path) }
        }
    }

    /// The member named `n`, and the file type it leaves there.
    static let members: [(label: String, entry: Entry, type: mode_t)] = [
        ("file", .file("n", "member\n"), S_IFREG),
        ("empty file", .file("n", ""), S_IFREG),
        ("directory", .directory("n/"), S_IFDIR),
        ("symlink", .symlink("n", to: "other"), S_IFLNK),
        ("fifo", Entry(name: Array("n".utf8), type: UInt8(ascii: "6")), S_IFIFO),
        ("hard link", .hardLink("n", to: "other"), S_IFREG),
    ]

    static func checkpoint(with entry: Entry, in scratch: TemporaryDirectory) throws -> String {
        let checkpoint = scratch.path("checkpoint")
        _ = try check("mkdir", checkpoint) { mkdir(checkpoint, 0o755) }
        try Data(TarBuilder.archive([entry]))
            .write(to: URL(fileURLWithPath: checkpoint + "/rootfs-diff.tar"))
        return checkpoint
    }

    @Test(arguments: Existing.allCases, 0..<members.count)
    func memberReplacesWhatIsThere(_ existing: Existing, _ memberIndex: Int) throws {
        let member = Self.members[memberIndex]
        let label = "\(member.label) over \(existing)"
        let sandbox = try Sandbox()
        try existing.make(in: sandbox.root)
        let scratch = try TemporaryDirectory("replace")
        let checkpoint = try Self.checkpoint(with: member.entry, in: scratch)

        try ViewDifferentialTests.expectViewEqualsCommit(
            lower: sandbox.root, checkpoint: checkpoint, label: label)

        _ = try Restore(source: CheckpointSource.open(path: checkpoint))
            .commit(rootPath: sandbox.root)
        var info = stat()
        #expect(lstat(sandbox.root + "/n", &info) == 0, "\(label): n missing")
        #expect(info.st_mode & S_IFMT == member.type, "\(label): wrong type")
        if member.label == "file" {
            let contents = try String(contentsOfFile: sandbox.root + "/n", encoding: .utf8)
            #expect(contents == "member\n", "\(label)")
        }
        sandbox.expectNothingChangedOutsideRoot()
    }

    /// The creating calls on a taken name, straight on the target: false, and nothing in or
    /// around the root changed.
    @Test(arguments: Existing.allCases)
    func createOnATakenNameChangesNothing(_ existing: Existing) throws {
        let sandbox = try Sandbox()
        try existing.make(in: sandbox.root)
        let scratch = try TemporaryDirectory("taken")
        let tarPath = scratch.path("members.tar")
        let creatable = Self.members.filter { $0.label != "hard link" }
        try Data(TarBuilder.archive(creatable.map(\.entry)))
            .write(to: URL(fileURLWithPath: tarPath))
        let index = try TarIndex(path: tarPath)
        let root = try FileDescriptor.openDirectory(atPath: sandbox.root)
        let target = RootTarget(root: root, tar: try FileDescriptor.open(atPath: tarPath))
        let before = try TreeSnapshot(of: sandbox.root)

        for member in index.members {
            let made = member.kind == .directory
                ? try target.makeNewDirectory(member, named: Array("n".utf8), in: root)
                : try target.createNew(member, named: Array("n".utf8), in: root)
            #expect(!made, "\(member.name.displayPath) over \(existing)")
        }
        #expect(try TreeSnapshot(of: sandbox.root) == before)
        sandbox.expectNothingChangedOutsideRoot()
    }
}
