import CheckpointMount
import CSystem
import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// Directory listings and inode numbers through the mount: a large directory read with
/// small getdents buffers, `d_ino` against `st_ino`, hard links sharing one inode.
@Suite struct MountDirectoryTests {
    /// glibc's getdents64(2) wrapper, which Swift's Glibc module does not declare.
    typealias Getdents = @convention(c) (Int32, UnsafeMutableRawPointer?, Int) -> Int
    static let getdents64: Getdents = {
        guard let symbol = dlsym(nil, "getdents64") else { fatalError("no getdents64") }
        return unsafeBitCast(symbol, to: Getdents.self)
    }()

    struct Listed: Equatable {
        var name: String
        var inode: UInt64
    }

    /// Reads a whole directory with getdents64 calls of `bufferSize` bytes.
    static func list(_ path: String, bufferSize: Int) throws -> [Listed] {
        let directory = try FileDescriptor.openDirectory(atPath: path)
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        var listed: [Listed] = []
        while true {
            let count = buffer.withUnsafeMutableBytes {
                getdents64(directory.raw, $0.baseAddress, $0.count)
            }
            if count == 0 { return listed }
            guard count > 0 else {
                throw SystemError(errno: errno, operation: "getdents64", path: path)
            }
            // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
            var offset = 0
            while offset < count {
                let inode = buffer[offset..<offset + 8].reversed()
                    .reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let length = Int(buffer[offset + 16]) | Int(buffer[offset + 17]) << 8
                let name = buffer[(offset + 19)..<(offset + length)].prefix { $0 != 0 }
                listed.append(Listed(name: String(decoding: name, as: UTF8.self), inode: inode))
                offset += length
            }
        }
    }

    static func inode(_ path: String) throws -> UInt64 {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw SystemError(errno: errno, operation: "lstat", path: path)
        }
        return UInt64(info.st_ino)
    }

    static func name(_ prefix: String, _ number: Int) -> String {
        prefix + String(String(number + 100_000).dropFirst())
    }

    /// 10,000 lower files, 1,000 added by the tar, one replaced by it, 200 deleted.
    @Test func largeDirectoryListsEveryEntryOnceWithSmallBuffers() throws {
        let scratch = try MountScratch(
            members: (0..<1000).map { .file("big/" + Self.name("t", $0), "tar \($0)\n") }
                + [.file("big/" + Self.name("f", 500), "replaced\n")],
            deleted: (0..<200).map { "/big/" + Self.name("f", $0) })
        let lower = scratch.root + "/big"
        try FileManager.default.createDirectory(atPath: lower, withIntermediateDirectories: false)
        for number in 0..<10_000 {
            let descriptor = open(lower + "/" + Self.name("f", number), O_WRONLY | O_CREAT, 0o644)
            try #require(descriptor >= 0)
            close(descriptor)
        }
        let expected = Set((200..<10_000).map { Self.name("f", $0) }
            + (0..<1000).map { Self.name("t", $0) })
        let mount = try scratch.mount()
        let big = mount.path("big")

        // The smallest buffer first, before the kernel has cached any of the listing.
        for bufferSize in [48, 100, 1000, 32768] {
            let listed = try Self.list(big, bufferSize: bufferSize)
            let names = listed.map(\.name).filter { $0 != "." && $0 != ".." }
            #expect(names.count == expected.count, "buffer \(bufferSize)")
            let missing = expected.subtracting(names).sorted()
            let unexpected = Set(names).subtracting(expected).sorted()
            #expect(missing.isEmpty, "buffer \(bufferSize): missing \(missing.prefix(5))")
            #expect(unexpected.isEmpty, "buffer \(bufferSize): unexpected \(unexpected.prefix(5))")
            #expect(listed.filter { $0.name == "." }.map(\.inode) == [try Self.inode(big)])
            #expect(listed.filter { $0.name == ".." }.map(\.inode)
                == [try Self.inode(mount.mountPoint)])

            let mismatched = try listed.filter { $0.name != "." && $0.name != ".." }
                .filter { try Self.inode(big + "/" + $0.name) != $0.inode }
            #expect(mismatched.isEmpty, "d_ino != st_ino: \(mismatched.prefix(3))")
        }
        #expect(try String(contentsOfFile: big + "/" + Self.name("f", 500), encoding: .utf8)
            == "replaced\n")
        #expect(MountHarness.exitCode(mount.unmount()) == 0, "\(mount.log())")
    }

    /// A stat of each entry after a listing is answered from what readdirplus gave the
    /// kernel, on every page of the listing: no LOOKUP per entry, which is what a find
    /// over a large tree would otherwise pay.
    @Test func statAfterListingNeedsNoLookups() throws {
        let scratch = try MountScratch(
            members: (0..<300).map { .file("big/" + Self.name("t", $0), "tar \($0)\n") })
        for number in 0..<300 { try scratch.writeLower("big/" + Self.name("f", number), "") }
        let mount = try scratch.mount(extra: ["-d"])
        let big = mount.path("big")
        let names = try Self.list(big, bufferSize: 32768).map(\.name)
            .filter { $0 != "." && $0 != ".." }
        #expect(names.count == 600)

        // The debug trace names each request's opcode as libfuse receives it.
        func lookups() -> Int { mount.log().components(separatedBy: "opcode: LOOKUP").count }
        let before = lookups()
        for name in names { _ = try Self.inode(big + "/" + name) }
        #expect(lookups() == before)
        #expect(MountHarness.exitCode(mount.unmount()) == 0, "\(mount.log())")
    }

    /// Names of one inode share its number and show the link count a commit would give,
    /// whichever name is looked up first.
    @Test func hardLinksShareOneInode() throws {
        let scratch = try MountScratch(members: [
            .hardLink("tarlink", to: "a"),
            .file("x", "from the tar\n"),
            .hardLink("y", to: "x"),
        ])
        try scratch.writeLower("a", "lower a\n")
        try #require(link(scratch.root + "/a", scratch.root + "/alink") == 0)
        let mount = try scratch.mount()

        var infos: [String: stat] = [:]
        for name in ["alink", "tarlink", "a", "y", "x"] {
            var info = stat()
            #expect(lstat(mount.path(name), &info) == 0, "\(name)")
            infos[name] = info
        }
        let lowerGroup = ["a", "alink", "tarlink"].compactMap { infos[$0] }
        #expect(Set(lowerGroup.map(\.st_ino)).count == 1)
        #expect(lowerGroup.map(\.st_nlink) == [3, 3, 3])
        let tarGroup = ["x", "y"].compactMap { infos[$0] }
        #expect(Set(tarGroup.map(\.st_ino)).count == 1)
        #expect(tarGroup.map(\.st_nlink) == [2, 2])
        #expect(tarGroup[0].st_ino != lowerGroup[0].st_ino)
        #expect(try TestFile.bytes(atPath: mount.path("tarlink")) == Array("lower a\n".utf8))

        let listed = try Self.list(mount.mountPoint, bufferSize: 4096)
        for entry in listed where infos[entry.name] != nil {
            #expect(entry.inode == UInt64(infos[entry.name]!.st_ino), "\(entry.name)")
        }
        #expect(MountHarness.exitCode(mount.unmount()) == 0, "\(mount.log())")
    }
}
