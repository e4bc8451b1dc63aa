import CArchive
import CSystem
import Glibc

/// Writes a diff tar with libarchive's write API.
///
/// Headers are POSIX ustar; a PAX record is added only for what ustar cannot hold: a long or
/// non-ASCII name or link target, an id or size too large, a non-zero nanosecond mtime, and
/// xattrs as `SCHILY.xattr.*`. Owners are numeric only (no user or group names). Regular
/// files with holes are written as PAX sparse members. The archive ends with the two zero
/// blocks and no padding, as podman's does.
final class DiffTarWriter {
    private let archive: OpaquePointer
    /// The tar as the user knows it, for messages.
    let displayName: String
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)

    /// Starts a tar on `output`, which must stay open until `finish()`.
    init(output: FileDescriptor, displayName: String) throws {
        self.displayName = displayName
        ArchiveLocale.setOnce()
        guard let archive = archive_write_new() else {
            throw CreateError.archive(file: displayName, member: nil,
                                      reason: "libarchive could not start a writer")
        }
        self.archive = archive
        // Full "pax" rather than "pax restricted": the restricted writer keeps nanoseconds
        // only when another field already needs a PAX header. Both write a plain ustar
        // header when nothing does, since we never set atime or ctime.
        try require(archive_write_set_format_pax(archive), member: nil)
        // Only SCHILY.xattr.* records: the LIBARCHIVE.xattr.* twins would make libarchive
        // readers see every xattr twice, and podman does not write them.
        try require(archive_write_set_format_option(archive, "pax", "xattrheader", "SCHILY"),
                    member: nil)
        try require(archive_write_set_bytes_in_last_block(archive, 1), member: nil)
        try require(archive_write_open_fd(archive, output.raw), member: nil)
    }

    deinit {
        archive_write_free(archive)
    }

    /// Writes one member; a regular file's data is read from `root`, the changed root,
    /// at the member's path.
    func write(_ member: PlannedMember, from root: FileDescriptor) throws {
        guard let entry = archive_entry_new() else {
            throw CreateError.archive(file: displayName, member: member.path.displayPath,
                                      reason: "libarchive could not make an entry")
        }
        defer { archive_entry_free(entry) }
        member.archiveName.withCPath { archive_entry_copy_pathname(entry, $0) }
        archive_entry_set_perm(entry, mode_t(member.permissions))
        archive_entry_set_uid(entry, la_int64_t(member.uid))
        archive_entry_set_gid(entry, la_int64_t(member.gid))
        archive_entry_set_mtime(entry, time_t(member.mtime.seconds),
                                Int(member.mtime.nanoseconds))
        for (name, value) in member.xattrs {
            name.withCPath { cName in
                value.withUnsafeBytes {
                    archive_entry_xattr_add_entry(entry, cName, $0.baseAddress, $0.count)
                }
            }
        }

        var file: FileDescriptor?
        var dataSegments: [(offset: Int64, length: Int64)] = []
        switch member.kind {
        case .regular:
            archive_entry_set_filetype(entry, CKPT_AE_IFREG)
            archive_entry_set_size(entry, member.size)
            if member.role != .placeholder {
                let opened = try open(member, in: root)
                dataSegments = try Self.dataSegments(of: opened, size: member.size)
                if dataSegments.count != 1 || dataSegments.first?.length != member.size {
                    // An all-hole file still needs one (empty) segment to be sparse.
                    let segments = dataSegments.isEmpty ? [(member.size, Int64(0))] : dataSegments
                    for (offset, length) in segments {
                        archive_entry_sparse_add_entry(entry, offset, length)
                    }
                }
                file = opened
            }
        case .directory:
            archive_entry_set_filetype(entry, CKPT_AE_IFDIR)
        case .symlink(let target):
            archive_entry_set_filetype(entry, CKPT_AE_IFLNK)
            target.withCPath { archive_entry_copy_symlink(entry, $0) }
        case .hardLink(let target):
            archive_entry_set_filetype(entry, CKPT_AE_IFREG)
            archive_entry_set_size(entry, 0)
            target.withCPath { archive_entry_copy_hardlink(entry, $0) }
        case .fifo:
            archive_entry_set_filetype(entry, CKPT_AE_IFIFO)
        case .characterDevice(let major, let minor):
            archive_entry_set_filetype(entry, CKPT_AE_IFCHR)
            archive_entry_set_rdevmajor(entry, dev_t(major))
            archive_entry_set_rdevminor(entry, dev_t(minor))
        case .blockDevice(let major, let minor):
            archive_entry_set_filetype(entry, CKPT_AE_IFBLK)
            archive_entry_set_rdevmajor(entry, dev_t(major))
            archive_entry_set_rdevminor(entry, dev_t(minor))
        }

        // A name that is not UTF-8 gives ARCHIVE_WARN: libarchive then stores its bytes as
        // they are, under `hdrcharset=BINARY`, which is what we want.
        try require(archive_write_header(archive, entry), member: member)
        if let file {
            try writeData(of: member, from: file, segments: dataSegments)
        }
        try require(archive_write_finish_entry(archive), member: member)
    }

    /// Writes the end of the archive and flushes it.
    func finish() throws {
        try require(archive_write_close(archive), member: nil)
    }

    // MARK: Data

    /// Opens the member's file in the changed root, with no symlink anywhere on the way,
    /// and checks it is still the inode the comparison saw.
    private func open(_ member: PlannedMember, in root: FileDescriptor) throws -> FileDescriptor {
        let file = try root.openBeneath(
            member.path, flags: O_RDONLY | CKPT_O_NOFOLLOW,
            resolve: CKPT_RESOLVE_BENEATH | CKPT_RESOLVE_NO_SYMLINKS)
        let status = EntryStatus(try file.stat())
        guard status.kind == .regular, status.inode == member.source else {
            throw CreateError.changedDuringCreate(path: file.path, reason: "another file is there")
        }
        guard status.size == member.size else {
            throw CreateError.changedDuringCreate(
                path: file.path, reason: "its size is \(status.size), not \(member.size)")
        }
        return file
    }

    /// Feeds libarchive the file's logical bytes. For a sparse member it skips the holes
    /// itself, but still wants to be handed their length: zeros from the buffer.
    private func writeData(
        of member: PlannedMember,
        from file: FileDescriptor,
        segments: [(offset: Int64, length: Int64)]
    ) throws {
        var position: Int64 = 0
        for (offset, length) in segments + [(member.size, 0)] {
            if offset > position { try feedZeros(offset - position, member: member) }
            var remaining = length
            var at = offset
            while remaining > 0 {
                let wanted = Int(min(remaining, Int64(buffer.count)))
                let readAt = off_t(at)
                let count = try check("pread", file.path) {
                    buffer.withUnsafeMutableBytes {
                        pread(file.raw, $0.baseAddress, wanted, readAt)
                    }
                }
                if count == 0 {
                    throw CreateError.changedDuringCreate(path: file.path,
                                                          reason: "it ended early")
                }
                try feed(count, member: member)
                remaining -= Int64(count)
                at += Int64(count)
            }
            position = max(position, offset + length)
        }
    }

    private func feedZeros(_ length: Int64, member: PlannedMember) throws {
        buffer.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, $0.count) }
        var remaining = length
        while remaining > 0 {
            let count = Int(min(remaining, Int64(buffer.count)))
            try feed(count, member: member)
            remaining -= Int64(count)
        }
    }

    private func feed(_ count: Int, member: PlannedMember) throws {
        let written = buffer.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, count) }
        guard written == count else {
            throw CreateError.archive(file: displayName, member: member.path.displayPath,
                                      reason: message())
        }
    }

    /// The stretches of a file that hold data, from lseek(2) SEEK_DATA and SEEK_HOLE; the
    /// whole file as one stretch when it occupies all its blocks or the file system cannot
    /// say.
    static func dataSegments(of file: FileDescriptor, size: Int64) throws
        -> [(offset: Int64, length: Int64)]
    {
        let status = EntryStatus(try file.stat())
        guard size > 0, status.allocated < size else { return [(0, size)] }
        var segments: [(offset: Int64, length: Int64)] = []
        var position: Int64 = 0
        while position < size {
            let start = lseek(file.raw, off_t(position), seekData)
            if start < 0 {
                let code = ckpt_errno()
                if code == ENXIO { break }  // no data after `position`
                if code == EINVAL || code == ENOTSUP { return [(0, size)] }
                throw SystemError(errno: code, operation: "lseek SEEK_DATA", path: file.path)
            }
            let end = try check("lseek SEEK_HOLE", file.path) {
                lseek(file.raw, start, seekHole)
            }
            let stop = min(Int64(end), size)
            if stop > Int64(start) { segments.append((Int64(start), stop - Int64(start))) }
            position = stop
        }
        return segments
    }

    /// lseek(2) whences that glibc declares only under _GNU_SOURCE.
    private static let seekData: Int32 = 3
    private static let seekHole: Int32 = 4

    // MARK: Errors

    private func require(_ status: Int32, member: PlannedMember?) throws {
        guard status < ARCHIVE_WARN else { return }
        throw CreateError.archive(file: displayName, member: member?.path.displayPath,
                                  reason: message())
    }

    private func message() -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "libarchive failed"
    }
}
