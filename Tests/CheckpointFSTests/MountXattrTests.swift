import CheckpointMount
import CSystem
import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// xattrs through the mount: size 0 asks for the length, a buffer too small is ERANGE, an
/// absent name is ENODATA, for values from the diff tar and from the lower root alike.
@Suite struct MountXattrTests {
    static let longValue = Array(repeating: UInt8(ascii: "x"), count: 300)

    static func scratch() throws -> MountScratch {
        let scratch = try MountScratch(members: [
            TarBuilder.Entry(name: Array("fromtar".utf8), content: Array("t\n".utf8), pax: [
                ("SCHILY.xattr.user.k", Array("value".utf8)),
                ("SCHILY.xattr.user.long", longValue),
            ]),
        ])
        try scratch.writeLower("lower", "l\n")
        try scratch.writeLower("plain", "p\n")
        let lower = scratch.root + "/lower"
        try #require(setxattr(lower, "user.k", "value", 5, 0) == 0)
        try #require(longValue.withUnsafeBytes {
            setxattr(lower, "user.long", $0.baseAddress, $0.count, 0)
        } == 0)
        return scratch
    }

    /// lgetxattr(2) into a buffer of `size` bytes: the result, errno, and the bytes read.
    static func get(_ path: String, _ name: String, size: Int) -> (Int, Int32, [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: max(size, 1))
        errno = 0
        let result = buffer.withUnsafeMutableBytes {
            lgetxattr(path, name, size == 0 ? nil : $0.baseAddress, size)
        }
        return (result, errno, Array(buffer.prefix(max(result, 0))))
    }

    /// llistxattr(2) into a buffer of `size` bytes.
    static func list(_ path: String, size: Int) -> (Int, Int32, [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: max(size, 1))
        errno = 0
        let result = buffer.withUnsafeMutableBytes {
            llistxattr(path, size == 0 ? nil : $0.baseAddress?.assumingMemoryBound(to: CChar.self),
                       size)
        }
        return (result, errno, Array(buffer.prefix(max(result, 0))))
    }

    @Test(arguments: ["fromtar", "lower"])
    func valuesAreProbedLikeOnADisk(file: String) throws {
        let scratch = try Self.scratch()
        let mount = try scratch.mount()
        let path = mount.path(file)

        #expect(Self.get(path, "user.k", size: 0).0 == 5)
        let tooSmall = Self.get(path, "user.k", size: 4)
        #expect(tooSmall.0 == -1 && tooSmall.1 == ERANGE)
        let exact = Self.get(path, "user.k", size: 5)
        #expect(exact.0 == 5 && exact.2 == Array("value".utf8))

        #expect(Self.get(path, "user.long", size: 0).0 == Self.longValue.count)
        let long = Self.get(path, "user.long", size: 4096)
        #expect(long.2 == Self.longValue)
        let absent = Self.get(path, "user.absent", size: 64)
        #expect(absent.0 == -1 && absent.1 == ENODATA)

        let names = Array("user.k\0user.long\0".utf8)
        let length = Self.list(path, size: 0)
        #expect(length.0 == names.count)
        let short = Self.list(path, size: names.count - 1)
        #expect(short.0 == -1 && short.1 == ERANGE)
        let listed = Self.list(path, size: names.count)
        #expect(Set(listed.2.split(separator: 0)) == Set(names.split(separator: 0)))
        #expect(MountHarness.exitCode(mount.unmount()) == 0, "\(mount.log())")
    }

    @Test func aFileWithoutXattrsListsNone() throws {
        let scratch = try Self.scratch()
        let mount = try scratch.mount()
        #expect(Self.list(mount.path("plain"), size: 0).0 == 0)
        let absent = Self.get(mount.path("plain"), "user.k", size: 0)
        #expect(absent.0 == -1 && absent.1 == ENODATA)
        #expect(MountHarness.exitCode(mount.unmount()) == 0, "\(mount.log())")
    }
}
