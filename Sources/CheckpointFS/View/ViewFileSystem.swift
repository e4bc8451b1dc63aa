import Glibc

/// The attributes of one view inode, as `stat(2)` reports them.
public struct ViewAttributes: Sendable {
    /// The `st_ino` the view reports (stable, shared by hard links).
    public var inode: UInt64
    /// Type and permission bits (`S_IFMT | 07777`).
    public var mode: UInt32
    public var nlink: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: Int64
    /// 512-byte blocks allocated.
    public var blocks: Int64
    public var rdev: UInt64
    public var mtime: timespec
    public var ctime: timespec
    public var atime: timespec

    public init(
        inode: UInt64, mode: UInt32, nlink: UInt32, uid: UInt32, gid: UInt32,
        size: Int64, blocks: Int64, rdev: UInt64, mtime: timespec, ctime: timespec,
        atime: timespec
    ) {
        self.inode = inode
        self.mode = mode
        self.nlink = nlink
        self.uid = uid
        self.gid = gid
        self.size = size
        self.blocks = blocks
        self.rdev = rdev
        self.mtime = mtime
        self.ctime = ctime
        self.atime = atime
    }
}

/// One directory entry of the view, as readdir returns it.
public struct ViewDirectoryEntry: Sendable {
    public var name: PathBytes
    /// Equal to the `inode` of the entry's `ViewAttributes`.
    public var inode: UInt64
    /// `S_IFMT` bits of the entry.
    public var type: UInt32

    public init(name: PathBytes, inode: UInt64, type: UInt32) {
        self.name = name
        self.inode = inode
        self.type = type
    }
}

/// The errno a view operation answers with; mapped to a FUSE reply in one place.
public struct ViewError: Error, Sendable, Equatable {
    public var errno: Int32
    public init(_ errno: Int32) { self.errno = errno }
}

/// The merged read-only tree as the FUSE layer sees it.
///
/// Nodes are identified by FUSE node ids (`1` is the root). `lookup` takes one reference
/// on the node it returns; `forget` drops references. Every method may be called from
/// several threads at once.
public protocol ViewFileSystem: AnyObject, Sendable {
    /// Resolves `name` in directory `parent` and takes a lookup reference on the result.
    func lookup(parent: UInt64, name: PathBytes) throws(ViewError)
        -> (node: UInt64, attributes: ViewAttributes)
    /// Drops `count` lookup references on `node`.
    func forget(node: UInt64, count: UInt64)
    func attributes(node: UInt64) throws(ViewError) -> ViewAttributes
    func readLink(node: UInt64) throws(ViewError) -> PathBytes
    /// The whole listing of a directory, `.` and `..` excluded, in a stable order.
    /// The FUSE layer keeps it per open directory handle so offsets resume correctly.
    func directoryEntries(node: UInt64) throws(ViewError) -> [ViewDirectoryEntry]
    /// Checks that regular file `node` can be read: what an open answers. Reads need no
    /// handle, so a file may be read without this check having been made.
    func checkReadable(node: UInt64) throws(ViewError)
    /// Reads up to `buffer.count` bytes of regular file `node` at `offset`; returns the
    /// bytes read.
    func read(
        node: UInt64,
        offset: Int64,
        into buffer: UnsafeMutableRawBufferPointer
    ) throws(ViewError) -> Int
    /// The value of one xattr; `ENODATA` when absent.
    func extendedAttribute(node: UInt64, name: PathBytes) throws(ViewError) -> [UInt8]
    func extendedAttributeNames(node: UInt64) throws(ViewError) -> [PathBytes]
    func fileSystemStatistics() throws(ViewError) -> statvfs
}
