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
            self.init(offset: member.dataOffset, sparseMap: member.sparseMap)
        }

        public init(offset: Int64, sparseMap: [TarMember.Segment]?) {
            self.offset = offset
            self.sparseMap = sparseMap
        }

        /// The bytes the tar stores for a file of logical size `size`.
        public func storedSize(size: Int64) -> Int64 {
            sparseMap.map { $0.reduce(0) { $0 + $1.length } } ?? size
        }
    }

    // Stored fields are few and ordered so that a node is 72 bytes, an 80-byte malloc block:
    // there is one per member. What most nodes do without lives in `Extras`.

    /// `st_mode` (`S_IFMT` and permission bits) in the low 16 bits, flags above.
    private var modeAndFlags: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Links to this inode (non-directories).
    public var nlink: UInt32
    public var size: Int64
    /// The `st_ino` the view reports.
    public let inode: UInt64
    /// Where a regular member's data starts in the diff tar; -1 for any other node.
    private var memberOffset: Int64 = -1
    /// What only some nodes have, made when first set.
    private var extras: Extras?
    private var time: NodeTime

    /// Made or changed by a member: the flag of `modeAndFlags`.
    private static let fromMemberFlag: UInt32 = 1 << 16
    private static let permissionBits: UInt32 = 0o7777

    private final class Extras {
        var rdev: UInt64 = 0
        var symlinkTarget: PathBytes = []
        var lowerDirectory: PathBytes?
        var children: [ChildName: ViewNode] = [:]
        var hidden: Set<PathBytes> = []
        var xattrs: [(name: PathBytes, value: [UInt8])] = []
        var sparseMap: [TarMember.Segment]?
        var lowerFile: PathBytes?
        /// A time `NodeTime` cannot hold.
        var mtime: Timestamp?
    }

    private var madeExtras: Extras {
        if let extras { return extras }
        let made = Extras()
        extras = made
        return made
    }

    /// `S_IFMT` bits.
    public var type: UInt32 { modeAndFlags & S_IFMT }

    public var permissions: UInt32 {
        get { modeAndFlags & Self.permissionBits }
        set { modeAndFlags = modeAndFlags & ~Self.permissionBits | newValue & Self.permissionBits }
    }

    /// Made or changed by a member (a deleted path that removes it warns).
    public var fromMember: Bool {
        get { modeAndFlags & Self.fromMemberFlag != 0 }
        set {
            modeAndFlags = newValue
                ? modeAndFlags | Self.fromMemberFlag : modeAndFlags & ~Self.fromMemberFlag
        }
    }

    /// nil: stamped with the time of the apply (the mount time, for the view).
    public var mtime: Timestamp? {
        get {
            if let held = time.timestamp { return held }
            return time == .elsewhere ? extras?.mtime : nil
        }
        set {
            if time == .elsewhere { extras?.mtime = nil }
            guard let newValue else {
                time = .applyTime
                return
            }
            if let held = NodeTime(newValue) {
                time = held
            } else {
                time = .elsewhere
                madeExtras.mtime = newValue
            }
        }
    }

    /// Few files have xattrs: a node without them makes no `Extras` for them.
    public var xattrs: [(name: PathBytes, value: [UInt8])] {
        get { extras?.xattrs ?? [] }
        set {
            if newValue.isEmpty && extras == nil { return }
            madeExtras.xattrs = newValue
        }
    }

    /// Where a regular file's bytes are: most are members without a sparse map, whose
    /// offset is all the node keeps.
    public var content: Content {
        get {
            if memberOffset >= 0 {
                return .member(MemberData(offset: memberOffset, sparseMap: extras?.sparseMap))
            }
            if let path = extras?.lowerFile { return .lower(path) }
            return .none
        }
        set {
            memberOffset = -1
            if extras != nil {
                extras?.sparseMap = nil
                extras?.lowerFile = nil
            }
            switch newValue {
            case .none:
                break
            case .member(let data):
                precondition(data.offset >= 0, "member data lies at an offset in the tar")
                memberOffset = data.offset
                if let map = data.sparseMap { madeExtras.sparseMap = map }
            case .lower(let path):
                madeExtras.lowerFile = path
            }
        }
    }

    /// The device number (devices only).
    public var rdev: UInt64 {
        get { extras?.rdev ?? 0 }
        set {
            if newValue == 0 && extras == nil { return }
            madeExtras.rdev = newValue
        }
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
        modeAndFlags = type & S_IFMT | permissions & Self.permissionBits
        self.uid = uid
        self.gid = gid
        self.nlink = 1
        self.size = 0
        self.inode = inode
        time = .applyTime
        self.mtime = mtime
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
