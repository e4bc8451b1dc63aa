import CArchive
import Glibc

/// One archive read through libarchive, front to back: headers in order, data by block.
///
/// Every decompression filter libarchive knows is enabled, so gzip, zstd, xz and the rest
/// are recognised by their bytes, never by the file name. The reader keeps the descriptor
/// it reads from, so the file that was opened is the file that is read.
final class ArchiveReader {
    /// How the bytes are laid out once decompressed.
    enum Layout {
        /// A tar archive (ustar, PAX, GNU) of members.
        case tar
        /// A single stream with no members: reading it decompresses one file.
        case raw
    }

    /// The header of the member the reader stands on.
    struct Header {
        /// The name exactly as the archive holds it.
        var name: PathBytes
        /// The `AE_IF*` type bits; libarchive reports hard links with type 0.
        var fileType: UInt32
        /// The member is a hard link to an earlier member.
        var isHardLink: Bool
        /// Bytes of data the member holds (its logical size when sparse).
        var size: Int64
        /// The member's modification time, seconds since the epoch.
        var mtime: Int64

        var isRegularFile: Bool { !isHardLink && fileType == CKPT_AE_IFREG }
        var isDirectory: Bool { !isHardLink && fileType == CKPT_AE_IFDIR }
        var isSymlink: Bool { !isHardLink && fileType == CKPT_AE_IFLNK }
    }

    /// The archive's name in messages, such as `ckrich.tar.zst`.
    let displayName: String
    /// Where the bytes come from: kept here so they outlive the reader's handle.
    private let input: Input
    private let handle: OpaquePointer
    /// The name of the current member, for messages.
    private var currentMember: String?
    /// A raw stream's one "member" is the file itself, so messages name no member.
    private let namesMembers: Bool

    /// Opens `file` for reading with archive_read_open_fd(3), every filter enabled.
    ///
    /// - Throws: `CheckpointError.malformedArchive` when libarchive cannot start reading.
    init(file: FileDescriptor, displayName: String, layout: Layout) throws(CheckpointError) {
        self.input = .file(file)
        self.displayName = displayName
        self.handle = Self.makeHandle(layout: layout)
        self.namesMembers = layout == .tar
        // Filters are chosen here, from the first bytes; the format at the first header.
        if archive_read_open_fd(handle, file.raw, 64 * 1024) != ARCHIVE_OK {
            throw failure()
        }
    }

    /// Reads the current member of `outer` as an archive of its own, such as the diff tar
    /// inside an exported checkpoint, with archive_read_open(3) pulling the member's bytes
    /// from `outer` as they are needed: nothing is written anywhere.
    ///
    /// `outer` must stay on that member while this reader is used.
    ///
    /// - Throws: `CheckpointError.malformedArchive` when libarchive cannot start reading.
    init(member outer: ArchiveReader, displayName: String, layout: Layout)
        throws(CheckpointError)
    {
        let stream = MemberStream(outer: outer)
        self.input = .member(stream)
        self.displayName = displayName
        self.handle = Self.makeHandle(layout: layout)
        self.namesMembers = layout == .tar
        let status = archive_read_open(
            handle, Unmanaged.passUnretained(stream).toOpaque(), nil,
            { _, context, buffer in
                Unmanaged<MemberStream>.fromOpaque(context!).takeUnretainedValue()
                    .next(buffer!)
            },
            nil)
        if status != ARCHIVE_OK { throw failure() }
    }

    private static func makeHandle(layout: Layout) -> OpaquePointer {
        guard let handle = archive_read_new() else {
            fatalError("archive_read_new: out of memory")
        }
        archive_read_support_filter_all(handle)
        switch layout {
        case .tar: archive_read_support_format_tar(handle)
        case .raw: archive_read_support_format_raw(handle)
        }
        return handle
    }

    deinit {
        archive_read_free(handle)
    }

    /// Bytes read so far from the file itself (compressed bytes, for a compressed archive),
    /// from archive_filter_bytes(3) of the last filter: the measure of progress through it.
    var bytesRead: Int64 {
        archive_filter_bytes(handle, -1)
    }

    /// libarchive's name of the decompression filter (`gzip`, `zstd`, ...), or `nil` when the
    /// file is not compressed.
    var compression: String? {
        // Filter 0 is the one nearest the format; the last one is the file itself.
        guard archive_filter_count(handle) > 1, let name = archive_filter_name(handle, 0) else {
            return nil
        }
        return String(cString: name)
    }

