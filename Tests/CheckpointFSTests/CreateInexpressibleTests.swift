import CSystem
import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// What no diff tar and deleted list can carry is reported by path, nothing is written
/// unless lossy output is allowed, and then the applied root differs from the changed one
/// exactly where the report says.
@Suite struct CreateInexpressibleTests {
    static func reported(_ plan: DiffPlan) -> [String] {
        plan.inexpressible.map(\.description)
    }

    @Test func rootChangesRefuseAndWriteNothing() throws {
        let scratch = try CreateScratch()
        try scratch.inBase.file("kept", "k")
        try scratch.copyBaseToChanged()
        try scratch.inChanged.file("added-in-root", "new")
        try scratch.inChanged.mode(".", 0o700)

        #expect {
            try CheckpointDiff.create(basePath: scratch.base, changedPath: scratch.changed,
                                      outputPath: scratch.output)
        } throws: { error in
            guard case CreateError.inexpressible(let changes) = error else { return false }
            return changes.map(\.reason) == [.rootMetadata(fields: ["mode", "mtime"]),
                                             .rootTimeStamped]
                && changes.allSatisfy { $0.path == [UInt8(ascii: "/")] }
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.output))

        try scratch.createAndApply()
        let difference = try scratch.appliedDifference()
        #expect(CreateScratch.paths(difference) == ["."], "\(difference)")
        #expect(difference.contains { $0.hasPrefix("- . type=d mode=0700 ") })
        #expect(difference.contains { $0.hasPrefix("+ . type=d mode=0755 ") })
    }

    @Test func withoutRebuildDeletionsStampTheirDirectories() throws {
        let scratch = try CreateScratch()
        try CreateRoundTripTests.makeRichPair(scratch)
        let (plan, _) = try scratch.createAndApply(
            options: CreateOptions(rebuildDirectories: false, allowLossy: true))

        #expect(plan.rebuiltDirectories.isEmpty)
        #expect(plan.deletedPaths.map(\.displayPath) == [
            "/outer/top/dirs/recreated/old.txt", "/outer/top/dirs/recreated/sub",
            "/outer/top/gone/delete-me.txt", "/outer/top/gone/deleted-dir",
            "/outer/top/gone/fifo-old",
        ])
        #expect(Self.reported(plan) == [
            "/outer/top/dirs/recreated: entries were deleted in it; the deleted list runs last "
                + "and leaves its mtime at the time of the restore",
            "/outer/top/dirs/xattr-gone: xattrs removed (user.old); a directory header can "
                + "only set xattrs",
            "/outer/top/gone: entries were deleted in it; the deleted list runs last and "
                + "leaves its mtime at the time of the restore",
        ])
        let difference = try scratch.appliedDifference()
        #expect(CreateScratch.paths(difference) == [
            "outer/top/dirs/recreated", "outer/top/dirs/xattr-gone", "outer/top/gone",
        ], "\(difference)")
        // Only the mtimes and the xattr differ: each path's lines agree without them.
        let rest = try scratch.appliedDifference(ignoring: [.mtime, .xattrs])
        #expect(rest.isEmpty, "\(rest)")
    }

    @Test func eachStampedDirectoryIsReportedOnce() throws {
        let scratch = try CreateScratch()
        for directory in ["top", "top/d", "top/d/b"] { try scratch.inBase.directory(directory) }
        for file in ["top/d/a", "top/d/b/x", "top/d/c"] { try scratch.inBase.file(file, "") }
        try scratch.copyBaseToChanged()
        for file in ["top/d/a", "top/d/b/x", "top/d/c"] { try scratch.inChanged.remove(file) }

        let plan = try CheckpointDiff.plan(
            base: try FileDescriptor.openDirectory(atPath: scratch.base),
            changed: try FileDescriptor.openDirectory(atPath: scratch.changed),
            options: CreateOptions(rebuildDirectories: false))
        #expect(plan.deletedPaths.map(\.displayPath) == ["/top/d/a", "/top/d/b/x", "/top/d/c"])
        #expect(plan.inexpressible.map(\.path.displayPath) == ["/top/d", "/top/d/b"])
        #expect(plan.inexpressible.allSatisfy { $0.reason == .directoryTimeStampedByDeletion })
    }

    @Test func emptyXattrValuesAndSocketsAreReported() throws {
        let scratch = try CreateScratch()
        try scratch.inBase.directory("d")
        try scratch.copyBaseToChanged()
        try scratch.inChanged.file("d/empty-xattr", "e")
        try scratch.inChanged.xattr("d/empty-xattr", "user.empty", "")
        try makeSocket(scratch.inChanged.full("d/socket"))

        let (plan, _) = try scratch.createAndApply()
        #expect(plan.inexpressible.map(\.path.displayPath) == ["/d/empty-xattr", "/d/socket"])
        #expect(plan.inexpressible.map(\.reason) == [.emptyXattrValue(name: "user.empty"),
                                                     .socket])
        let difference = try scratch.appliedDifference()
        #expect(CreateScratch.paths(difference) == ["d/empty-xattr", "d/socket"])
        #expect(difference.contains { $0.hasPrefix("- d/socket type=s ") })
        #expect(!difference.contains { $0.hasPrefix("+ d/socket ") })
        #expect(try scratch.appliedDifference(ignoring: [.xattrs]).count == 1)
    }

    @Test func hardLinkToSetuidFileIsReported() throws {
        let scratch = try CreateScratch()
        try scratch.inBase.directory("d")
        try scratch.copyBaseToChanged()
        try scratch.inChanged.file("d/tool", "#!/bin/true\n", mode: 0o4755)
        try scratch.inChanged.hardLink("d/tool-again", to: "d/tool")

        let (plan, _) = try scratch.createAndApply()
        #expect(Self.reported(plan) == [
            "/d/tool: a hard-link member chowns the shared inode, which clears its setuid, "
                + "setgid and security.capability",
        ])
        let difference = try scratch.appliedDifference()
        #expect(CreateScratch.paths(difference) == ["d/tool", "d/tool-again"], "\(difference)")
        #expect(difference.filter { $0.hasPrefix("- ") }.allSatisfy { $0.contains(" mode=4755 ") })
        #expect(difference.filter { $0.hasPrefix("+ ") }.allSatisfy { $0.contains(" mode=0755 ") })
    }

    @Test func deletedNamesThatAreNotUTF8AreReported() throws {
        let scratch = try CreateScratch()
        try scratch.inBase.file(in: ".", named: Array("bad".utf8) + [0xff], "b")
        try scratch.copyBaseToChanged()
        try FileDescriptor.openDirectory(atPath: scratch.changed)
            .removeTree(Array("bad".utf8) + [0xff])

        let plan = try CheckpointDiff.plan(
            base: try FileDescriptor.openDirectory(atPath: scratch.base),
            changed: try FileDescriptor.openDirectory(atPath: scratch.changed))
        #expect(plan.deletedPaths == [Array("/bad".utf8) + [0xff]])
        #expect(plan.inexpressible.map(\.reason) == [
            .rootMetadata(fields: ["mtime"]), .rootTimeStamped, .deletedPathNotUTF8,
        ])
    }

    /// Trusting mtimes misses an edit that keeps size and mtime; comparing bytes (the
    /// default) does not.
    @Test func trustingTimesMissesSameSizeEdits() throws {
        let scratch = try CreateScratch()
        try scratch.inBase.directory("d")
        try scratch.inBase.file("d/f", "1111")
        try scratch.inBase.time("d/f", 1_500_000_000)
        try scratch.copyBaseToChanged()
        try scratch.inChanged.file("d/f", "2222")
        try scratch.inChanged.time("d/f", 1_500_000_000)
        let base = try FileDescriptor.openDirectory(atPath: scratch.base)
        let changed = try FileDescriptor.openDirectory(atPath: scratch.changed)

        let exact = try CheckpointDiff.changes(base: base, changed: changed)
        #expect(exact.map(\.line) == ["C /d/f"])
        let trusting = try CheckpointDiff.changes(
            base: base, changed: changed, options: CreateOptions(compareContents: false))
        #expect(trusting.isEmpty)
    }

    /// bind(2) of a Unix socket at `path`, closed at once: the socket file stays.
    private func makeSocket(_ path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(result == 0)
    }
}
