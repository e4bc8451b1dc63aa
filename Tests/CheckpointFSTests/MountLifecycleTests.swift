import CheckpointMount
import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// `checkpointfs mount` and `unmount` on real FUSE mounts: foreground and background,
/// signals, a killed daemon, refused checkpoints and options.
@Suite struct MountLifecycleTests {
    /// A lower root with two files and a checkpoint that adds one and deletes one.
    static func scratch() throws -> MountScratch {
        let scratch = try MountScratch(members: [.file("data/new", "from the tar\n")],
                                       deleted: ["/etc/motd"])
        try scratch.writeLower("etc/motd", "lower motd\n")
        try scratch.writeLower("data/old", "lower file\n")
        return scratch
    }

    static func text(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    /// A lazy unmount for a background mount a failed test may leave.
    static func detach(_ mountPoint: String) {
        _ = try? Command.run("/usr/bin/fusermount3", ["-u", "-z", mountPoint])
    }

    @Test func foregroundServesTheViewUntilUnmounted() throws {
        let scratch = try Self.scratch()
        let mount = try scratch.mount()
        #expect(try Self.text(mount.path("data/new")) == "from the tar\n")
        #expect(try Self.text(mount.path("data/old")) == "lower file\n")
        #expect(!FileManager.default.fileExists(atPath: mount.path("etc/motd")))

        let entry = try #require(try MountTable.entry(at: mount.mountPoint))
        #expect(entry.source == (try MountPoint.resolve(scratch.checkpoint)))
        var info = statvfs()
        #expect(statvfs(mount.mountPoint, &info) == 0)
        #expect(info.f_flag & UInt(ST_RDONLY) != 0)

        let status = mount.unmount()
        #expect(MountHarness.exitCode(status) == 0, "\(mount.log())")
        #expect(try !MountHarness.isMounted(mount.mountPoint))
    }

    @Test func backgroundReturnsOnceTheMountIsReady() throws {
        let scratch = try Self.scratch()
        let mountPoint = try MountPoint.resolve(scratch.mountPoint)
        defer { Self.detach(mountPoint) }

        let result = try MountHarness.tool(
            ["mount", "--root", scratch.root, scratch.checkpoint, scratch.mountPoint])
        #expect(result.status == 0, "\(result.standardError)")
        // No waiting here: the command returns only once the view answers.
        #expect(try MountHarness.isMounted(mountPoint))
        #expect(try Self.text(mountPoint + "/data/new") == "from the tar\n")

        let unmounted = try MountHarness.tool(["unmount", scratch.mountPoint])
        #expect(unmounted.status == 0, "\(unmounted.standardError)")
        #expect(try !MountHarness.isMounted(mountPoint))
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func signalUnmountsCleanly(signal: Int32) throws {
        let scratch = try Self.scratch()
        let mount = try scratch.mount()
        #expect(try Self.text(mount.path("data/old")) == "lower file\n")

        mount.signal(signal)
        let status = mount.waitForExit()
        #expect(MountHarness.exitCode(status) == 0, "\(mount.log())")
        #expect(try !MountHarness.isMounted(mount.mountPoint))
    }

    /// After SIGKILL every access answers ENOTCONN; `unmount` takes the mount away, also
    /// while a process still holds a file of it open.
    @Test(arguments: [false, true])
    func unmountClearsAKilledDaemonsMount(fileHeldOpen: Bool) throws {
        let scratch = try Self.scratch()
        let mount = try scratch.mount()
        let holder = fileHeldOpen ? open(mount.path("data/old"), O_RDONLY) : -1
        defer { if holder >= 0 { close(holder) } }
        if fileHeldOpen { try #require(holder >= 0) }

        mount.signal(SIGKILL)
        #expect(MountHarness.exitCode(mount.waitForExit()) == nil)
        var info = statvfs()
        #expect(statvfs(mount.mountPoint, &info) == -1)
        #expect(errno == ENOTCONN)

        let result = try MountHarness.tool(["unmount", mount.mountPoint])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try !MountHarness.isMounted(mount.mountPoint))
        #expect(result.standardError.contains("no daemon answered") == fileHeldOpen)
    }

    @Test func unmountLeavesAViewInUseAlone() throws {
        let scratch = try Self.scratch()
        let mount = try scratch.mount()
        let holder = open(mount.path("data/old"), O_RDONLY)
        try #require(holder >= 0)

        let result = try MountHarness.tool(["unmount", mount.mountPoint])
        #expect(result.status == 1)
        #expect(result.standardError.contains("busy"))
        #expect(try MountHarness.isMounted(mount.mountPoint))
        close(holder)
        #expect(MountHarness.exitCode(mount.unmount()) == 0, "\(mount.log())")
    }

    @Test func unmountRefusesWhatIsNoView() throws {
        let scratch = try Self.scratch()
        let result = try MountHarness.tool(["unmount", scratch.mountPoint])
        #expect(result.status == 1)
        #expect(result.standardError.contains("not mounted"))

        let proc = try MountHarness.tool(["unmount", "/proc"])
        #expect(proc.status == 1)
        #expect(proc.standardError.contains("not a checkpointfs mount"))
    }

    /// The view refuses what the commit refuses, with the same message, and the mount point
    /// stays as it was.
    @Test(arguments: [false, true])
    func refusedCheckpointLeavesTheMountPointAlone(foreground: Bool) throws {
        let scratch = try MountScratch(members: [.file("a/../../escape", "out\n")])
        try Data("kept\n".utf8).write(to: URL(fileURLWithPath: scratch.mountPoint + "/marker"))
        let mountPoint = try MountPoint.resolve(scratch.mountPoint)
        defer { Self.detach(mountPoint) }

        let mounted = try MountHarness.tool(
            ["mount", "--root", scratch.root, scratch.checkpoint, scratch.mountPoint]
                + (foreground ? ["-f"] : []))
        let committed = try MountHarness.tool(["commit", "--root", scratch.root,
                                               scratch.checkpoint])
        #expect(mounted.status == 3)
        #expect(committed.status == 3)
        let mountMessage = mounted.standardError.replacingOccurrences(
            of: "checkpointfs mount: ", with: "")
        let commitMessage = committed.standardError.replacingOccurrences(
            of: "checkpointfs commit: ", with: "")
        #expect(mountMessage == commitMessage)
        #expect(mountMessage.contains("a/../../escape"))

        #expect(try !MountHarness.isMounted(mountPoint))
        #expect(try FileManager.default.contentsOfDirectory(atPath: mountPoint) == ["marker"])
        #expect(try Self.text(mountPoint + "/marker") == "kept\n")
    }

    @Test func readWriteIsRefused() throws {
        let scratch = try Self.scratch()
        let result = try MountHarness.tool(
            ["mount", "--root", scratch.root, scratch.checkpoint, scratch.mountPoint,
             "-o", "rw"])
        #expect(result.status == 2)
        #expect(result.standardError.contains("read-only"))
        #expect(try !MountHarness.isMounted(try MountPoint.resolve(scratch.mountPoint)))
    }

    @Test(arguments: [false, true])
    func unknownOptionIsRefusedBeforeMounting(foreground: Bool) throws {
        let scratch = try Self.scratch()
        let mountPoint = try MountPoint.resolve(scratch.mountPoint)
        defer { Self.detach(mountPoint) }
        let result = try MountHarness.tool(
            ["mount", "--root", scratch.root, scratch.checkpoint, scratch.mountPoint,
             "-o", "no_such_option"] + (foreground ? ["-f"] : []))
        #expect(result.status == 1)
        #expect(result.standardError.contains("no_such_option"))
        #expect(try !MountHarness.isMounted(mountPoint))
    }

    @Test func missingMountPointIsRefused() throws {
        let scratch = try Self.scratch()
        let result = try MountHarness.tool(
            ["mount", "--root", scratch.root, scratch.checkpoint, scratch.mountPoint + "/no"])
        #expect(result.status == 1)
        #expect(result.standardError.contains("No such file or directory"))
    }

    /// INIT must announce a `max_read` given as an option, or the kernel refuses the session.
    @Test func maxReadLimitsRequestsAndReadsStayWhole() throws {
        var content = [UInt8](repeating: 0, count: 1 << 20)
        for index in content.indices { content[index] = UInt8(truncatingIfNeeded: index / 7) }
        let scratch = try MountScratch(members: [
            TarBuilder.Entry(name: Array("big".utf8), content: content),
        ])
        let mount = try scratch.mount(extra: ["-o", "max_read=16384"])
        #expect(try TestFile.bytes(atPath: mount.path("big")) == content)
        #expect(MountHarness.exitCode(mount.unmount()) == 0, "\(mount.log())")
    }

    /// The kernel's read-ahead for the mount, as its sysfs file holds it, once the daemon
    /// answers requests.
    static func readAhead(of mount: MountHarness) throws -> String {
        _ = try FileManager.default.contentsOfDirectory(atPath: mount.mountPoint)
        let entry = try #require(try MountTable.entry(at: mount.mountPoint))
        let path = "/sys/class/bdi/\(entry.major):\(entry.minor)/read_ahead_kb"
        return try Self.text(path).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Where sysfs is mounted read-only (in a container, say) the read-ahead cannot be set:
    /// the view is served all the same, at the kernel's default, and the daemon says why.
    @Test(arguments: [([String](), "1024"), (["-o", "read_ahead_kb=256"], "256"),
                      (["-o", "read_ahead_kb=0"], "0")])
    func readAheadIsSetOnTheMount(extra: [String], expected: String) throws {
        let scratch = try Self.scratch()
        let mount = try scratch.mount(extra: extra)
        var sysfs = statvfs()
        #expect(statvfs("/sys/class/bdi", &sysfs) == 0)
        if sysfs.f_flag & UInt(ST_RDONLY) == 0 {
            #expect(try Self.readAhead(of: mount) == expected)
        } else {
            #expect(try Self.readAhead(of: mount) == "128")
            #expect(mount.log().contains("read-ahead left at the kernel's default"),
                    "\(mount.log())")
        }
        #expect(try Self.text(mount.path("data/new")) == "from the tar\n")
        #expect(MountHarness.exitCode(mount.unmount()) == 0, "\(mount.log())")
    }

    @Test func debugTracesEachRequest() throws {
        let scratch = try Self.scratch()
        let mount = try scratch.mount(extra: ["-d"])
        #expect(try Self.text(mount.path("data/new")) == "from the tar\n")
        #expect(MountHarness.exitCode(mount.unmount()) == 0)
        let log = mount.log()
        #expect(log.contains("LOOKUP"))
        #expect(log.contains("READ"))
    }
}

/// Permissions through the view: a checkpoint is input from elsewhere, so its setuid files
/// and devices never take effect, and other users see only what the modes allow them.
@Suite struct MountPermissionTests {
    @Test func viewIsNosuidNodevAndChecksPermissions() throws {
        var secret = TarBuilder.Entry.file("data/secret", "only root\n", mode: 0o600)
        secret.uid = 0
        var setuid = TarBuilder.Entry.file("data/setuid", "#!/bin/sh\nid -u\n", mode: 0o4755)
        setuid.uid = 0
        let zero = TarBuilder.Entry(name: Array("data/zero".utf8), type: UInt8(ascii: "3"),
                                    mode: 0o666, devMajor: 1, devMinor: 5)
        let scratch = try MountScratch(members: [secret, setuid, zero])
        let view = try scratch.mount(extra: ["-o", "allow_other"])
        defer { view.unmount() }

        let entry = try #require(try MountTable.entry(at: view.mountPoint))
        for flag in ["ro", "nosuid", "nodev"] {
            #expect(entry.mountOptions.split(separator: ",").contains(Substring(flag)))
        }
        #expect(entry.superOptions.contains("default_permissions"))

        // As nobody: the 0600 file is refused, the device cannot be opened.
        let asNobody = ["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                        "--clear-groups", "/bin/cat"]
        let secretRead = try Command.run(asNobody[0], Array(asNobody.dropFirst())
                                         + [view.path("data/secret")])
        #expect(secretRead.status != 0 && secretRead.standardError.contains("Permission denied"))
        let deviceRead = try Command.run(asNobody[0], Array(asNobody.dropFirst())
                                         + [view.path("data/zero")])
        #expect(deviceRead.status != 0)

        for option in ["suid", "dev"] {
            let refused = try MountHarness.tool(
                ["mount", "--root", scratch.root, scratch.checkpoint, scratch.mountPoint + "2",
                 "-o", option])
            #expect(refused.status == 2 && refused.standardError.contains("nosuid"))
        }
    }
}

/// Places a view cannot go: the mount is refused and nothing is mounted.
@Suite struct MountPointTests {
    @Test(arguments: ["file", "inside-root", "stacked"])
    func unusableMountPointIsRefused(_ kind: String) throws {
        let scratch = try MountScratch(members: [.file("data/new", "x\n")])
        var target = scratch.mountPoint
        var first: MountHarness?
        switch kind {
        case "file":
            target = scratch.directory.path("plain-file")
            try Data().write(to: URL(fileURLWithPath: target))
        case "inside-root":
            try scratch.writeLower("mnt/keep", "lower\n")
            target = scratch.root + "/mnt"
        default:
            first = try scratch.mount()
        }
        defer { first?.unmount() }
        // Other tests mount in parallel: count only the mounts at this path.
        let resolved = try MountPoint.resolve(target)
        let here = { try MountTable.current().filter { $0.mountPoint == resolved }.count }
        let mountsBefore = try here()
        let result = try MountHarness.tool(
            ["mount", "--root", scratch.root, scratch.checkpoint, target])
        #expect(result.status == 1)
        #expect(result.standardError.contains("cannot mount a view here"),
                "\(result.standardError)")
        #expect(try here() == mountsBefore)
    }
}