    /// Moves to the next member with archive_read_next_header(3); `nil` at the end.
    ///
    /// Warnings (such as a name that does not convert to the locale) are not failures.
    func nextHeader() throws(CheckpointError) -> Header? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(handle, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status >= ARCHIVE_WARN, let entry else { throw failure() }

        let name = archive_entry_pathname(entry).map { pointer in
            Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
        } ?? []
        if namesMembers { currentMember = name.displayPath }
        return Header(
            name: name,
            fileType: UInt32(archive_entry_filetype(entry)),
            isHardLink: archive_entry_hardlink(entry) != nil,
            size: archive_entry_size(entry),
            mtime: Int64(archive_entry_mtime(entry))
        )
    }

    /// Hands each block of the current member's data to `body` with its offset in the member,
    /// using archive_read_data_block(3). Blocks of a sparse member leave holes between them.
    ///
    /// - Throws: `CheckpointError.malformedArchive` naming the member when the data cannot be
    ///   read, or what `body` throws.
    func readData(_ body: (_ offset: Int64, _ bytes: UnsafeRawBufferPointer) throws -> Void)
        throws
    {
        var block: UnsafeRawPointer?
        var length = 0
        var offset: Int64 = 0
        while true {
            let status = archive_read_data_block(handle, &block, &length, &offset)
            if status == ARCHIVE_EOF { return }
            guard status >= ARCHIVE_WARN else { throw failure() }
            try body(offset, UnsafeRawBufferPointer(start: block, count: length))
        }
    }

    /// The current member's data in memory, holes filled with zeros.
    ///
    /// - Throws: `CheckpointError.malformedArchive` when the data cannot be read or would
    ///   exceed `limit` bytes.
    func readAll(limit: Int) throws(CheckpointError) -> [UInt8] {
        var contents: [UInt8] = []
        do {
            try readData { offset, bytes in
                let end = Int(offset) + bytes.count
                guard end <= limit else { throw tooLarge(limit: limit) }
                if contents.count < end {
                    contents.append(contentsOf: repeatElement(0, count: end - contents.count))
                }
                contents.replaceSubrange(Int(offset)..<end, with: bytes)
            }
        } catch let error as CheckpointError {
            throw error
        } catch {
            preconditionFailure("readAll: unexpected error \(error)")
        }
        return contents
    }

    private func tooLarge(limit: Int) -> CheckpointError {
        .malformedArchive(file: displayName, member: currentMember,
                          reason: "larger than \(limit) bytes")
    }

    /// The error libarchive reports for the last call, naming the current member if any.
    /// When the bytes came from an outer archive that failed, its error is the cause.
    private func failure() -> CheckpointError {
        if case .member(let stream) = input, let error = stream.failure { return error }
        let reason = archive_error_string(handle).map { String(cString: $0) }
            ?? "libarchive failed without a message"
        return .malformedArchive(file: displayName, member: currentMember, reason: reason)
    }

    /// What a reader reads from.
    private enum Input {
        case file(FileDescriptor)
        case member(MemberStream)
    }

    /// The data of an outer archive's current member, handed to libarchive block by block.
    private final class MemberStream {
        let outer: ArchiveReader
        /// libarchive keeps the pointer it was given until the next call: memory of our own.
        private let buffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: 64 * 1024, alignment: 16)
        /// The outer archive's error, when reading its data failed.
        private(set) var failure: CheckpointError?

        init(outer: ArchiveReader) {
            self.outer = outer
        }

        deinit {
            buffer.deallocate()
        }

        /// The read callback: archive_read_data(3) of the outer member fills holes of sparse
        /// data with zeros, so the inner archive sees the member's bytes exactly.
        /// - Returns: the byte count, 0 at the end, ARCHIVE_FATAL on failure.
        func next(_ pointer: UnsafeMutablePointer<UnsafeRawPointer?>) -> la_ssize_t {
            let count = archive_read_data(outer.handle, buffer.baseAddress, buffer.count)
            if count < 0 {
                failure = outer.failure()
                return la_ssize_t(ARCHIVE_FATAL)
            }
            pointer.pointee = UnsafeRawPointer(buffer.baseAddress)
            return count
        }
    }
}
