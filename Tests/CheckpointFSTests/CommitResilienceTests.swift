import CSystem
import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// A commit run twice leaves the tree one commit leaves; killed at any point, or stopped by a
/// full disk, and run again, it finishes as one uninterrupted commit would have.
@Suite struct CommitResilienceTests {
    // MARK: Inputs

    /// A lower root and a checkpoint that cannot be committed twice by applying it again, in
    /// `groups` copies of each trap, with a large member in the middle:
    ///
    /// - `hN` is a hard link to the lower file `fN`, which a later member replaces: applied
    ///   again, `hN` would link to the replacement and lose the lower content;
    /// - `dN/x` is written into the lower directory `dN`, which a later member replaces with
    ///   a symlink to the lower directory `tN`: applied again, `dN/x` would be written into
    ///   `tN`;
    /// - `kN` is a hard link to the lower file `goneN`, which the deleted list removes:
    ///   applied again, the link target is missing and the checkpoint is refused;
    /// - `nN/deep/file` makes two directories for missing parents.
    static func makeReplayTrap(in directory: String, groups: Int) throws
        -> (lower: String, checkpoint: String)
    {
        let lower = directory + "/lower"
        let checkpoint = directory + "/checkpoint"
        var members: [TarBuilder.Entry] = []
        var deleted: [String] = []
        for group in 0..<groups {
            try write("lower f\(group)\n", to: "\(lower)/f\(group)")
            try write("lower old\n", to: "\(lower)/d\(group)/old")
            try write("lower t\(group)\n", to: "\(lower)/t\(group)/keep")
            try write("lower gone\(group)\n", to: "\(lower)/gone\(group)")
            members += [
                .hardLink("h\(group)", to: "f\(group)"),
                .file("d\(group)/x", "member x \(group)\n"),
                .hardLink("k\(group)", to: "gone\(group)"),
                .file("n\(group)/deep/file", "member deep \(group)\n"),
            ]
            if group == groups / 2 {
                var big = TarBuilder.Entry.file("big", "")
                big.content = [UInt8](repeating: UInt8(ascii: "b"), count: 6 << 20)
                members.append(big)
            }
            deleted.append("/gone\(group)")
        }
        for group in 0..<groups {
            members += [
                .file("f\(group)", "member f\(group)\n"),
                .symlink("d\(group)", to: "t\(group)"),
            ]
        }
        try FileManager.default.createDirectory(atPath: checkpoint,
                                                withIntermediateDirectories: true)
        try Data(TarBuilder.archive(members))
            .write(to: URL(fileURLWithPath: checkpoint + "/rootfs-diff.tar"))
        try JSONEncoder().encode(deleted)
            .write(to: URL(fileURLWithPath: checkpoint + "/deleted.files"))
        return (lower, checkpoint)
    }

    private static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// A copy of `lower` at `path`, with owners, modes, times, links and xattrs.
    static func copy(_ lower: String, to path: String) throws {
        try Command.succeed("/bin/cp", ["-a", lower, path])
    }

    // MARK: Running the program

    /// When a test kills a commit.
    enum KillPoint {
        /// Once the journal holds this many bytes: somewhere in the steps.
        case journalBytes(Int)
        /// This many microseconds after it starts: before the journal, usually.
        case delay(UInt32)
    }

    /// How a run of the program ended.
    enum RunEnd: Equatable {
        case exited(Int32)
        case killed
    }

    /// Runs `checkpointfs commit` on `root`, killing it with SIGKILL at `kill` if it gets
    /// there; the standard error goes to `log`.
    static func runCommit(
        root: String,
        checkpoint: String,
        state: String,
        kill killPoint: KillPoint? = nil,
        extra: [String] = [],
        log: String
    ) throws -> RunEnd {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltTool.path)
        process.arguments = ["commit", "-q", "--state-dir", state, "--root", root] + extra
            + [checkpoint]
        // A process killed while it decompresses leaves its cache: keep it in the scratch.
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = (state as NSString).deletingLastPathComponent
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let journal = try journalPath(root: root, state: state)
        try process.run()

