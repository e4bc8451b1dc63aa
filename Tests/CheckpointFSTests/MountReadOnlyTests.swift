import CheckpointMount
import CSystem
import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// Every request that would write answers EROFS: from the kernel while the mount is
/// read-only, and from the daemon itself once the mount is forced read-write.
@Suite struct MountReadOnlyTests {
    struct Write: CustomStringConvertible, Sendable {
        var description: String
        /// Performs the write on the view at `root`; returns the call's result (-1 on error).
        var attempt: @Sendable (_ root: String) -> Int
    }

    static let writes: [Write] = [
        Write(description: "open O_WRONLY") { closing(open($0 + "/data/old", O_WRONLY)) },
        Write(description: "open O_RDWR") { closing(open($0 + "/data/old", O_RDWR)) },
        Write(description: "open O_TRUNC") {
            closing(open($0 + "/data/old", O_RDONLY | O_TRUNC))
        },
        Write(description: "create") {
            closing(open($0 + "/data/created", O_WRONLY | O_CREAT | O_EXCL, 0o644))
        },
        Write(description: "mkdir") { Int(mkdir($0 + "/made", 0o755)) },
        Write(description: "rmdir") { Int(rmdir($0 + "/empty")) },
        Write(description: "unlink") { Int(unlink($0 + "/data/old")) },
        Write(description: "rename") { Int(rename($0 + "/data/old", $0 + "/data/moved")) },
        Write(description: "symlink") { Int(symlink("old", $0 + "/data/link")) },
        Write(description: "link") { Int(link($0 + "/data/old", $0 + "/data/hard")) },
        Write(description: "mknod") { Int(mkfifo($0 + "/data/fifo", 0o644)) },
        Write(description: "truncate") { Int(truncate($0 + "/data/old", 0)) },
        Write(description: "chmod") { Int(chmod($0 + "/data/old", 0o600)) },
        Write(description: "chown") { Int(lchown($0 + "/data/old", 1, 1)) },
        Write(description: "utimensat") {
            Int(utimensat(CKPT_AT_FDCWD, $0 + "/data/old", nil, 0))
        },
        Write(description: "setxattr") {
            Int(setxattr($0 + "/data/old", "user.new", "v", 1, 0))
        },
        Write(description: "removexattr") { Int(removexattr($0 + "/data/new", "user.k")) },
        Write(description: "access W_OK") { Int(access($0 + "/data/old", W_OK)) },
    ]

    private static func closing(_ descriptor: Int32) -> Int {
        if descriptor >= 0 { close(descriptor) }
        return Int(descriptor)
    }

    static func scratch() throws -> MountScratch {
        let scratch = try MountScratch(members: [
            TarBuilder.Entry(name: Array("data/new".utf8), content: Array("tar\n".utf8),
                             pax: [("SCHILY.xattr.user.k", Array("v".utf8))]),
            .directory("empty"),
        ])
        try scratch.writeLower("data/old", "lower\n")
        return scratch
    }

    /// The result and errno of each write, in table order.
    static func attemptAll(on root: String) -> [String] {
        writes.map { write in
            errno = 0
            let result = write.attempt(root)
            let outcome = result == -1 ? String(cString: strerror(errno)) : "done"
            return "\(write.description): \(outcome)"
        }
    }

    static func expectedAll() -> [String] {
        writes.map { "\($0.description): \(String(cString: strerror(EROFS)))" }
    }

    @Test func theKernelRefusesWritesToTheReadOnlyMount() throws {
        let scratch = try Self.scratch()
        let mount = try scratch.mount()
        #expect(Self.attemptAll(on: mount.mountPoint) == Self.expectedAll())
        #expect(MountHarness.exitCode(mount.unmount()) == 0, "\(mount.log())")
    }

    /// A remount read-write (mount(2) with MS_REMOUNT, as root can) lets every request
    /// reach the daemon, whose answer is EROFS all the same. access(2) is the exception: with
    /// default_permissions the kernel answers it from the modes alone, so root hears yes,
    /// and the write that follows is still refused.
    @Test func theDaemonRefusesWritesWhenRemountedReadWrite() throws {
        let scratch = try Self.scratch()
        let mount = try scratch.mount()
        let remounted = Glibc.mount(nil, mount.mountPoint, nil, UInt(MS_REMOUNT), nil)
        try #require(remounted == 0, "remount: \(String(cString: strerror(errno)))")
        var info = statvfs()
        #expect(statvfs(mount.mountPoint, &info) == 0)
        #expect(info.f_flag & UInt(ST_RDONLY) == 0)

        var expected = Self.expectedAll()
        expected[expected.count - 1] = "access W_OK: done"
        #expect(Self.attemptAll(on: mount.mountPoint) == expected)
        #expect(try TestFile.bytes(atPath: mount.path("data/old")) == Array("lower\n".utf8))
        #expect(try TestFile.bytes(atPath: scratch.root + "/data/old")
            == Array("lower\n".utf8))
        #expect(MountHarness.exitCode(mount.unmount()) == 0, "\(mount.log())")
    }
}
