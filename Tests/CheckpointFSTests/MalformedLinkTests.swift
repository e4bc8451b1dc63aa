import Testing
@testable import CheckpointFS

/// Hard links that loop or chain, symlinks that loop or chain past the kernel's limit of 40:
/// loops and over-long chains are refused naming the member or path; chains within the
/// limit are applied, the view showing what the commit wrote.
@Suite struct MalformedLinkTests {
    typealias Entry = TarBuilder.Entry

    /// Two members linking to each other: the first link's target does not exist yet.
    @Test func hardLinkLoop() throws {
        try MalformedCheck.expect(RawCheckpoint(
            description: "hard link loop",
            tar: TarBuilder.archive([.hardLink("h1", to: "h2"), .hardLink("h2", to: "h1")]),
            expectation: .refused(file: "rootfs-diff.tar", entry: "h1")))
    }

    /// A link replacing the file it links to: once the name is removed, the target is gone.
    @Test func hardLinkToItselfAfterReplacing() throws {
        try MalformedCheck.expect(RawCheckpoint(
            description: "hard link to itself",
            tar: TarBuilder.archive([.file("f", "x\n"), .hardLink("f", to: "f")]),
            expectation: .refused(file: "rootfs-diff.tar", entry: "f")))
    }

    /// A chain of 200 links, each to the one before, over a member and over a lower file:
    /// one inode with 201 names.
    @Test(arguments: ["member", "data/a"])
    func hardLinkChain(_ start: String) throws {
        var members: [Entry] = start == "member" ? [.file("member", "start\n")] : []
        var previous = start
        for index in 0..<200 {
            members.append(.hardLink("chain/l\(index)", to: previous))
            previous = "chain/l\(index)"
        }
        try MalformedCheck.expect(RawCheckpoint(
            description: "hard link chain from \(start)", tar: TarBuilder.archive(members),
            expectation: .applied(members: members.count)))
    }

    /// `s0 -> s1 -> ... -> sN -> data`, then a member written through `s0`: 40 symlinks is
    /// the kernel's limit and is followed; 41 is refused.
    @Test(arguments: [40, 41])
    func symlinkChain(_ length: Int) throws {
        var members: [Entry] = (0..<length).map { index in
            .symlink("s\(index)", to: index + 1 < length ? "s\(index + 1)" : "data")
        }
        members.append(.file("s0/through", "written through the chain\n"))
        try MalformedCheck.expect(RawCheckpoint(
            description: "symlink chain of \(length)", tar: TarBuilder.archive(members),
            expectation: length <= 40 ? .applied(members: members.count)
                : .refused(file: "rootfs-diff.tar", entry: "s0/through")))
    }

    /// The same chains met by a deleted path.
    @Test(arguments: [40, 41])
    func symlinkChainInADeletedPath(_ length: Int) throws {
        let members: [Entry] = (0..<length).map { index in
            .symlink("s\(index)", to: index + 1 < length ? "s\(index + 1)" : "data")
        }
        try MalformedCheck.expect(RawCheckpoint(
            description: "deleted path through a symlink chain of \(length)",
            tar: TarBuilder.archive(members), deleted: Array(#"["/s0/a"]"#.utf8),
            expectation: length <= 40 ? .applied(members: members.count)
                : .refused(file: "deleted.files", entry: "/s0/a")))
    }

    /// Loops of one, two and three symlinks, met by a member and by a deleted path.
    @Test(arguments: [1, 2, 3], [false, true])
    func symlinkLoop(_ size: Int, _ byDeletedPath: Bool) throws {
        var members: [Entry] = (0..<size).map { index in
            .symlink("loop\(index)", to: "loop\((index + 1) % size)")
        }
        if !byDeletedPath { members.append(.file("loop0/x", "x\n")) }
        try MalformedCheck.expect(RawCheckpoint(
            description: "symlink loop of \(size)\(byDeletedPath ? " in a deleted path" : "")",
            tar: TarBuilder.archive(members),
            deleted: byDeletedPath ? Array(#"["/loop0/x"]"#.utf8) : nil,
            expectation: byDeletedPath ? .refused(file: "deleted.files", entry: "/loop0/x")
                : .refused(file: "rootfs-diff.tar", entry: "loop0/x")))
    }

    /// A directory member later replaced by a symlink into a loop: its time is set by name
    /// after the last member, and the name leads round the loop.
    @Test func directoryTimeThroughALoop() throws {
        try MalformedCheck.expect(RawCheckpoint(
            description: "directory time through a loop",
            tar: TarBuilder.archive([.directory("x/"), .symlink("x", to: "y"),
                                     .symlink("y", to: "x")]),
            expectation: .refused(file: "rootfs-diff.tar", entry: "x/")))
    }
}
