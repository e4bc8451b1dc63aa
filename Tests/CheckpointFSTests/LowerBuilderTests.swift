import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// The lower-root builder and the case catalog, checked against the recorded fixtures.
@Suite struct LowerBuilderTests {
    static let isRoot = geteuid() == 0

    @Test(
        "Building a case's lower root reproduces its lower.snap",
        .enabled(if: isRoot, "owners, devices and trusted xattrs need root"),
        arguments: CaseCatalog.all)
    func buildsRecordedLower(_ checkpointCase: CheckpointCase) throws {
        let directory = try TemporaryDirectory("lower")
        let root = directory.path("lower")
        try checkpointCase.buildLower(at: root)

        let built = try TreeSnapshot(of: root)
        let recorded = try checkpointCase.lowerSnapshot()
        #expect(built == recorded, "\(built.difference(from: recorded))")
    }

    @Test(
        "Every entry kind and attribute of the spec format is built",
        .enabled(if: isRoot, "owners, devices and trusted xattrs need root"))
    func buildsEveryKind() throws {
        let directory = try TemporaryDirectory("lower")
        let root = directory.path("lower")
        let spec = try JSONDecoder().decode(CaseSpec.self, from: Data(Self.everyKindSpec.utf8))
        try LowerBuilder.build(spec, at: root)
        let lines = try TreeSnapshot(of: root, ignoring: [.sha256]).lines

        #expect(lines.first == ". type=d mode=0711 uid=7 gid=8 mtime=1500000000 mtime_ns=0")
        #expect(lines.contains(
            "a type=d mode=0755 uid=0 gid=0 mtime=1577836800 mtime_ns=0"))
        #expect(lines.contains(
            "a/b type=d mode=2750 uid=1000 gid=1000 mtime=1600000000 mtime_ns=500000000"
                + " xattrs=user.d=64"))
        #expect(lines.contains(
            "a/b/file type=f mode=4755 uid=1000 gid=2000 size=5 mtime=1577836800 mtime_ns=0"
                + " nlink=2 hl=a/b/file xattrs=security.capability=\(Self.capability),user.t=74"))
        #expect(lines.contains(
            "a/b/link type=f mode=4755 uid=1000 gid=2000 size=5 mtime=1577836800 mtime_ns=0"
                + " nlink=2 hl=a/b/file xattrs=security.capability=\(Self.capability),user.t=74"))
        #expect(lines.contains(
            "bin\\xff type=l mode=0777 uid=5 gid=6 size=3 mtime=1577836800 mtime_ns=0"
                + " target=\\xfe\\x2c/ nlink=1 xattrs=trusted.s=73"))
        #expect(lines.contains("dev/blk type=b mode=0660 uid=0 gid=6 mtime=1577836800 mtime_ns=0"
            + " rdev=7:9 nlink=1"))
        #expect(lines.contains("dev/null type=c mode=0644 uid=0 gid=0 mtime=1577836800 mtime_ns=0"
            + " rdev=1:3 nlink=1"))
        #expect(lines.contains("fifo type=p mode=0620 uid=0 gid=0 mtime=1577836800 mtime_ns=0"
            + " nlink=1"))
        // The spec's builder scales fractional seconds in floating point, which lands on the
        // nearest double: 1600000000.25 s becomes ...249999872 ns, not ...250000000.
        #expect(lines.contains(
            "zeros type=f mode=0600 uid=0 gid=0 size=4 mtime=1600000000 mtime_ns=249999872"
                + " nlink=1"))
        #expect(lines.count == 11)
    }

    @Test(
        "Developer check: the same tree as the fixtures' case builder for every kind",
        .enabled(if: ReferenceTools.hasMkcase, "needs the fixtures' mkcase script"),
        .enabled(if: isRoot, "owners, devices and trusted xattrs need root"))
    func developerCheckAgainstMkcase() throws {
        let directory = try TemporaryDirectory("mkcase")
        let specPath = directory.path("spec.json")
        // A fractional mtime that is not a multiple of 256 ns shows the rounding agrees.
        let text = Self.everyKindSpec.replacingOccurrences(
            of: "1600000000.25", with: "1600000000.1234567")
        try Data(text.utf8).write(to: URL(fileURLWithPath: specPath))
        try ReferenceTools.mkcase(spec: specPath, output: directory.path("script"))

        let spec = try CaseSpec(contentsOf: specPath)
        try LowerBuilder.build(spec, at: directory.path("ours"))
        let ours = try TreeSnapshot(of: directory.path("ours"))
        let script = try TreeSnapshot(of: directory.path("script/lower"))
        #expect(ours == script, "\(ours.difference(from: script))")
    }

    @Test("A spec name that leaves the root is refused and writes nothing outside")
    func refusesClimbingNames() throws {
        let sandbox = try Sandbox()
        for name in ["../x", "/etc/x", "a/../../x"] {
            let spec = try JSONDecoder().decode(
                CaseSpec.self, from: Data(#"{"lower": [{"path": "\#(name)"}]}"#.utf8))
            #expect(throws: LowerBuilderError.self) {
                try LowerBuilder.build(spec, at: sandbox.root)
            }
        }
        sandbox.expectNothingChangedOutsideRoot()
    }

    @Test("The catalog lists every case folder once")
    func catalogIsComplete() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Fixtures.path("cases"))
        #expect(folders.sorted() == CaseCatalog.all.map(\.name))
    }

    @Test("Every corpus archive has the reference's record", arguments: TarCorpus.all)
    func corpusHasReference(_ archive: TarCorpusArchive) throws {
        let status = try archive.reference.exitStatus()
        #expect(try archive.reference.message().isEmpty == (status == 0))
        #expect(try !archive.reference.snapshot().lines.isEmpty)
        #expect(FileManager.default.fileExists(atPath: archive.archivePath))
    }

    @Test("The corpus lists every archive and every reference record once")
    func corpusIsComplete() throws {
        let records = try FileManager.default.contentsOfDirectory(
            atPath: Fixtures.path("tar-corpus/reference"))
        #expect(TarCorpus.all.count == 39)
        #expect(records.sorted() == TarCorpus.all.map(\.name))
        for checkpointCase in CaseCatalog.all {
            #expect(try !checkpointCase.reference.snapshot().lines.isEmpty, "\(checkpointCase)")
        }
    }

    @Test("The catalog agrees with the reference's exit status", arguments: CaseCatalog.all)
    func catalogMatchesReferenceStatus(_ checkpointCase: CheckpointCase) throws {
        let status = try checkpointCase.reference.exitStatus()
        #expect(checkpointCase.referenceAccepted == (status == 0))
        let message = try checkpointCase.reference.message()
        #expect(message.isEmpty == (status == 0), "\(message)")
        let spec = try checkpointCase.spec()
        #expect(checkpointCase.hostile == spec.dangerous)
    }

    @Test(
        "A refusal names an entry the checkpoint really has",
        arguments: CaseCatalog.refused)
    func refusedEntryExists(_ checkpointCase: CheckpointCase) throws {
        guard case .refused(let refusal) = checkpointCase.expectation else {
            Issue.record("\(checkpointCase) is listed as refused without a refusal")
            return
        }
        let spec = try checkpointCase.spec()
        switch refusal.source {
        case .diffTar:
            #expect(checkpointCase.diffTarPath != nil)
            // The names as the tar holds them: a writer adds `/` to directory names.
            let names = try tarMemberNames(try #require(checkpointCase.diffTarPath))
            #expect(names.contains(refusal.entry ?? ""), "members: \(names)")
        case .deletedList:
            #expect(checkpointCase.deletedListPath != nil)
            if let entry = refusal.entry {
                let deleted = spec.deleted ?? []
                #expect(deleted.contains(entry))
                #expect(refusal.otherOffenders.allSatisfy(deleted.contains))
            } else {
                #expect(spec.deletedRaw != nil)
            }
        }
    }

    @Test("Refusal matching accepts the named error and rejects others")
    func refusalMatching() {
        let climbing = ExpectedRefusal(source: .diffTar, entry: "..", reason: .climbsAboveRoot)
        let file = "/tmp/ck/rootfs-diff.tar"
        #expect(climbing.matches(.refusedMember(file: file, member: "..",
                                                reason: .climbsAboveRoot)))
        #expect(!climbing.matches(.refusedMember(file: file, member: "../x",
                                                 reason: .climbsAboveRoot)))
        #expect(!climbing.matches(.refusedMember(file: file, member: "..", reason: .namesRoot)))
        #expect(!climbing.matches(.refusedDeletedPath(file: "/tmp/ck/deleted.files", path: "..",
                                                      reason: .climbsAboveRoot)))

        let parent = ExpectedRefusal(source: .deletedList, entry: "/s/file/child",
                                     reason: .notADirectory(component: "s/file"))
        #expect(parent.matches(.refusedDeletedPath(
            file: "ck/deleted.files", path: "/s/file/child",
            reason: .notADirectory(component: "/s/file"))))
        #expect(!parent.matches(.refusedDeletedPath(
            file: "ck/deleted.files", path: "/s/file/child",
            reason: .notADirectory(component: "s"))))
    }

    @Test(
        "Contained entries are checked without following them",
        .enabled(if: isRoot, "the case's lower root has owners"))
    func containedEntryCheck() throws {
        let checkpointCase = CaseCatalog.named("18-tar-symlink-dotdot")
        guard case .contained(let entries) = checkpointCase.expectation else {
            Issue.record("case 18 must be contained")
            return
        }
        let directory = try TemporaryDirectory("contained")
        let root = directory.path("root")
        try checkpointCase.buildLower(at: root)
        #expect(entries.compactMap { $0.mismatch(inRoot: root) }.count == entries.count)

        // Made by hand, the way the rules say the commit must leave it.
        try Data("ok\n".utf8).write(to: URL(fileURLWithPath: root + "/ok-before"))
        try Data("ESCAPED via b\n".utf8).write(to: URL(fileURLWithPath: root + "/x"))
        #expect(symlink("../../..", root + "/b") == 0)
        #expect(entries.compactMap { $0.mismatch(inRoot: root) } == [])
    }

    static let capability = "0100000200040000000000000000000000000000"

    /// Every kind the builder makes, with explicit and default metadata, a hard link, raw
    /// bytes in names and values, an integer mode and a fractional mtime.
    static let everyKindSpec = """
        {"lower": [
          {"path": ".", "type": "dir", "mode": "0711", "uid": 7, "gid": 8, "mtime": 1500000000},
          {"path": "a/b", "type": "dir", "mode": 1512, "uid": 1000, "gid": 1000,
           "xattrs": {"user.d": "d"}, "mtime": 1600000000.5},
          {"path": "a/b/file", "content": "hello", "mode": "4755", "uid": 1000, "gid": 2000,
           "xattrs": {"user.t": "t"},
           "xattrs_hex": {"security.capability": "0100000200040000000000000000000000000000"}},
          {"path": "a/b/link", "type": "hardlink", "target": "a/b/file"},
          {"path_hex": "62696eff", "type": "symlink", "target_hex": "fe2c2f", "uid": 5, "gid": 6,
           "xattrs": {"trusted.s": "s"}},
          {"path": "fifo", "type": "fifo", "mode": "0620"},
          {"path": "dev/null", "type": "char", "major": 1, "minor": 3},
          {"path": "dev/blk", "type": "block", "major": 7, "minor": 9, "mode": "0660", "gid": 6},
          {"path": "zeros", "size": 4, "mode": "0600", "mtime": 1600000000.25}
        ]}
        """
}

/// Member names of a tar as GNU tar lists them, without rewriting them.
private func tarMemberNames(_ path: String) throws -> [String] {
    let listing = try Command.succeed("/usr/bin/tar", ["-tf", path, "--quoting-style=literal"])
    return String(decoding: listing.standardOutput, as: UTF8.self)
        .split(separator: "\n").map(String.init)
}
