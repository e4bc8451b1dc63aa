import CheckpointMount
import Foundation
import Glibc
import Synchronization
import Testing
@testable import CheckpointFS

/// Faults from outside: the daemon killed while readers wait on it, a lower root with
/// entries the kernel refuses to read, a disk that fills up during a commit. Each fault is
/// confined to what it hits; what it leaves behind can be cleared; a re-run converges.
@Suite(.serialized) struct FaultTests {
    // MARK: The daemon killed mid-read

    /// Eight readers work through the view; the daemon is killed with SIGKILL under them.
    /// Every reader ends with an error instead of hanging, `checkpointfs unmount` clears the
    /// dead mount, and a new mount at the same place serves the right bytes.
    @Test func daemonKilledMidRead() throws {
        let workload = try LoadWorkload()
        let (files, _) = try workload.committedTree()
        let mountPoint = workload.directory.path("view")
        _ = try check("mkdir", mountPoint) { mkdir(mountPoint, 0o755) }
        let view = try MountHarness(root: workload.lower, checkpoint: workload.checkpoint,
                                    mountPoint: mountPoint)

        let errors = Mutex<[Int32]>([])
        let started = Atomic<Int>(0)
        let group = DispatchGroup()
        for reader in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                var random = SplitMix(seed: UInt64(reader) + 100)
                var buffer = [UInt8](repeating: 0, count: 128 << 10)
                while true {
                    let file = files[Int(random.next() % UInt64(files.count))]
                    let descriptor = open(view.path(file), O_RDONLY)
                    var failure = descriptor < 0 ? errno : 0
                    while failure == 0 {
                        let count = read(descriptor, &buffer, buffer.count)
                        if count < 0 { failure = errno }
                        if count <= 0 { break }
                        started.add(1, ordering: .relaxed)
                    }
                    if descriptor >= 0 { close(descriptor) }
                    if failure != 0 {
                        errors.withLock { $0.append(failure) }
                        break
                    }
                }
                group.leave()
            }
        }
        while started.load(ordering: .relaxed) < 100 { usleep(1000) }
        view.signal(SIGKILL)
        #expect(group.wait(timeout: .now() + MountHarness.patience) == .success,
                "readers still blocked after the daemon died")
        let seen = Set(errors.withLock { $0 })
        #expect(seen.isSubset(of: [ENOTCONN, ECONNABORTED]), "readers saw errno \(seen)")
        #expect(try MountHarness.isMounted(view.mountPoint), "the dead mount is still listed")
        _ = view.waitForExit()

        let cleared = try MountHarness.tool(["unmount", view.mountPoint])
        #expect(cleared.status == 0, "unmount: \(cleared.standardError)")
        #expect(try !MountHarness.isMounted(view.mountPoint))

        let again = try MountHarness(root: workload.lower, checkpoint: workload.checkpoint,
                                     mountPoint: mountPoint)
        for file in files.prefix(40) {
            let expected = try TestFile.bytes(atPath: workload.committed + "/" + file)
            #expect(try TestFile.bytes(atPath: again.path(file)) == expected, "\(file)")
        }
        #expect(again.unmount() == 0, "daemon: \(again.log())")
        print("reliability: fault daemon-killed readers=8 errnos=\(seen.sorted()) cleared=yes "
              + "remounted=yes")
    }

    // MARK: Unreadable lower entries

    /// Root reads whatever permission bits say, so the unreadable entries are made by FUSE
    /// mounts inside the lower root: a file whose reads fail with EIO (a view whose diff tar
    /// was cut short after it was mounted) and a directory whose daemon is dead (ENOTCONN).
    /// The view over that root reports each error for its path only and serves the rest.
    @Test func unreadableLowerEntries() throws {
        let scratch = try TemporaryDirectory("unreadable")
        let lower = scratch.path("lower")
        for directory in ["lower", "lower/ok", "lower/inner", "lower/dead", "empty", "view"] {
            _ = try check("mkdir", directory) { mkdir(scratch.path(directory), 0o755) }
        }
        try Data("lower a\n".utf8).write(to: URL(fileURLWithPath: lower + "/ok/a"))
        let good = LoadWorkload.pattern(count: 3000, seed: 1)
        let bad = LoadWorkload.pattern(count: 70_000, seed: 2)
        let innerCheckpoint = scratch.path("inner-checkpoint")
        try RawCheckpoint(
            description: "inner", tar: TarBuilder.archive([
                TarBuilder.Entry(name: Array("good".utf8), content: good),
                TarBuilder.Entry(name: Array("bad".utf8), content: bad),
            ]), expectation: .applied(members: 2)).write(to: innerCheckpoint)
        let inner = try MountHarness(root: scratch.path("empty"), checkpoint: innerCheckpoint,
                                     mountPoint: lower + "/inner")
        defer { inner.unmount() }
        let dead = try MountHarness(root: scratch.path("empty"), checkpoint: innerCheckpoint,
                                    mountPoint: lower + "/dead")
        dead.signal(SIGKILL)
        _ = dead.waitForExit()
        defer { _ = try? MountHarness.tool(["unmount", lower + "/dead"]) }
        // The inner view reads `bad` from the tar by offset: cut the tar before its data.
        let tar = innerCheckpoint + "/rootfs-diff.tar"
        _ = try check("truncate", tar) { truncate(tar, off_t(512 + 3072 + 512)) }

        let checkpoint = scratch.path("checkpoint")
        try RawCheckpoint(description: "outer",
                          tar: TarBuilder.archive([.file("new", "from the tar\n")]),
                          expectation: .applied(members: 1)).write(to: checkpoint)
        let view = try MountHarness(root: lower, checkpoint: checkpoint,
                                    mountPoint: scratch.path("view"))

        #expect(Self.readErrno(view.path("inner/bad")) == EIO)
        var info = stat()
        #expect(lstat(view.path("dead"), &info) == -1 && errno == ENOTCONN)
        #expect(try TestFile.bytes(atPath: view.path("inner/good")) == good)
        #expect(try TestFile.bytes(atPath: view.path("ok/a")) == Array("lower a\n".utf8))
        #expect(try TestFile.bytes(atPath: view.path("new")) == Array("from the tar\n".utf8))
        let names = try FileManager.default.contentsOfDirectory(atPath: view.path("")).sorted()
        // The harness keeps each daemon's log beside its mount point.
        #expect(names == ["dead", "dead.log", "inner", "inner.log", "new", "ok"])
        // The same errors again: nothing in the daemon broke on the first ones.
        #expect(Self.readErrno(view.path("inner/bad")) == EIO)
        #expect(try TestFile.bytes(atPath: view.path("ok/a")) == Array("lower a\n".utf8))
        #expect(view.unmount() == 0, "daemon: \(view.log())")
        print("reliability: fault unreadable-lower eio=inner/bad enotconn=dead rest=served")
    }

    /// Reads the whole file at `path`; the errno of the first failure, or 0.
    static func readErrno(_ path: String) -> Int32 {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return errno }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 { return errno }
            if count == 0 { return 0 }
        }
    }

    // MARK: A full disk during commit

    /// The root is a 2 MiB tmpfs and the diff tar holds 3 MiB: `checkpointfs commit` fails
    /// with an error naming the file it was writing. Once the tmpfs is made larger, the same
    /// commit run again ends in exactly the tree one clean commit makes.
    @Test func fullDiskDuringCommit() throws {
        let scratch = try TemporaryDirectory("full")
        let root = scratch.path("root")
        let pristine = scratch.path("pristine")
        for directory in ["root", "pristine", "pristine/data", "pristine/etc"] {
            _ = try check("mkdir", directory) { mkdir(scratch.path(directory), 0o755) }
        }
        try Data("root:x:0:0\n".utf8).write(to: URL(fileURLWithPath: pristine + "/etc/passwd"))
        try Data("lower a\n".utf8).write(to: URL(fileURLWithPath: pristine + "/data/a"))
        _ = try check("mount", root) { mount("tmpfs", root, "tmpfs", 0, "size=2m,mode=0755") }
        defer { umount2(root, Int32(MNT_DETACH)) }
        try Command.succeed("/bin/cp", ["-a", pristine + "/.", root])

        var members: [TarBuilder.Entry] = (0..<20).map { .file("small/f\($0)", "small \($0)\n") }
        members.append(TarBuilder.Entry(name: Array("big/blob".utf8),
                                        content: LoadWorkload.pattern(count: 3 << 20, seed: 9)))
        members += (0..<5).map { .file("after/f\($0)", "after \($0)\n") }
        members.append(.hardLink("after/link", to: "data/a"))
        let checkpoint = scratch.path("checkpoint")
        try RawCheckpoint(description: "full disk", tar: TarBuilder.archive(members),
                          deleted: Array(#"["/etc/passwd"]"#.utf8),
                          expectation: .applied(members: members.count)).write(to: checkpoint)
        let start = Int(time(nil))

        let full = try MountHarness.tool(["commit", "-q", "--root", root, checkpoint])
        // Exit status 1: a system failure, as opposed to 3, a refused checkpoint.
        #expect(full.status == 1, "commit on a full disk: \(full.status)")
        #expect(full.standardError.contains(root + "/big/blob")
                && full.standardError.contains(String(cString: strerror(ENOSPC))),
                "the error does not name the file: \(full.standardError)")

        _ = try check("mount", root) {
            mount("tmpfs", root, "tmpfs", UInt(MS_REMOUNT), "size=64m")
        }
        let rerun = try MountHarness.tool(["commit", "-q", "--root", root, checkpoint])
        #expect(rerun.status == 0, "re-run: \(rerun.standardError)")

        let clean = scratch.path("clean")
        try Command.succeed("/bin/cp", ["-a", pristine, clean])
        _ = try Restore(source: CheckpointSource.open(path: checkpoint)).commit(rootPath: clean)
        let converged = try TreeSnapshot(of: root, freshAfter: start)
        let once = try TreeSnapshot(of: clean, freshAfter: start)
        let difference = once.difference(from: converged)
        #expect(converged == once, "re-run (-) vs one clean commit (+):\n\(difference)")
        print("reliability: fault full-disk first=exit-\(full.status) rerun=exit-\(rerun.status) "
              + "converged=\(converged == once ? "yes" : "no")")
    }
}
