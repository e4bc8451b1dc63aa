import CArchive
import CSystem
import Glibc

/// A plain tar file handed to libarchive block by block, through read and skip callbacks of
/// our own, keeping the two blocks it handed last.
///
/// libarchive reads an unknown type flag as a regular file, so each member's flag is read
/// back from its header (`TarIndex.checkTypeFlag`). The header has just been parsed, so its
/// bytes are almost always in a kept block: reading them there spares a pread(2) per member.
/// The calls are those of archive_read_open_fd(3) on a regular file: reads of whole blocks,
/// skips in whole blocks, no seek; only the position is ours, so each read is a pread(2).
final class TarBlockSource {
    static let blockSize = 64 * 1024

    let file: FileDescriptor
    /// Where the next block is read from.
    private var position: Int64 = 0
    /// Two buffers, used in turn: libarchive uses a block until it asks for the next one,
    /// and by then the block before it is no longer read by anyone but us.
    private let buffers: [UnsafeMutableRawBufferPointer]
    /// The file range each buffer holds (empty until it is filled).
    private var held: [Range<Int64>] = [0..<0, 0..<0]
    private var next = 0

    init(file: FileDescriptor) {
        self.file = file
        buffers = (0..<2).map { _ in
            UnsafeMutableRawBufferPointer.allocate(byteCount: Self.blockSize, alignment: 16)
        }
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
    }

    /// Opens `archive` on this file with archive_read_open2(3). The source must outlive
    /// the archive's handle.
    /// - Returns: the status archive_read_open2 returns.
    func open(_ archive: OpaquePointer) -> Int32 {
        archive_read_open2(
            archive, Unmanaged.passUnretained(self).toOpaque(), nil,
            { archive, context, block in
                Unmanaged<TarBlockSource>.fromOpaque(context!).takeUnretainedValue()
                    .read(archive!, into: block!)
            },
            { _, context, request in
                Unmanaged<TarBlockSource>.fromOpaque(context!).takeUnretainedValue()
                    .skip(request)
            },
            nil)
    }

    /// The byte at `offset` in the file: from a kept block when one holds it, otherwise
    /// read with pread(2). nil when it cannot be read.
    func byte(at offset: Int64) -> UInt8? {
        for (index, range) in held.enumerated() where range.contains(offset) {
            return buffers[index].load(fromByteOffset: Int(offset - range.lowerBound),
                                       as: UInt8.self)
        }
        var byte: UInt8 = 0
        return pread(file.raw, &byte, 1, off_t(offset)) == 1 ? byte : nil
    }

    /// The 512-byte block at `offset`, read with pread(2); nil when the file holds less.
    func block(at offset: Int64) -> [UInt8]? {
        var block = [UInt8](repeating: 0, count: 512)
        let count = block.withUnsafeMutableBytes {
            pread(file.raw, $0.baseAddress, 512, off_t(offset))
        }
        return count == 512 ? block : nil
    }

    /// The read callback: the next block; 0 at the end of the file, ARCHIVE_FATAL with the
    /// archive's error set when the read fails.
    private func read(
        _ archive: OpaquePointer,
        into block: UnsafeMutablePointer<UnsafeRawPointer?>
    ) -> la_ssize_t {
        let buffer = buffers[next]
        var count: Int
        repeat {
            count = pread(file.raw, buffer.baseAddress, buffer.count, off_t(position))
        } while count < 0 && ckpt_errno() == EINTR
        guard count >= 0 else {
            ckpt_archive_set_error(archive, ckpt_errno(), "cannot read \(file.path)")
            return la_ssize_t(ARCHIVE_FATAL)
        }
        // The end of the file hands out nothing: both kept blocks stay.
        if count > 0 {
            held[next] = position..<position + Int64(count)
            next = 1 - next
            position += Int64(count)
        }
        block.pointee = UnsafeRawPointer(buffer.baseAddress)
        return count
    }

    /// The skip callback: moves on by the whole blocks in `request`, as the descriptor
    /// reader does (its lseek(2) may also pass the end, where the next read finds nothing);
    /// libarchive reads and drops the rest.
    private func skip(_ request: la_int64_t) -> la_int64_t {
        let skipped = request / la_int64_t(Self.blockSize) * la_int64_t(Self.blockSize)
        position += skipped
        return skipped
    }
}
