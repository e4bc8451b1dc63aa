import CheckpointMount
import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// `mount -t fuse.checkpointfs` and fstab lines, through the helper scripts/setup installs
/// as /sbin/mount.fuse.checkpointfs. The helper runs the program under test, named by
/// CHECKPOINTFS_BINARY, which mount(8) passes on in its environment.
@Suite struct MountHelperTests {
    static let installed = "/sbin/mount.fuse.checkpointfs"
    static let repositoryCopy = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/mount.fuse.checkpointfs").path

    /// mount(8) or umount(8) with the program under test for the helper to run.
    static func system(_ tool: String, _ arguments: [String]) throws -> CommandResult {
        try Command.run("/usr/bin/env",
                        ["CHECKPOINTFS_BINARY=\(MountHarness.program)", tool] + arguments)
    }

    static func scratch() throws -> MountScratch {
        let scratch = try MountScratch(members: [.file("data/new", "from the tar\n")])
        try scratch.writeLower("data/old", "lower file\n")
        return scratch
    }

    @Test func theInstalledHelperIsTheRepositorys() throws {
        let installed = try TestFile.bytes(atPath: Self.installed)
        #expect(installed == (try TestFile.bytes(atPath: Self.repositoryCopy)),
                "\(Self.installed) differs from scripts/: run scripts/setup")
        var info = stat()
        #expect(stat(Self.installed, &info) == 0 && info.st_mode & 0o111 == 0o111)
    }

    @Test func mountTypeFuseCheckpointfs() throws {
        let scratch = try Self.scratch()
        let mountPoint = try MountPoint.resolve(scratch.mountPoint)
        defer { _ = try? Command.run("/usr/bin/fusermount3", ["-u", "-z", mountPoint]) }

        let mounted = try Self.system("/usr/bin/mount", [
            "-t", "fuse.checkpointfs", scratch.checkpoint, scratch.mountPoint,
            "-o", "root=\(scratch.root),allow_other",
        ])
        #expect(mounted.status == 0, "\(mounted.standardError)")
        let entry = try #require(try MountTable.entry(at: mountPoint))
        #expect(entry.type == "fuse.checkpointfs")
        #expect(entry.source == (try MountPoint.resolve(scratch.checkpoint)))
        #expect(entry.superOptions.split(separator: ",").contains("allow_other"))
        #expect(entry.mountOptions.split(separator: ",").first == "ro")
        #expect(try TestFile.bytes(atPath: mountPoint + "/data/new")
            == Array("from the tar\n".utf8))

        let unmounted = try Self.system("/usr/bin/umount", [scratch.mountPoint])
        #expect(unmounted.status == 0, "\(unmounted.standardError)")
        #expect(try !MountHarness.isMounted(mountPoint))
    }

    /// An fstab line, read from a file of our own with `mount -T`.
    @Test func fstabLine() throws {
        let scratch = try Self.scratch()
        let mountPoint = try MountPoint.resolve(scratch.mountPoint)
        defer { _ = try? Command.run("/usr/bin/fusermount3", ["-u", "-z", mountPoint]) }
        let fstab = scratch.directory.path("fstab")
        let line = "\(scratch.checkpoint) \(mountPoint) fuse.checkpointfs "
            + "defaults,noauto,nofail,x-systemd.automount,root=\(scratch.root) 0 0\n"
        try Data(line.utf8).write(to: URL(fileURLWithPath: fstab))

        let mounted = try Self.system("/usr/bin/mount", ["-T", fstab, mountPoint])
        #expect(mounted.status == 0, "\(mounted.standardError)")
        #expect(try MountHarness.isMounted(mountPoint))
        #expect(try TestFile.bytes(atPath: mountPoint + "/data/old")
            == Array("lower file\n".utf8))
        #expect(try MountHarness.tool(["unmount", mountPoint]).status == 0)
        #expect(try !MountHarness.isMounted(mountPoint))
    }

    @Test func missingRootIsRefused() throws {
        let scratch = try Self.scratch()
        let mounted = try Self.system("/usr/bin/mount", [
            "-t", "fuse.checkpointfs", scratch.checkpoint, scratch.mountPoint,
        ])
        #expect(mounted.status != 0)
        #expect(mounted.standardError.contains("root=ROOT"))
        #expect(try !MountHarness.isMounted(try MountPoint.resolve(scratch.mountPoint)))
    }

    @Test func remountIsRefused() throws {
        let scratch = try Self.scratch()
        let mount = try scratch.mount()
        let remounted = try Self.system("/usr/bin/mount", ["-o", "remount,rw", mount.mountPoint])
        #expect(remounted.status != 0)
        #expect(remounted.standardError.contains("cannot be remounted"))
        #expect(try MountTable.entry(at: mount.mountPoint)?.mountOptions.hasPrefix("ro,") == true)
        #expect(MountHarness.exitCode(mount.unmount()) == 0, "\(mount.log())")
    }
}
