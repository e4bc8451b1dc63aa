import Testing
@testable import CheckpointFS

/// The change list comes in `podman diff`'s order and format, with podman's rule for the
/// parents of added and deleted entries.
@Suite struct CreateChangeListTests {
    static func changes(_ scratch: CreateScratch, options: CreateOptions = CreateOptions())
        throws -> [String]
    {
        try CheckpointDiff.changes(
            base: try FileDescriptor.openDirectory(atPath: scratch.base),
            changed: try FileDescriptor.openDirectory(atPath: scratch.changed),
            options: options
        ).map(\.line)
    }

    /// The shape of the podman fixture: a changed directory is listed when the walk meets
    /// it, a parent that is only listed because of an added or deleted entry comes right
    /// before that entry, nearest parent first, and modified files list no parent.
    @Test func parentsComeAsPodmanListsThem() throws {
        let scratch = try CreateScratch()
        let base = scratch.inBase
        for directory in ["bin", "home", "home/user", "usr", "usr/bin", "var", "var/log",
                          "gone", "gone/dir", "gone/dir/sub", "swap"] {
            try base.directory(directory)
        }
        try base.symlink("bin/vi", to: "busybox")
        try base.file("bin/busybox", "bb")
        try base.file("var/log/base.log", "line\n")
        try base.file("gone/dir/sub/file", "f")
        try base.file("swap/file-to-dir", "f")
        try base.directory("swap/dir-to-file")
        try base.file("swap/dir-to-file/inner", "i")
        try CreateRoundTripTests.setDirectoryTimes(base, 1_500_000_000)
        try scratch.copyBaseToChanged()

        let changed = scratch.inChanged
        try changed.remove("bin/vi")
        try changed.directory("home/user/.config", uid: 1000, gid: 1000)
        try changed.file("home/user/.config/app.conf", "x")
        try changed.file("usr/bin/newtool", "#!")
        try changed.file("var/log/base.log", "line\nmore\n")
        try changed.time("var/log/base.log", 1_500_000_001)
        try changed.remove("gone/dir")
        try changed.remove("swap/file-to-dir")
        try changed.directory("swap/file-to-dir")
        try changed.file("swap/file-to-dir/child", "c")
        try changed.remove("swap/dir-to-file")
        try changed.file("swap/dir-to-file", "now a file")
        // Restore the times the removals stamped, so those directories count as unchanged.
        try changed.time("gone", 1_500_000_000)
        try changed.time("swap", 1_500_000_000)

        #expect(try Self.changes(scratch) == [
            "C /bin",
            "D /bin/vi",
            "C /gone",
            "D /gone/dir",
            "C /home/user",
            "C /home",
            "A /home/user/.config",
            "A /home/user/.config/app.conf",
            "C /swap/dir-to-file",
            "C /swap/file-to-dir",
            "C /swap",
            "A /swap/file-to-dir/child",
            "C /usr/bin",
            "C /usr",
            "A /usr/bin/newtool",
            "C /var/log/base.log",
        ])
    }

    @Test func unchangedRootsHaveNoChanges() throws {
        let scratch = try CreateScratch()
        try scratch.inBase.directory("d")
        try scratch.inBase.file("d/f", "f")
        try scratch.inBase.symlink("d/l", to: "f")
        try scratch.inBase.fifo("d/p")
        try scratch.inBase.file("d/h", "h")
        try scratch.inBase.hardLink("d/h2", to: "d/h")
        try scratch.copyBaseToChanged()
        #expect(try Self.changes(scratch).isEmpty)
        let plan = try CheckpointDiff.plan(
            base: try FileDescriptor.openDirectory(atPath: scratch.base),
            changed: try FileDescriptor.openDirectory(atPath: scratch.changed))
        #expect(plan.members.isEmpty && plan.deletedPaths.isEmpty && plan.inexpressible.isEmpty)
    }

    /// Base and changed read through descriptors: a symlink in the changed root that
    /// points outside it is compared as a link and never followed.
    @Test func symlinksAreNeverFollowed() throws {
        let scratch = try CreateScratch()
        try scratch.inBase.directory("d")
        try scratch.copyBaseToChanged()
        try scratch.inChanged.symlink("d/escape", to: "/etc")
        try scratch.inChanged.symlink("d/up", to: "../../..")

        let plan = try CheckpointDiff.plan(
            base: try FileDescriptor.openDirectory(atPath: scratch.base),
            changed: try FileDescriptor.openDirectory(atPath: scratch.changed))
        #expect(plan.changes.map(\.line) == ["C /d", "A /d/escape", "A /d/up"])
        #expect(plan.members.map(\.path.displayPath) == ["d", "d/escape", "d/up"])
        #expect(plan.members.last?.kind == .symlink(target: PathBytes(path: "../../..")))
    }
}
