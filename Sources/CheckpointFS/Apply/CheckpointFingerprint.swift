import CSystem
import Glibc

/// What tells one checkpoint from another in a commit journal: a 64-bit FNV-1a hash of every
/// member header (name, type, link target, owner, mode, time, size, data offset, sparse map,
/// xattrs), of the deleted list, and of the identity of the checkpoint's files (device,
/// inode, size and modification time).
///
/// File data is not read, so that taking the fingerprint costs nothing next to the commit.
/// A checkpoint file rewritten in place with the same headers, size and modification time
/// would not be told apart; nothing podman does writes one like that.
struct CheckpointFingerprint {
    private var hash: UInt64 = 0xcbf2_9ce4_8422_2325

    /// The fingerprint of what `restore` applies, read from the files at `files`.
    static func of(_ restore: Restore, files: [String]) -> String {
        var fingerprint = CheckpointFingerprint()
        for member in restore.index.members {
            fingerprint.add(member)
        }
        fingerprint.add(Int64(restore.deletedList.paths.count))
        for path in restore.deletedList.paths {
            fingerprint.add(Array(path.utf8))
        }
        for path in files {
            fingerprint.add(Array(path.utf8))
            var info = Glibc.stat()
            guard fstatat(CKPT_AT_FDCWD, path, &info, 0) == 0 else { continue }
            for number in [Int64(info.st_dev), Int64(info.st_ino), Int64(info.st_size),
                           Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec)] {
                fingerprint.add(number)
            }
        }
        let digits = String(fingerprint.hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    private mutating func add(_ member: TarMember) {
        add(member.name)
        switch member.kind {
        case .regular: add(1)
        case .directory: add(2)
        case .symlink(let target):
            add(3)
            add(target)
        case .hardLink(let target):
            add(4)
            add(target)
        case .fifo: add(5)
        case .characterDevice(let major, let minor):
            add(6)
            add(Int64(major) << 32 | Int64(minor))
        case .blockDevice(let major, let minor):
            add(7)
            add(Int64(major) << 32 | Int64(minor))
        }
        for number in [Int64(member.permissions), Int64(member.uid), Int64(member.gid),
                       member.mtime.seconds, Int64(member.mtime.nanoseconds), member.size,
                       member.dataOffset] {
            add(number)
        }
        for segment in member.sparseMap ?? [] {
            add(segment.offset)
            add(segment.length)
        }
        for (name, value) in member.xattrs {
            add(name)
            add(value)
        }
    }

    /// Bytes with their length in front, so that no two sequences of fields hash alike by
    /// running into each other.
    private mutating func add(_ bytes: [UInt8]) {
        add(Int64(bytes.count))
        for byte in bytes { mix(byte) }
    }

    private mutating func add(_ number: Int64) {
        withUnsafeBytes(of: number.littleEndian) { for byte in $0 { mix(byte) } }
    }

    private mutating func mix(_ byte: UInt8) {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
}

extension CheckpointSource {
    /// The files the checkpoint was read from, as the user's file system holds them: the
    /// archive, or the directory's diff tar and deleted list. Their identity is part of a
    /// commit journal's fingerprint.
    public var sourceFiles: [String] {
        switch layout {
        case .directory:
            return [diffTar?.displayName, deletedList?.displayName].compactMap { $0 }
        case .archive:
            return [path]
        }
    }
}
