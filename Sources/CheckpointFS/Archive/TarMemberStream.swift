import CArchive
import Glibc

/// The members of an uncompressed diff tar, read one at a time in a single pass over the
/// headers, each checked as `TarIndex` checks it.
///
/// The view is planned straight from the stream, so a mount never holds every member at
/// once; `TarIndex` collects the same members for the commands that walk them twice.
/// A member is handed out once the next header is read: only then is it known that its
/// data ends before the next member begins.
public final class TarMemberStream {
    /// The tar file, for error messages.
    public let displayName: String
    /// The tar's bytes as libarchive reads them: the handle's callbacks use it until the
    /// handle is freed.
    private let source: TarBlockSource
    private let archive: OpaquePointer
    /// The tar's size in bytes.
    let size: Int64
    private let onProgress: ((Int64, Int64) -> Void)?
    /// The member read but not yet handed out.
    private var pending: TarMember?
    private var count = 0
    private var finished = false

    /// Opens the plain tar at `path`; `displayName` names it in errors.
    /// - Parameter onProgress: called after each header with the offset reached in the tar
    ///   and the tar's size.
    /// - Throws: `CheckpointError.malformedArchive` when the tar cannot be opened.
    public init(
        path: String,
        displayName: String? = nil,
        onProgress: ((_ done: Int64, _ total: Int64) -> Void)? = nil
    ) throws {
        let name = displayName ?? path
        let file = try FileDescriptor.open(atPath: path)
        source = TarBlockSource(file: file)
        self.displayName = name
        self.onProgress = onProgress
        size = Int64(try file.stat().st_size)
        ArchiveLocale.setOnce()
        guard let archive = archive_read_new() else {
            throw CheckpointError.malformedArchive(
                file: name, member: nil, reason: "libarchive could not start")
        }
        self.archive = archive
        archive_read_support_format_tar(archive)
        archive_read_support_format_gnutar(archive)
        archive_read_support_format_empty(archive)
        guard source.open(archive) == ARCHIVE_OK else {
            throw CheckpointError.malformedArchive(
                file: name, member: nil, reason: TarIndex.archiveMessage(archive))
        }
    }

    deinit {
        archive_read_free(archive)
    }

    /// The next member, or nil after the last.
    /// - Throws: `CheckpointError.malformedArchive` naming the member where reading stopped
    ///   or whose data overruns the next, `CheckpointError.refusedMember` for a type we do
    ///   not apply. After an error the stream has no more members.
    public func next() throws -> TarMember? {
        guard !finished else { return nil }
        do {
            if pending == nil { pending = try readHeader() }
            guard let member = pending else {
                finished = true
                try checkEndOfArchive(after: nil, dataEnd: 0)
                return nil
            }
            let following = try readHeader()
            if let following {
                try TarIndex.checkExtent(of: member, before: following.dataOffset - 512,
                                         limitIsNextMember: true, displayName: displayName)
            } else {
                let dataEnd = try TarIndex.checkExtent(
                    of: member, before: size, limitIsNextMember: false, displayName: displayName)
                try checkEndOfArchive(after: member, dataEnd: dataEnd)
                onProgress?(size, size)
            }
            pending = following
            finished = following == nil
            return member
        } catch {
            finished = true
            throw error
        }
    }

    /// Reads the next header into a member; nil at the end of the archive.
    private func readHeader() throws -> TarMember? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(archive, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
            let context = lastName.map { "after member '\($0.displayPath)'" }
                ?? "at the first member"
            throw CheckpointError.malformedArchive(
                file: displayName, member: nil,
                reason: "\(TarIndex.archiveMessage(archive)) (\(context))")
        }
        // libarchive drops PAX records it cannot parse with only a warning, which would
        // apply the member under its ustar name or owner. The one warning that loses
        // nothing is a name that does not convert to the locale (EILSEQ: the raw bytes
        // are kept).
        if status == ARCHIVE_WARN && archive_errno(archive) != EILSEQ {
            throw CheckpointError.malformedArchive(
                file: displayName,
                member: TarIndex.bytes(archive_entry_pathname(entry)).displayPath,
                reason: TarIndex.archiveMessage(archive))
        }
        let offset = archive_filter_bytes(archive, 0)
        let member = try TarIndex.makeMember(entry, index: count, dataOffset: offset,
                                             displayName: displayName)
        try TarIndex.checkTypeFlag(of: member, in: source, displayName: displayName)
        count += 1
        lastName = member.name
        onProgress?(offset, size)
        return member
    }

    /// libarchive ends the archive at the first block of zeros, and takes a second one with
    /// it when there is one. The reference reads the block after the first too and refuses
    /// the tar when it is not zeros: a lone zero block followed by headers would otherwise
    /// drop every member after it without a word.
    ///
    /// When libarchive consumed exactly one block after the last member's data and the file
    /// goes on, the block after it is what it declined: a header, or other bytes.
    /// - Parameters:
    ///   - last: the last member read, nil for an archive with none.
    ///   - dataEnd: where the last member's stored data ends, before its padding (0 for none).
    private func checkEndOfArchive(after last: TarMember?, dataEnd: Int64) throws {
        let consumed = archive_filter_bytes(archive, 0)
        let padded = (dataEnd + 511) / 512 * 512
        guard consumed == padded + 512, let following = source.block(at: consumed),
              following.contains(where: { $0 != 0 })
        else { return }
        let context = last.map { "after member '\($0.name.displayPath)'" } ?? "at its start"
        throw CheckpointError.malformedArchive(
            file: displayName, member: nil,
            reason: "a single block of zeros at offset \(consumed - 512) \(context) is "
                + "followed by more headers or data, which would be dropped")
    }

    /// The name of the last header read, for a message about the header after it.
    private var lastName: PathBytes?
}
