import Glibc

/// What `create` compares of one entry: the fields a tar header can carry, and the inode.
struct EntryStatus: Equatable {
    enum Kind: Equatable {
        case directory, regular, symlink, fifo, characterDevice, blockDevice
        /// A socket, the one file type a tar cannot hold.
        case socket
    }

    var kind: Kind
    /// Permission bits with setuid, setgid and sticky (`07777`).
    var permissions: UInt32
    var uid: UInt32
    var gid: UInt32
    var size: Int64
    var mtime: Timestamp
    var rdev: UInt64
    var inode: LowerIdentity
    var linkCount: UInt64
    /// Bytes allocated on disk (`st_blocks` * 512), to tell a sparse file.
    var allocated: Int64

    init(_ info: stat) {
        switch info.st_mode & S_IFMT {
        case S_IFDIR: kind = .directory
        case S_IFREG: kind = .regular
        case S_IFLNK: kind = .symlink
        case S_IFIFO: kind = .fifo
        case S_IFCHR: kind = .characterDevice
        case S_IFBLK: kind = .blockDevice
        default: kind = .socket  // S_IFSOCK: Linux has no other type
        }
        permissions = info.st_mode & 0o7777
        uid = info.st_uid
        gid = info.st_gid
        size = Int64(info.st_size)
        mtime = Timestamp(info.st_mtim)
        rdev = UInt64(info.st_rdev)
        inode = LowerIdentity(info)
        linkCount = UInt64(info.st_nlink)
        allocated = Int64(info.st_blocks) * 512
    }

    var isDirectory: Bool { kind == .directory }

    /// Whether a restore that writes `self` from a header would give an entry with the
    /// same header fields as `other`: type, mode, owner, mtime, and the size or device
    /// number where the type has one. Directory sizes are the file system's business.
    func sameHeader(as other: EntryStatus) -> Bool {
        guard kind == other.kind, permissions == other.permissions, uid == other.uid,
              gid == other.gid, mtime == other.mtime
        else { return false }
        switch kind {
        case .regular, .symlink: return size == other.size
        case .characterDevice, .blockDevice: return rdev == other.rdev
        case .directory, .fifo, .socket: return true
        }
    }
}
