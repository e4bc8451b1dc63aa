import Testing
@testable import CheckpointFS

@Suite struct NodeTimeTests {
    static let fitting: [Timestamp] = [
        Timestamp(seconds: 0, nanoseconds: 0),
        Timestamp(seconds: 1_717_000_000, nanoseconds: 123_456_789),
        Timestamp(seconds: -1, nanoseconds: 999_999_999),
        Timestamp(seconds: (1 << 33) - 1, nanoseconds: 999_999_999),
        Timestamp(seconds: -(1 << 33), nanoseconds: 0),
    ]

    static let notFitting: [Timestamp] = [
        Timestamp(seconds: 1 << 33, nanoseconds: 0),
        Timestamp(seconds: -(1 << 33) - 1, nanoseconds: 0),
        Timestamp(seconds: .max, nanoseconds: 0),
        Timestamp(seconds: .min, nanoseconds: 0),
        Timestamp(seconds: 5, nanoseconds: -1),
        Timestamp(seconds: 5, nanoseconds: 1_000_000_000),
        Timestamp(seconds: 0, nanoseconds: (1 << 30) - 1),
    ]

    @Test(arguments: fitting) func heldExactly(time: Timestamp) throws {
        let held = try #require(NodeTime(time))
        #expect(held.timestamp == time)
        #expect(held != .applyTime && held != .elsewhere)
    }

    @Test(arguments: notFitting) func refusedWhenItDoesNotFit(time: Timestamp) {
        #expect(NodeTime(time) == nil)
    }

    @Test func markersHoldNoTime() {
        #expect(NodeTime.applyTime.timestamp == nil)
        #expect(NodeTime.elsewhere.timestamp == nil)
        #expect(NodeTime.applyTime != NodeTime.elsewhere)
        #expect(MemoryLayout<NodeTime>.size == 8)
    }

    @Test(arguments: fitting + notFitting) func nodeKeepsEveryTime(time: Timestamp) {
        let node = ViewNode(type: 0o100000, permissions: 0o644, uid: 0, gid: 0, mtime: time,
                            inode: 3, fromMember: true)
        #expect(node.mtime == time)
        node.mtime = nil
        #expect(node.mtime == nil)
        node.mtime = time
        #expect(node.mtime == time)
    }
}
