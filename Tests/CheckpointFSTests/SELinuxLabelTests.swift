import CSELinux
import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// These tests mount file systems, which needs root (as in CI).
@Suite struct SELinuxLabelTests {
    static let label = "system_u:object_r:container_log_t:s0:c1,c2"

    /// The stored `security.selinux` value of `path`: libselinux keeps the trailing NUL.
    static func storedLabel(_ path: String) throws -> [UInt8]? {
        let file = try FileDescriptor.open(atPath: path)
        return try file.extendedAttribute(PathBytes(path: "security.selinux"))
    }

    @Test func kernelHereHasNoSELinux() {
        // The xattr fallback below is what these tests exercise.
        #expect(is_selinux_enabled() == 0)
    }

    @Test func labelIsStoredOnTmpfs() throws {
        let mount = try ScratchMount(type: "tmpfs")
        try SELinuxLabel.createFile(named: "dump.log", in: mount.path, label: Self.label)

        let path = mount.path + "/dump.log"
        var info = stat()
        #expect(lstat(path, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFREG)
        #expect(info.st_mode & 0o7777 == 0o600)
        #expect(info.st_size == 0)
        #expect(try Self.storedLabel(path) == Array(Self.label.utf8) + [0])
    }

    @Test func existingFileIsRelabelledAndKept() throws {
        let mount = try ScratchMount(type: "tmpfs")
        let path = mount.path + "/restore.log"
        try Data("earlier\n".utf8).write(to: URL(fileURLWithPath: path))

        try SELinuxLabel.createFile(named: "restore.log", in: mount.path, label: Self.label)
        #expect(try contents(path) == Data("earlier\n".utf8))
        #expect(try Self.storedLabel(path) == Array(Self.label.utf8) + [0])
    }

    @Test func fileSystemWithoutXattrsRefusesAndLeavesNoFile() throws {
        // ramfs has no xattr handlers at all.
        let mount = try ScratchMount(type: "ramfs")
        let error = try #require(throws: SELinuxLabelError.self) {
            try SELinuxLabel.createFile(named: "dump.log", in: mount.path, label: Self.label)
        }
        #expect(error == .refused(path: mount.path + "/dump.log", label: Self.label,
                                  errno: EOPNOTSUPP, selinuxEnabled: false))
        #expect(error.description.contains("does not store security.selinux xattrs"))
        #expect(!FileManager.default.fileExists(atPath: mount.path + "/dump.log"))
    }

    @Test func readOnlyFileSystemRefuses() throws {
        let mount = try ScratchMount(type: "tmpfs")
        let path = mount.path + "/dump.log"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        try runCommand(["mount", "-o", "remount,ro", mount.path])

        let error = try #require(throws: SELinuxLabelError.self) {
            try SELinuxLabel.createFile(named: "dump.log", in: mount.path, label: Self.label)
        }
        #expect(error.description.contains("mounted read-only"))
        #expect(try Self.storedLabel(path) == nil)

        // A file that cannot even be created is a system error naming it.
        #expect(throws: SystemError(errno: EROFS, operation: "openat",
                                    path: mount.path + "/new.log")) {
            try SELinuxLabel.createFile(named: "new.log", in: mount.path, label: Self.label)
        }
    }

    @Test func symlinkIsNotFollowed() throws {
        let mount = try ScratchMount(type: "tmpfs")
        let target = mount.path + "/target"
        #expect(FileManager.default.createFile(atPath: target, contents: nil))
        try FileManager.default.createSymbolicLink(atPath: mount.path + "/link",
                                                   withDestinationPath: target)
        #expect(throws: SystemError.self) {
            try SELinuxLabel.createFile(named: "link", in: mount.path, label: Self.label)
        }
        #expect(try Self.storedLabel(target) == nil)
    }

    @Test(arguments: ["", ".", "..", "a/b", "/abs"])
    func namesThatAreNotOneComponentAreRefused(name: String) throws {
        let scratch = try ScratchDirectory()
        #expect(throws: SELinuxLabelError.invalidName(name)) {
            try SELinuxLabel.createFile(named: name, in: scratch.path, label: Self.label)
        }
    }
}

/// A file system of `type` mounted on a fresh directory, unmounted when dropped.
final class ScratchMount {
    let directory: ScratchDirectory
    var path: String { directory.path }

    init(type: String) throws {
        directory = try ScratchDirectory()
        try runCommand(["mount", "-t", type, "-o", "size=4m", "none", directory.path])
    }

    deinit {
        _ = try? runCommand(["umount", directory.path], allowFailure: true)
    }
}

@Suite struct LabelCommandTests {
    @Test func labelsAFileOnTmpfs() throws {
        let mount = try ScratchMount(type: "tmpfs")
        let result = try BuiltTool.run(["label", mount.path, "restore.log",
                                        SELinuxLabelTests.label])
        #expect(result.status == 0, "\(result.error)")
        #expect(try SELinuxLabelTests.storedLabel(mount.path + "/restore.log")
                == Array(SELinuxLabelTests.label.utf8) + [0])
    }

    @Test func refusalIsExplainedOnRamfs() throws {
        let mount = try ScratchMount(type: "ramfs")
        let result = try BuiltTool.run(["label", mount.path, "restore.log",
                                        SELinuxLabelTests.label])
        #expect(result.status == 1)
        #expect(result.error.contains("does not store security.selinux xattrs"),
                "\(result.error)")
        #expect(try BuiltTool.run(["label", mount.path, "only-two"]).status == 2)
    }
}
