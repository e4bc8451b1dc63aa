import CArchive
import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// Type flags read back from the blocks handed to libarchive: a header at each edge of a
/// read block, after data skipped in whole blocks, and bytes no kept block holds.
@Suite struct TarBlockSourceTests {
    typealias Entry = TarBuilder.Entry

    static let block = TarBlockSource.blockSize

    /// Offsets for the header of the member after a padding member: last and first in a
    /// block, the block after next (the padding's data is skipped in whole blocks), and
    /// past a megabyte.
    static let headerOffsets = [block - 512, block, 2 * block - 512, 2 * block,
                                3 * block + 512, 16 * block + 1024]

    /// A tar of a padding file whose data ends at `offset`, then a member of `type`.
    static func tar(headerAt offset: Int, type: UInt8) -> [UInt8] {
        let padding = Entry(name: Array("padding".utf8),
                            content: [UInt8](repeating: 0x70, count: offset - 512))
        var probe = Entry(name: Array("probe".utf8), type: type)
        if type == UInt8(ascii: "0") { probe.content = Array("probe\n".utf8) }
        return TarBuilder.archive([padding, probe])
    }

    static func index(_ bytes: [UInt8]) throws -> TarIndex {
        let scratch = try TemporaryDirectory("blocks")
        let path = scratch.path("rootfs-diff.tar")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try TarIndex(path: path)
    }

    @Test(arguments: headerOffsets)
    func unknownTypeFlagIsRefusedAtEveryBlockEdge(_ offset: Int) throws {
        let bytes = Self.tar(headerAt: offset, type: UInt8(ascii: "Z"))
        #expect(bytes[offset + 156] == UInt8(ascii: "Z"))
        #expect(throws: CheckpointError.self) { try Self.index(bytes) }
        do {
            _ = try Self.index(bytes)
        } catch CheckpointError.refusedMember(_, let member, let reason) {
            #expect(member == "probe")
            #expect(reason == .unknownType("Z"))
        }
    }

    @Test(arguments: headerOffsets)
    func knownTypeFlagIsAppliedAtEveryBlockEdge(_ offset: Int) throws {
        let index = try Self.index(Self.tar(headerAt: offset, type: UInt8(ascii: "0")))
        #expect(index.members.map(\.name.displayPath) == ["padding", "probe"])
        #expect(index.members[1].dataOffset == Int64(offset + 512))
    }

    /// Bytes of blocks handed out before the last two, and past the end of the file.
    @Test func bytesOutsideTheKeptBlocksAreReadFromTheFile() throws {
        let scratch = try TemporaryDirectory("blocks")
        let path = scratch.path("data")
        let size = 5 * Self.block + 100
        let pattern = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 251) }
        try Data(pattern).write(to: URL(fileURLWithPath: path))
        let source = TarBlockSource(file: try FileDescriptor.open(atPath: path))

        // The raw format hands every byte through the read callback, one block at a time.
        let archive = try #require(archive_read_new())
        defer { archive_read_free(archive) }
        archive_read_support_format_raw(archive)
        #expect(source.open(archive) == ARCHIVE_OK)
        var entry: OpaquePointer?
        #expect(archive_read_next_header(archive, &entry) == ARCHIVE_OK)
        var buffer = [UInt8](repeating: 0, count: Self.block)
        var total = 0
        while true {
            let count = archive_read_data(archive, &buffer, buffer.count)
            #expect(count >= 0)
            if count <= 0 { break }
            total += count
        }
        #expect(total == size)

        for offset in [0, 1, Self.block - 1, Self.block, 3 * Self.block + 17,
                       4 * Self.block, size - 1] {
            #expect(source.byte(at: Int64(offset)) == pattern[offset], "offset \(offset)")
        }
        #expect(source.byte(at: Int64(size)) == nil)
    }
}