        switch killPoint {
        case nil:
            break
        case .delay(let microseconds):
            usleep(microseconds)
            kill(process.processIdentifier, SIGKILL)
        case .journalBytes(let bytes):
            var info = stat()
            while process.isRunning {
                if lstat(journal, &info) == 0 && Int(info.st_size) >= bytes {
                    kill(process.processIdentifier, SIGKILL)
                    break
                }
                usleep(100)
            }
        }
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
            ? .killed : .exited(process.terminationStatus)
    }

    /// Where the journal of `root` lies: named after the root's device and inode.
    static func journalPath(root: String, state: String) throws -> String {
        var info = stat()
        _ = try check("lstat", root) { lstat(root, &info) }
        return "\(state)/commits/\(info.st_dev)-\(info.st_ino).journal"
    }

    /// Runs the commit on `victim`, killing it at points the seed picks (up to `kills`
    /// times), until a run exits; returns that run's status and how many runs were killed.
    static func commitUntilDone(
        seed: UInt64,
        root victim: String,
        checkpoint: String,
        state: String,
        journalEstimate: Int,
        kills: Int,
        log: String
    ) throws -> (status: Int32, killed: Int) {
        var random = SeededGenerator(seed: seed)
        var killed = 0
        while true {
            var point: KillPoint?
            if killed < kills {
                point = random.next() % 5 == 0
                    ? .delay(UInt32(random.next() % 30_000))
                    : .journalBytes(Int(random.next() % UInt64(journalEstimate)))
            }
            switch try runCommit(root: victim, checkpoint: checkpoint, state: state,
                                 kill: point, log: log) {
            case .killed:
                killed += 1
            case .exited(let status):
                return (status, killed)
            }
        }
    }

    // MARK: Tests

    @Test func secondRunLeavesTheSameTreeAndSaysSo() throws {
        let scratch = try TemporaryDirectory("resilience")
        let (lower, checkpoint) = try Self.makeReplayTrap(in: scratch.path, groups: 3)
        let start = Int(time(nil))
        let state = scratch.path("state")

        let first = try BuiltTool.run(["commit", "--state-dir", state, "--root", lower,
                                       checkpoint])
        #expect(first.status == 0, "\(first.error)")
        let once = try TreeSnapshot(of: lower, freshAfter: start)
        let second = try BuiltTool.run(["commit", "--state-dir", state, "--root", lower,
                                        checkpoint])
        #expect(second.status == 0, "\(second.error)")
        #expect(String(decoding: second.output, as: UTF8.self)
                .contains("was committed to \(lower) already"))
        #expect(try TreeSnapshot(of: lower, freshAfter: start) == once)

        // Applied once more on purpose, the traps spring: the lower file h0 linked to is
        // gone, so the checkpoint is refused and nothing is written.
        let again = try BuiltTool.run(["commit", "--again", "--state-dir", state,
                                       "--root", lower, checkpoint])
        #expect(again.status == 3)
        #expect(again.error.contains("member 'd0/x' refused")
                || again.error.contains("member 'k0' refused"))
        #expect(try TreeSnapshot(of: lower, freshAfter: start) == once)
    }

    /// Why the journal exists: the library's commit without one, run twice, does not leave
    /// what it left once, and on this input the second run is refused.
    @Test func applyingTheSameCheckpointTwiceWithoutAJournalIsNotTheSame() throws {
        let scratch = try TemporaryDirectory("resilience")
        let (lower, checkpoint) = try Self.makeReplayTrap(in: scratch.path, groups: 1)
        let source = try CheckpointSource.open(path: checkpoint)
        let restore = try Restore(source: source)
        _ = try restore.commit(rootPath: lower)
        #expect(try String(contentsOfFile: lower + "/h0", encoding: .utf8) == "lower f0\n")
        #expect(!FileManager.default.fileExists(atPath: lower + "/t0/x"))
        #expect(throws: CheckpointError.self) { try restore.commit(rootPath: lower) }

        // Without the hard link to a deleted file, the second run goes through, and the
        // other traps change what the first run left.
        let (other, _) = try Self.makeReplayTrap(in: scratch.path("b"), groups: 1)
        let trimmed = Restore(
            index: TarIndex(displayName: restore.index.displayName,
                            members: restore.index.members.filter {
                                $0.name != Array("k0".utf8)
                            }),
            tarPath: restore.tarPath, deletedList: DeletedPaths(displayName: "none", paths: []))
        _ = try trimmed.commit(rootPath: other)
        #expect(try String(contentsOfFile: other + "/h0", encoding: .utf8) == "lower f0\n")
        #expect(!FileManager.default.fileExists(atPath: other + "/t0/x"))
        _ = try trimmed.commit(rootPath: other)
        // h0 now links to the member's f0, not the lower one, and t0/x was overwritten.
        #expect(try String(contentsOfFile: other + "/h0", encoding: .utf8) == "member f0\n")
        #expect(try String(contentsOfFile: other + "/t0/x", encoding: .utf8) == "member x 0\n")
    }

    @Test(arguments: 1...8 as ClosedRange<UInt64>)
    func killedCommitOfTheReplayTrapFinishesWhenRunAgain(seed: UInt64) throws {
        let scratch = try TemporaryDirectory("resilience")
        let (lower, checkpoint) = try Self.makeReplayTrap(in: scratch.path, groups: 40)
        let start = Int(time(nil))
        try Self.expectKilledCommitConverges(
            seed: seed, lower: lower, checkpoint: checkpoint, scratch: scratch, start: start,
            journalEstimate: 200 + 40 * 6 * 18 + 40 * 70)
    }

    @Test(arguments: 1...4 as ClosedRange<UInt64>)
    func killedCommitOfThePodmanCheckpointFinishesWhenRunAgain(seed: UInt64) throws {
        let scratch = try TemporaryDirectory("resilience")
        let lower = scratch.path("lower")
        _ = try check("mkdir", lower) { mkdir(lower, 0o755) }
        try BaseRootfs.extract(into: lower)
        let start = Int(time(nil))
        try Self.expectKilledCommitConverges(
            seed: seed, lower: lower,
            checkpoint: PodmanFixture.path("archives/ckrich-zstd-default.tar.zst"),
            scratch: scratch, start: start, journalEstimate: 200 + 45 * 18)
    }

    @Test(arguments: 1...6 as ClosedRange<UInt64>)
    func killedCommitOfGeneratedCheckpointsFinishesWhenRunAgain(seed: UInt64) throws {
        let scratch = try TemporaryDirectory("resilience")
        let (lower, checkpoint) = try RandomCheckpoint.make(seed: seed, in: scratch.path)
        let start = Int(time(nil))
        try Self.expectKilledCommitConverges(
            seed: seed, lower: lower, checkpoint: checkpoint, scratch: scratch, start: start,
            journalEstimate: 600)
    }

    /// Commits `checkpoint` onto one copy of `lower` in one go and onto another with kills
    /// between, and compares the two trees. A refused checkpoint must be refused by both
    /// and leave the copy as it was.
    static func expectKilledCommitConverges(
        seed: UInt64,
        lower: String,
        checkpoint: String,
        scratch: TemporaryDirectory,
        start: Int,
        journalEstimate: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let clean = scratch.path("clean")
        let victim = scratch.path("victim")
        try copy(lower, to: clean)
        try copy(lower, to: victim)
        let before = try TreeSnapshot(of: victim, freshAfter: start)

        let cleanEnd = try runCommit(root: clean, checkpoint: checkpoint,
                                     state: scratch.path("clean-state"),
                                     log: scratch.path("clean.log"))
        let state = scratch.path("state")
        let log = scratch.path("victim.log")
        let (status, killed) = try commitUntilDone(
            seed: seed, root: victim, checkpoint: checkpoint, state: state,
            journalEstimate: journalEstimate, kills: 1 + Int(seed % 3), log: log)
        let message = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(RunEnd.exited(status) == cleanEnd, "seed \(seed): \(message)",
                sourceLocation: sourceLocation)

        let expected = status == 0 ? try TreeSnapshot(of: clean, freshAfter: start) : before
        let actual = try TreeSnapshot(of: victim, freshAfter: start)
        #expect(actual == expected,
                """
                seed \(seed), \(killed) kills: clean (-) vs killed and run again (+):
                \(actual.difference(from: expected))
                """,
                sourceLocation: sourceLocation)
        if status == 0 {
            // One more run finds the journal finished and writes nothing.
            #expect(try runCommit(root: victim, checkpoint: checkpoint, state: state,
                                  log: log) == .exited(0), sourceLocation: sourceLocation)
            #expect(try TreeSnapshot(of: victim, freshAfter: start) == expected,
                    sourceLocation: sourceLocation)
        }
    }

    @Test func fullDiskStopsNamingTheFileAndARunAfterFreeingSpaceFinishes() throws {
        let scratch = try TemporaryDirectory("resilience")
        let small = scratch.path("small")
        _ = try check("mkdir", small) { mkdir(small, 0o755) }
        // The base image takes about 2.1 MB; data/big.txt alone 4.5 MB.
        try runCommand(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", small])
        defer { _ = try? runCommand(["umount", small]) }
        try BaseRootfs.extract(into: small)
        let clean = scratch.path("clean")
        _ = try check("mkdir", clean) { mkdir(clean, 0o755) }
        try BaseRootfs.extract(into: clean)
        let start = Int(time(nil))
        let checkpoint = PodmanFixture.path("archives/ckrich-zstd-default.tar.zst")
        let state = scratch.path("state")

        let full = try BuiltTool.run(["commit", "--state-dir", state, "--root", small,
                                      checkpoint])
        #expect(full.status == 1)
        #expect(full.error.contains("\(checkpoint):rootfs-diff.tar: member 'data/big.txt'"),
                "\(full.error)")
        #expect(full.error.contains("\(small)/data/big.txt: No space left on device"),
                "\(full.error)")
        #expect(full.error.contains("run it again to finish it"), "\(full.error)")

        try runCommand(["mount", "-o", "remount,size=32m", small])
        let rerun = try BuiltTool.run(["commit", "--state-dir", state, "--root", small,
                                       checkpoint])
        #expect(rerun.status == 0, "\(rerun.error)")
        #expect(String(decoding: rerun.output, as: UTF8.self)
                .contains("finished a commit that had stopped at member"))

        let clean2 = try BuiltTool.run(["commit", "--state-dir", scratch.path("clean-state"),
                                        "--root", clean, checkpoint])
        #expect(clean2.status == 0, "\(clean2.error)")
        try Self.expectSameTree(small, as: clean, since: start, "resumed on tmpfs")
    }

    @Test func unfinishedCommitOfAnotherCheckpointIsNotOverwritten() throws {
        let scratch = try TemporaryDirectory("resilience")
        let (lower, checkpoint) = try Self.makeReplayTrap(in: scratch.path, groups: 30)
        let state = scratch.path("state")
        let journal = try Self.journalPath(root: lower, state: state)
        let end = try Self.runCommit(root: lower, checkpoint: checkpoint, state: state,
                                     kill: .journalBytes(400), log: scratch.path("log"))
        try #require(end == .killed, "the commit ended before the kill")
        let other = PodmanFixture.path("archives/ck-addonly.tar.zst")

        let refused = try BuiltTool.run(["commit", "--state-dir", state, "--root", lower,
                                         other])
        #expect(refused.status == 1)
        #expect(refused.error.contains(
            "\(lower): a commit of another checkpoint, \(checkpoint), stopped before it "
                + "finished"))
        #expect(refused.error.contains("remove \(journal)"))
        #expect(!FileManager.default.fileExists(atPath: lower + "/data/only-added.txt"))

        let finished = try BuiltTool.run(["commit", "--state-dir", state, "--root", lower,
                                          checkpoint])
        #expect(finished.status == 0, "\(finished.error)")
        let now = try BuiltTool.run(["commit", "--state-dir", state, "--root", lower, other])
        #expect(now.status == 0, "\(now.error)")
        #expect(FileManager.default.fileExists(atPath: lower + "/data/only-added.txt"))
    }

    /// A member stopped between making a missing parent (mode 0700 at first) and giving it
    /// its owner and mode: run again, the directory ends 0755 and 0:0, as in one commit.
    @Test func directoryForAMissingParentLeftHalfMadeIsFinished() throws {
        let scratch = try TemporaryDirectory("resilience")
        let start = Int(time(nil))
        let (lower, checkpoint, clean) = try Self.trapWithCleanCommit(in: scratch)
        let state = scratch.path("state")

        // Members 0-2 applied; member 3 (n0/deep/file) made n0 and stopped: the state a
        // kill between mkdir(2) and fchownat(2) leaves.
        let restore = try Restore(source: CheckpointSource.open(path: checkpoint))
        let partial = Restore(
            index: TarIndex(displayName: restore.index.displayName,
                            members: Array(restore.index.members.prefix(3))),
            tarPath: restore.tarPath, deletedList: DeletedPaths(displayName: "none", paths: []))
        _ = try partial.commit(rootPath: lower)
        _ = try check("mkdir", "n0") { mkdir(lower + "/n0", 0o700) }
        _ = try check("chown", "n0") { chown(lower + "/n0", 1000, 1000) }
        let fingerprint = try Self.fingerprint(of: checkpoint)
        let journal = try Self.journalPath(root: lower, state: state)
        try Self.writeJournal(journal, root: lower, fingerprint: fingerprint,
                              checkpoint: checkpoint,
                              steps: ["step member 0", "step member 1", "step member 2",
                                      "step member 3",
                                      "implicit " + Hex.encode(Array("n0".utf8)),
                                      "implicit " + Hex.encode(Array("n0/deep".utf8))])

        let rerun = try BuiltTool.run(["commit", "--state-dir", state, "--root", lower,
                                       checkpoint])
        #expect(rerun.status == 0, "\(rerun.error)")
        #expect(String(decoding: rerun.output, as: UTF8.self)
                .contains("stopped at member 4 of"))
        try Self.expectSameTree(lower, as: clean, since: start, "finished")
    }

    @Test func lineCutShortAtTheEndOfTheJournalIsDropped() throws {
        let scratch = try TemporaryDirectory("resilience")
        let start = Int(time(nil))
        let (lower, checkpoint, clean) = try Self.trapWithCleanCommit(in: scratch)
        let state = scratch.path("state")

        let fingerprint = try Self.fingerprint(of: checkpoint)
        let journal = try Self.journalPath(root: lower, state: state)
        // Nothing applied yet, and a half-written record after the last whole one.
        try Self.writeJournal(journal, root: lower, fingerprint: fingerprint,
                              checkpoint: checkpoint, steps: ["step member 0"], tail: "step me")
        let rerun = try BuiltTool.run(["commit", "--state-dir", state, "--root", lower,
                                       checkpoint])
        #expect(rerun.status == 0, "\(rerun.error)")
        try Self.expectSameTree(lower, as: clean, since: start, "finished")
        let text = try String(contentsOfFile: journal, encoding: .utf8)
        #expect(text.hasSuffix("\n") && text.contains("\nfinished "))
        #expect(!text.contains("step me\n"))
    }

    /// Without a journal the commit is the same; run twice on podman's checkpoint, which
    /// links only to its own earlier members, it leaves the same tree too.
    @Test func commitWithoutJournalWritesTheSameTree() throws {
        let scratch = try TemporaryDirectory("resilience")
        let journaled = scratch.path("journaled")
        let plain = scratch.path("plain")
        for root in [journaled, plain] {
            _ = try check("mkdir", root) { mkdir(root, 0o755) }
            try BaseRootfs.extract(into: root)
        }
        let start = Int(time(nil))
        let checkpoint = PodmanFixture.path("archives/ckrich-gzip.tar.gz")
        #expect(try BuiltTool.run(["commit", "-q", "--state-dir", scratch.path("state"),
                                   "--root", journaled, checkpoint]).status == 0)
        // The second time, of the deleted paths only /data/opaque-me, which the diff tar made
        // again, is there to remove.
        for removed in [5, 1] {
            let result = try BuiltTool.run(["commit", "--no-journal", "--root", plain,
                                            checkpoint])
            #expect(result.status == 0, "\(result.error)")
            #expect(String(decoding: result.output, as: UTF8.self)
                    == "39 members applied, \(removed) paths removed, 4550369 bytes written\n")
            try Self.expectSameTree(plain, as: journaled, since: start, "without a journal")
        }
    }

    /// A commit holds flock(2) on the root while it runs; a second one into the same root
    /// stops before it reads or writes a journal.
    @Test func secondCommitIntoABusyRootStops() throws {
        let scratch = try MountScratch(members: [.file("a", "x\n")])
        let state = scratch.directory.path("state")
        let held = try FileDescriptor.openDirectory(atPath: scratch.root)
        _ = try check("flock", scratch.root) { flock(held.raw, LOCK_EX | LOCK_NB) }
        let busy = try BuiltTool.run(["commit", "--state-dir", state, "--root", scratch.root,
                                      scratch.checkpoint])
        #expect(busy.status == 1)
        #expect(busy.error.contains("\(scratch.root): another commit into this root is running"))
        #expect(!FileManager.default.fileExists(atPath: scratch.root + "/a"))

        _ = try check("flock", scratch.root) { flock(held.raw, LOCK_UN) }
        let free = try BuiltTool.run(["commit", "--state-dir", state, "--root", scratch.root,
                                      scratch.checkpoint])
        #expect(free.status == 0, "\(free.error)")
        #expect(FileManager.default.fileExists(atPath: scratch.root + "/a"))
    }

    @Test func refusedCheckpointLeavesNoJournal() throws {
        let scratch = try MountScratch(members: [.file("ok", "x\n"), .file("../out", "o\n")])
        let state = scratch.directory.path("state")
        let result = try BuiltTool.run(["commit", "--state-dir", state, "--root", scratch.root,
                                        scratch.checkpoint])
        #expect(result.status == 3)
        #expect(!FileManager.default.fileExists(atPath: state))
    }

    @Test func damagedJournalIsReportedAndNothingIsWritten() throws {
        let scratch = try TemporaryDirectory("resilience")
        let (lower, checkpoint) = try Self.makeReplayTrap(in: scratch.path, groups: 1)
        let state = scratch.path("state")
        let journal = try Self.journalPath(root: lower, state: state)
        try FileManager.default.createDirectory(atPath: state + "/commits",
                                                withIntermediateDirectories: true)
        try Data("something else\n".utf8).write(to: URL(fileURLWithPath: journal))
        let before = try TreeSnapshot(of: lower)
        let result = try BuiltTool.run(["commit", "--state-dir", state, "--root", lower,
                                        checkpoint])
        #expect(result.status == 1)
        #expect(result.error.contains("\(journal): not a commit journal"))
        #expect(try TreeSnapshot(of: lower) == before)
    }

    /// Expects the tree at `root` to be the tree at `clean`, times stamped since `start`
    /// compared as fresh.
    static func expectSameTree(
        _ root: String,
        as clean: String,
        since start: Int,
        _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let expected = try TreeSnapshot(of: clean, freshAfter: start)
        let actual = try TreeSnapshot(of: root, freshAfter: start)
        #expect(actual == expected,
                "clean (-) vs \(label) (+):\n\(actual.difference(from: expected))",
                sourceLocation: sourceLocation)
    }

    /// The one-group replay trap in `scratch`, with a copy committed in one go.
    static func trapWithCleanCommit(in scratch: TemporaryDirectory) throws
        -> (lower: String, checkpoint: String, clean: String)
    {
        let (lower, checkpoint) = try makeReplayTrap(in: scratch.path, groups: 1)
        let clean = scratch.path("clean")
        try copy(lower, to: clean)
        let result = try BuiltTool.run(["commit", "--state-dir", scratch.path("clean-state"),
                                        "--root", clean, checkpoint])
        #expect(result.status == 0, "\(result.error)")
        return (lower, checkpoint, clean)
    }

    // MARK: Journals written by hand

    /// The fingerprint a commit of `checkpoint` records.
    static func fingerprint(of checkpoint: String) throws -> String {
        let source = try CheckpointSource.open(path: checkpoint)
        defer { source.close() }
        return CheckpointFingerprint.of(try Restore(source: source), files: source.sourceFiles)
    }

    /// Writes a journal for `root` as a commit that stopped after `steps` would have left it.
    static func writeJournal(
        _ path: String,
        root: String,
        fingerprint: String,
        checkpoint: String,
        steps: [String],
        tail: String = ""
    ) throws {
        let identity = try CommitJournal.RootIdentity(FileDescriptor.openDirectory(atPath: root))
        var text = "checkpointfs-commit-journal 1\n"
        text += "root \(identity.device) \(identity.inode) \(identity.birthSeconds) "
            + "\(identity.birthNanoseconds) \(Hex.encode(Array(root.utf8)))\n"
        text += "checkpoint \(fingerprint) \(Hex.encode(Array(checkpoint.utf8)))\n"
        text += steps.map { $0 + "\n" }.joined() + tail
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
}
