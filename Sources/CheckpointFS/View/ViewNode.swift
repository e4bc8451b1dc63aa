import Glibc

/// An inode of the view that differs from the lower root: made by a member, a lower
/// directory the checkpoint changes something in, or a lower inode a member links to.
///
/// Nodes are built by `ApplyProcedure` while the view is set up and never change after;
/// the view reads them from many threads without locks.
public final class ViewNode: @unchecked Sendable {
    /// Where a regular file's bytes are.
    public enum Content: Sendable {
        case none
        /// A member's data in the diff tar.
        case member(MemberData)
        /// A lower file, by its path in the lower root.
        case lower(PathBytes)
    }

    /// Where a regular member's bytes lie in the diff tar: all a read needs of the member.
    /// A node keeps this rather than the whole `TarMember`, whose name and header fields
    /// the node already holds in its own form; it is a tenth of the size.
    public struct MemberData: Sendable {
        /// Offset of the data in the (uncompressed) tar.
        public var offset: Int64
        /// For sparse members, the stretches stored back to back from `offset`.
        public var sparseMap: [TarMember.Segment]?

        public init(_ member: TarMember) {
            offset = member.dataOffset
            sparseMap = member.sparseMap
        }

        /// The bytes the tar stores for a file of logical size `size`.
        public func storedSize(size: Int64) -> Int64 {
            sparseMap.map { $0.reduce(0) { $0 + $1.length } } ?? size
        }
    }

    /// `S_IFMT` bits.
    public var type: UInt32
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// nil: stamped with the time of the apply (the mount time, for the view).
    public var mtime: Timestamp?
    public var xattrs: [(name: PathBytes, value: [UInt8])]
    /// Links to this inode (non-directories).
    public var nlink: UInt32
    public var size: Int64
    public var content: Content
    /// The `st_ino` the view reports.
    public let inode: UInt64
    /// The lower inode this node stands for, if any.
    public var lowerIdentity: LowerIdentity?
    /// Made or changed by a member (a deleted path that removes it warns).
    public var fromMember: Bool

    /// What only directories, symlinks and devices have, made when first set: most nodes
    /// of a tree are regular files and do without the room.
    private var extras: Extras?

    private final class Extras {
        var rdev: UInt64 = 0
        var symlinkTarget: PathBytes = []
        var lowerDirectory: PathBytes?
        var children: [ChildName: ViewNode] = [:]
        var hidden: Set<PathBytes> = []
    }

    private var madeExtras: Extras {
        if let extras { return extras }
        let made = Extras()
        extras = made
        return made
    }

    /// The device number (devices only).
    public var rdev: UInt64 {
        get { extras?.rdev ?? 0 }
        set { madeExtras.rdev = newValue }
    }

    /// The target (symlinks only).
    public var symlinkTarget: PathBytes {
        get { extras?.symlinkTarget ?? [] }
        set { madeExtras.symlinkTarget = newValue }
    }

    // Directories only.
    /// The lower directory merged into this one.
    public var lowerDirectory: PathBytes? {
        get { extras?.lowerDirectory }
        set { madeExtras.lowerDirectory = newValue }
    }

    /// Entries that replace or add to the lower directory's.
    public var children: [ChildName: ViewNode] {
        get { extras?.children ?? [:] }
        _modify { yield &madeExtras.children }
    }

    /// Lower names that are gone.
    public var hidden: Set<PathBytes> {
        get { extras?.hidden ?? [] }
        _modify { yield &madeExtras.hidden }
    }

    init(
        type: UInt32, permissions: UInt32, uid: UInt32, gid: UInt32, mtime: Timestamp?,
        inode: UInt64, fromMember: Bool
    ) {
        self.type = type
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.xattrs = []
        self.nlink = 1
        self.size = 0
        self.content = .none
        self.inode = inode
        self.fromMember = fromMember
    }

    public var isDirectory: Bool { type == S_IFDIR }
}

/// A lower inode: device and inode number.
public struct LowerIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    public init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
