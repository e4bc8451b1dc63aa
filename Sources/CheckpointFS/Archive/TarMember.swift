/// One member of a diff tar as the index records it: its header and where its data lies.
public struct TarMember: Sendable {
    /// What a member makes.
    public enum Kind: Sendable, Equatable {
        case regular
        case directory
        case symlink(target: PathBytes)
        /// Links to the member or lower path named, relative to the root.
        case hardLink(target: PathBytes)
        case fifo
        case characterDevice(major: UInt32, minor: UInt32)
        case blockDevice(major: UInt32, minor: UInt32)
    }

    /// One stretch of a sparse file's data: `length` bytes at `offset` in the file.
    public struct Segment: Sendable, Equatable {
        public var offset: Int64
        public var length: Int64
    }

    /// Position of the member in the tar, counting from 0.
    public var index: Int
    /// The name exactly as the tar holds it.
    public var name: PathBytes
    public var kind: Kind
    /// Permission bits including setuid, setgid and sticky (`07777`).
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var mtime: Timestamp
    /// The file's size; for a sparse member its logical size.
    public var size: Int64
    /// Offset of the member's data in the (uncompressed) tar.
    public var dataOffset: Int64
    /// For sparse members, the data stretches stored back to back from `dataOffset`.
    public var sparseMap: [Segment]?
    /// Extended attributes from PAX `SCHILY.xattr.*` records, in header order.
    public var xattrs: [(name: PathBytes, value: [UInt8])]

    /// The bytes of data the tar stores for this member.
    public var storedSize: Int64 {
        guard let map = sparseMap else { return kind == .regular ? size : 0 }
        return map.reduce(0) { $0 + $1.length }
    }
}

/// Seconds and nanoseconds since the epoch.
public struct Timestamp: Sendable, Equatable, Hashable {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
}
