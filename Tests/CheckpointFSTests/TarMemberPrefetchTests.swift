import Foundation
import Testing
@testable import CheckpointFS

/// The mount reads the diff tar on a second thread, in batches: what it hands over must be
/// what the tar holds, in order, with a fault at the member where it lies, whatever batch
/// boundary that falls on.
@Suite struct TarMemberPrefetchTests {
    /// Member counts around one and several batches.
    static let counts = [0, 1, TarMemberPrefetch.batchSize - 1, TarMemberPrefetch.batchSize,
                         TarMemberPrefetch.batchSize + 1,
                         TarMemberPrefetch.batchSize * (TarMemberPrefetch.depth + 2) + 3]

    static func tar(members count: Int) -> [UInt8] {
        TarBuilder.archive((0..<count).map { .file("d\($0 % 7)/f\($0)", "member \($0)\n") })
    }

    static func write(_ bytes: [UInt8]) throws -> (TemporaryDirectory, String) {
        let scratch = try TemporaryDirectory("prefetch")
        let path = scratch.path("rootfs-diff.tar")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (scratch, path)
    }

    static func prefetch(_ path: String) throws -> TarMemberPrefetch {
        let stream = try TarMemberStream(path: path, displayName: "rootfs-diff.tar")
        return TarMemberPrefetch(stream: stream, size: stream.size, onProgress: nil)
    }

    @Test(arguments: counts)
    func handsOverEveryMemberInOrder(_ count: Int) throws {
        let (scratch, path) = try Self.write(Self.tar(members: count))
        defer { try? scratch.remove() }
        let index = try TarIndex(path: path, displayName: "rootfs-diff.tar")
        let members = try Self.prefetch(path)
        var names: [PathBytes] = []
        var offsets: [Int64] = []
        while let member = try members.next() {
            names.append(member.name)
            offsets.append(member.dataOffset)
        }
        #expect(names == index.members.map(\.name))
        #expect(offsets == index.members.map(\.dataOffset))
        #expect(names.count == count)
        #expect(try members.next() == nil)
        #expect(!members.failed)
    }

    /// A tar cut inside a header after `count` members: the members before the last whole
    /// one are handed over (a member is handed out once the header after it is read), then
    /// the error, which `TarIndex` also throws.
    @Test(arguments: counts.filter { $0 > 0 })
    func throwsWhereTheTarIsBroken(_ count: Int) throws {
        let whole = Self.tar(members: count + 1)
        let cut = Array(whole[..<(TarBytes.blocks(whole).last!.header + 100)])
        let (scratch, path) = try Self.write(cut)
        defer { try? scratch.remove() }
        let indexError = #expect(throws: CheckpointError.self) {
            try TarIndex(path: path, displayName: "rootfs-diff.tar")
        }
        let members = try Self.prefetch(path)
        var handed = 0
        let error = #expect(throws: CheckpointError.self) {
            while try members.next() != nil { handed += 1 }
        }
        #expect(handed == count - 1)
        #expect(members.failed)
        #expect(error.map { "\($0)" } == indexError.map { "\($0)" })
    }

    /// A consumer that stops early (a refused member) releases the prefetch while the
    /// reader is still ahead: the reader stops, nothing waits for ever.
    @Test func consumerStoppingEarlyEndsTheReader() throws {
        let (scratch, path) = try Self.write(Self.tar(members: 5_000))
        defer { try? scratch.remove() }
        for taken in [0, 1, TarMemberPrefetch.batchSize * 3] {
            let members = try Self.prefetch(path)
            for _ in 0..<taken { _ = try members.next() }
        }
    }
}
