import CArchive
import CSystem
import Glibc

/// The members of an uncompressed diff tar, read in one pass over the headers
/// (`TarMemberStream`) and kept.
///
/// Data is skipped with seeks, so indexing costs a read of each header and nothing more;
/// the recorded offsets let the view and the commit read any member's bytes with pread(2).
public struct TarIndex: Sendable {
    /// The tar file, for error messages.
    public let displayName: String
    public let members: [TarMember]

    /// Indexes the plain tar at `path`; `displayName` names it in errors.
    /// - Parameter onProgress: called after each member with the offset reached in the tar
    ///   and the tar's size.
    /// - Throws: `CheckpointError.malformedArchive` naming the member where reading stopped,
    ///   `CheckpointError.refusedMember` for a type we do not apply.
    public init(
        path: String,
        displayName: String? = nil,
        onProgress: ((_ done: Int64, _ total: Int64) -> Void)? = nil
    ) throws {
        let stream = try TarMemberStream(path: path, displayName: displayName,
                                         onProgress: onProgress)
        var members: [TarMember] = []
        while let member = try stream.next() { members.append(member) }
        self.displayName = stream.displayName
        self.members = members
    }

    /// Index of an empty diff: no tar in the checkpoint.
    public init(emptyNamed displayName: String) {
        self.displayName = displayName
        self.members = []
    }

    static func makeMember(
        _ entry: OpaquePointer,
        index: Int,
        dataOffset: Int64,
        displayName: String
    ) throws -> TarMember {
        let name = bytes(archive_entry_pathname(entry))
        let kind: TarMember.Kind
        if let link = archive_entry_hardlink(entry) {
            kind = .hardLink(target: bytes(link))
        } else {
            switch archive_entry_filetype(entry) & CKPT_AE_IFMT {
            case CKPT_AE_IFREG: kind = .regular
            case CKPT_AE_IFDIR: kind = .directory
            case CKPT_AE_IFLNK: kind = .symlink(target: bytes(archive_entry_symlink(entry)))
            case CKPT_AE_IFIFO: kind = .fifo
            case CKPT_AE_IFCHR:
                let device = try HeaderRanges.device(
                    of: entry, member: name.displayPath, file: displayName)
                kind = .characterDevice(major: device.major, minor: device.minor)
            case CKPT_AE_IFBLK:
                let device = try HeaderRanges.device(
                    of: entry, member: name.displayPath, file: displayName)
                kind = .blockDevice(major: device.major, minor: device.minor)
            default:
                throw CheckpointError.refusedMember(
                    file: displayName, member: name.displayPath,
                    reason: .unknownType("mode \(String(archive_entry_filetype(entry), radix: 8))"))
            }
        }

        var sparseMap: [TarMember.Segment]?
        if kind == .regular, archive_entry_sparse_reset(entry) > 0 {
            var segments: [TarMember.Segment] = []
            var offset: la_int64_t = 0
            var length: la_int64_t = 0
            while archive_entry_sparse_next(entry, &offset, &length) == ARCHIVE_OK {
                if length > 0 { segments.append(.init(offset: offset, length: length)) }
            }
            sparseMap = segments
        }

        var xattrs: [(name: PathBytes, value: [UInt8])] = []
        if archive_entry_xattr_reset(entry) > 0 {
            var xname: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while archive_entry_xattr_next(entry, &xname, &value, &size) == ARCHIVE_OK {
                let bytesOfValue = value.map {
                    Array(UnsafeRawBufferPointer(start: $0, count: size))
                } ?? []
                xattrs.append((bytes(xname), bytesOfValue))
            }
        }

        let size = kind == .regular ? max(0, archive_entry_size(entry)) : 0
        let owner = try HeaderRanges.owner(of: entry, member: name.displayPath, file: displayName)
        return TarMember(
            index: index,
            name: name,
            kind: kind,
            permissions: UInt32(archive_entry_mode(entry)) & 0o7777,
            uid: owner.uid,
            gid: owner.gid,
            mtime: Timestamp(seconds: Int64(archive_entry_mtime(entry)),
                             nanoseconds: Int32(archive_entry_mtime_nsec(entry))),
            size: size,
            dataOffset: dataOffset,
            sparseMap: sparseMap,
            xattrs: xattrs
        )
    }

    /// libarchive reads unknown type flags as regular files; the reference refuses them, and
    /// so do we. The ustar header of a non-sparse member is the block just before its data.
    static func checkTypeFlag(
        of member: TarMember,
        in source: TarBlockSource,
        displayName: String
    ) throws {
        guard member.sparseMap == nil, member.dataOffset >= 512 else { return }
        guard let flag = source.byte(at: member.dataOffset - 512 + 156) else {
            throw CheckpointError.malformedArchive(
                file: displayName, member: member.name.displayPath,
                reason: "cannot read its header back")
        }
        // '0' and NUL are files, '1'-'6' the other POSIX types. A contiguous file ('7') is
        // POSIX too, but the reference has no case for it and refuses it.
        let known: Set<UInt8> = [0, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36]
        if !known.contains(flag) {
            let shown = (0x21..<0x7f).contains(flag)
                ? String(UnicodeScalar(flag)) : "\\x" + String(flag, radix: 16)
            throw CheckpointError.refusedMember(
                file: displayName, member: member.name.displayPath, reason: .unknownType(shown))
        }
    }

    static func bytes(_ pointer: UnsafePointer<CChar>?) -> PathBytes {
        guard let pointer else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: strlen(pointer)))
            .map { UInt8(bitPattern: $0) }
    }

    static func archiveMessage(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unreadable archive"
    }
}

/// libarchive converts PAX names through the C library's locale: in the C locale non-ASCII
/// names only produce warnings, so switch to UTF-8 once.
enum ArchiveLocale {
    private static let done: Bool = {
        setlocale(LC_CTYPE, "C.UTF-8")
        return true
    }()

    static func setOnce() { _ = done }
}
