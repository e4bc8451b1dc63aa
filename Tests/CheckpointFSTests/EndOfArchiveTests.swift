import Testing
@testable import CheckpointFS

/// Where the diff tar ends. A block of zeros ends it; the reference then reads one block more
/// and refuses the tar unless that block is zeros too or the file ends, so a lone zero block
/// cannot hide the members after it. What follows two zero blocks is ignored, as the
/// reference ignores it, and a tar without its end blocks is read to its last member.
@Suite struct EndOfArchiveTests {
    typealias Entry = TarBuilder.Entry
    static let members = MalformedTarTests.richMembers
    static let zeroBlock = [UInt8](repeating: 0, count: 512)

    /// The headers and data of `entries`, with no end blocks.
    static func body(_ entries: some Sequence<Entry>) -> [UInt8] {
        var builder = TarBuilder()
        builder.append(Array(entries))
        return builder.bytes
    }

    /// A lone zero block before each member in turn, the first included, and before a last
    /// member that has no data (a directory).
    static let loneZeroBlocks: [RawCheckpoint] = {
        var cases = (0..<members.count).map { position in
            RawCheckpoint(
                description: "a lone zero block before member \(position)",
                tar: body(members[..<position]) + zeroBlock + body(members[position...])
                    + zeroBlock + zeroBlock,
                expectation: .refused(file: "rootfs-diff.tar", entry: nil))
        }
        cases.append(RawCheckpoint(
            description: "a lone zero block before a directory",
            tar: body(members) + zeroBlock + body([.directory("late/")]) + zeroBlock + zeroBlock,
            expectation: .refused(file: "rootfs-diff.tar", entry: nil)))
        return cases
    }()

    @Test(arguments: loneZeroBlocks)
    func loneZeroBlockIsRefused(_ checkpoint: RawCheckpoint) throws {
        try MalformedCheck.expect(checkpoint)
    }

    static let endings: [RawCheckpoint] = {
        let all = body(members)
        var garbage = zeroBlock
        garbage.replaceSubrange(0..<12, with: Array("not a header".utf8))
        return [
            ("two zero blocks", all + zeroBlock + zeroBlock),
            ("two zero blocks and a record's padding", all + [UInt8](repeating: 0, count: 9216)),
            ("two zero blocks and bytes after them", all + zeroBlock + zeroBlock + garbage),
            ("one zero block that ends the file", all + zeroBlock),
            ("no end blocks", all),
        ].map { description, tar in
            RawCheckpoint(description: description, tar: tar,
                          expectation: .applied(members: members.count))
        }
    }()

    @Test(arguments: endings)
    func endsTheReferenceAccepts(_ checkpoint: RawCheckpoint) throws {
        try MalformedCheck.expect(checkpoint)
    }

    /// Zero blocks alone are an archive with no members; one followed by a header is not.
    @Test func archiveWithNoMembers() throws {
        try MalformedCheck.expect(RawCheckpoint(
            description: "only zero blocks", tar: Self.zeroBlock + Self.zeroBlock,
            expectation: .applied(members: 0)))
        try MalformedCheck.expect(RawCheckpoint(
            description: "a zero block, then a member",
            tar: Self.zeroBlock + Self.body([Entry.file("only", "x")]) + Self.zeroBlock
                + Self.zeroBlock,
            expectation: .refused(file: "rootfs-diff.tar", entry: nil)))
    }
}
