import CFuse3
import CheckpointFS
import Glibc
import Synchronization

/// The FUSE operations on a view, as plain throwing Swift.
///
/// Each method takes Swift values and returns what its reply needs; the trampolines in
/// `LowLevelOperations.swift` convert a request's arguments, call one method, and send the
/// one reply. Every method may run on several loop threads at once.
final class ViewServer: Sendable {
    let view: any ViewFileSystem
    /// How long the kernel may trust names, attributes and absences: the view never changes.
    let timeout: Double
    /// The `max_read` mount option, which INIT must repeat or the kernel refuses the session.
    let maxRead: UInt32?
    /// Node of each directory's parent, learnt from lookups, so readdir can list `..`.
    /// A directory has one parent, and the kernel looks a node up before it opens it.
    private let parents = Mutex<[UInt64: UInt64]>([ViewServer.rootNode: ViewServer.rootNode])
    /// Whether the kernel can open files without asking (`FUSE_CAP_NO_OPEN_SUPPORT`),
    /// learnt at INIT.
    private let kernelOpensAlone = Atomic<Bool>(false)

    /// FUSE_ROOT_ID: the root directory is its own parent.
    private static let rootNode = UInt64(FUSE_ROOT_ID)

    init(view: any ViewFileSystem, timeout: Double, maxRead: UInt32?) {
        self.view = view
        self.timeout = timeout
        self.maxRead = maxRead
    }

    // MARK: Connection

    /// Negotiates the connection (the `init` op): the kernel offers, we choose.
    func configure(_ connection: inout fuse_conn_info) {
        if let maxRead { connection.max_read = maxRead }
        let wanted = UInt32(FUSE_CAP_ASYNC_READ) | UInt32(FUSE_CAP_CACHE_SYMLINKS)
            | UInt32(FUSE_CAP_PARALLEL_DIROPS) | UInt32(FUSE_CAP_READDIRPLUS)
        connection.want |= wanted & connection.capable
        // Data never changes under the kernel: no need to drop cached pages on mtime checks.
        connection.want &= ~UInt32(FUSE_CAP_AUTO_INVAL_DATA)
        // Every readdir is a readdirplus. With READDIRPLUS_AUTO, which libfuse asks for by
        // default, the kernel sends plus only for a listing's first request and then plain
        // readdir, so a stat of each later entry costs one LOOKUP round trip: a find over a
        // large directory makes one request per entry. Attributes cost the view nothing
        // extra and the kernel keeps them for the whole timeout.
        connection.want &= ~UInt32(FUSE_CAP_READDIRPLUS_AUTO)
        let opensAlone = connection.capable & UInt32(FUSE_CAP_NO_OPEN_SUPPORT) != 0
        kernelOpensAlone.store(opensAlone, ordering: .relaxed)
    }

    // MARK: Names and attributes

    /// Resolves `name` in `parent`; an absent name is a negative entry the kernel may cache.
    func lookup(parent: UInt64, name: PathBytes) throws(ViewError) -> fuse_entry_param {
        do {
            let (node, attributes) = try view.lookup(parent: parent, name: name)
            if attributes.mode & S_IFMT == S_IFDIR {
                parents.withLock { $0[node] = parent }
            }
            return entry(node: node, attributes: attributes)
        } catch where error.errno == ENOENT {
            var absent = fuse_entry_param()
            absent.entry_timeout = timeout
            return absent
        }
    }

    func forget(node: UInt64, count: UInt64) {
        view.forget(node: node, count: count)
    }

    func attributes(node: UInt64) throws(ViewError) -> stat {
        try view.attributes(node: node).stat
    }

    func readLink(node: UInt64) throws(ViewError) -> PathBytes {
        try view.readLink(node: node)
    }

    private func entry(node: UInt64, attributes: ViewAttributes) -> fuse_entry_param {
        var entry = fuse_entry_param()
        entry.ino = node
        entry.attr = attributes.stat
        entry.attr_timeout = timeout
        entry.entry_timeout = timeout
        return entry
    }

    // MARK: Directories

    /// Takes the listing snapshot an open directory is read from.
    func openDirectory(node: UInt64) throws(ViewError) -> DirectoryHandle {
        let attributes = try view.attributes(node: node)
        guard attributes.mode & S_IFMT == S_IFDIR else { throw ViewError(ENOTDIR) }
        let entries = try view.directoryEntries(node: node)
        let parent = parents.withLock { $0[node] } ?? node
        let parentInode = parent == node
            ? attributes.inode : try view.attributes(node: parent).inode
        return DirectoryHandle(
            node: node, inode: attributes.inode, parentInode: parentInode, entries: entries)
    }

    /// Fills `buffer` with the entries from position `offset` on, as many as fit whole.
    ///
    /// With `plus`, each child entry carries its attributes and takes a lookup reference,
    /// the size checked first, so only entries that go into the reply are looked up.
    /// `.` and `..` go out with node 0: the kernel takes no reference on those.
    /// - Returns: the bytes used (0 at the end of the listing) and the nodes looked up,
    ///   which must be forgotten if the reply never reaches the kernel.
    func fillDirectory(
        _ handle: DirectoryHandle,
        from offset: Int,
        into buffer: UnsafeMutableRawBufferPointer,
        plus: Bool,
        request: fuse_req_t?
    ) -> (used: Int, referenced: [UInt64]) {
        var used = 0
        var referenced: [UInt64] = []
        var position = max(offset, 0)
        while position < handle.count {
            let listed = handle.entry(at: position)
            let room = buffer.count - used
            let start = (buffer.baseAddress! + used).assumingMemoryBound(to: CChar.self)
            let next = off_t(position + 1)
            let added = listed.name.withCPath { name in
                if !plus {
                    var info = listed.shortStat
                    return fuse_add_direntry(request, start, room, name, &info, next)
                }
                guard fuse_add_direntry_plus(request, nil, 0, name, nil, 0) <= room else {
                    return room + 1
                }
                var entry = plusEntry(listed, in: handle)
                if entry.ino != 0 { referenced.append(entry.ino) }
                return fuse_add_direntry_plus(request, start, room, name, &entry, next)
            }
            if added > room { break }
            used += added
            position += 1
        }
        return (used, referenced)
    }

    /// The readdirplus entry of one listed name; a child that cannot be looked up after all
    /// goes out as a plain entry (node 0), which the kernel lists without caching it.
    private func plusEntry(
        _ listed: DirectoryHandle.Listed,
        in handle: DirectoryHandle
    ) -> fuse_entry_param {
        if case .child(let child) = listed,
           let found = try? lookup(parent: handle.node, name: child.name), found.ino != 0
        {
            return found
        }
        var entry = fuse_entry_param()
        entry.attr = listed.shortStat
        return entry
    }

    // MARK: Files

    /// How an OPEN that passed its checks is answered.
    enum OpenAnswer {
        /// With a reply: the kernel will send OPEN and RELEASE for every open.
        case reply
        /// With ENOSYS, which the kernel takes as success and as leave to open every file
        /// from now on without asking: each open and close saves two round trips.
        case openWithoutAsking
    }

    /// Checks an open of a regular file; any request to write is refused with EROFS.
    /// Reads name the node, so an open keeps nothing.
    func openFile(node: UInt64, flags: Int32) throws(ViewError) -> OpenAnswer {
        if flags & O_ACCMODE != O_RDONLY || flags & O_TRUNC != 0 { throw ViewError(EROFS) }
        try view.checkReadable(node: node)
        return kernelOpensAlone.load(ordering: .relaxed) ? .openWithoutAsking : .reply
    }

    /// Reads into the calling thread's buffer; the bytes stay valid until its next read.
    func read(node: UInt64, offset: Int64, count: Int) throws(ViewError)
        -> UnsafeMutableRawBufferPointer
    {
        let buffer = ReadBuffer.forCurrentThread(count: count)
        let length = try view.read(node: node, offset: offset, into: buffer)
        return UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
    }

    // MARK: Extended attributes

    /// What a getxattr or listxattr request receives.
    enum SizedAnswer {
        /// The caller asked with size 0: only the length.
        case length(Int)
        case bytes([UInt8])
    }

    /// One xattr's value; ENODATA when absent, ERANGE when `size` is too small.
    func extendedAttribute(node: UInt64, name: PathBytes, size: Int) throws(ViewError)
        -> SizedAnswer
    {
        try sized(view.extendedAttribute(node: node, name: name), size: size)
    }

    /// The xattr names, each followed by a NUL, as listxattr(2) returns them.
    func extendedAttributeNames(node: UInt64, size: Int) throws(ViewError) -> SizedAnswer {
        let names = try view.extendedAttributeNames(node: node)
        return try sized(names.flatMap { $0 + [0] }, size: size)
    }

    private func sized(_ value: [UInt8], size: Int) throws(ViewError) -> SizedAnswer {
        if size == 0 { return .length(value.count) }
        guard value.count <= size else { throw ViewError(ERANGE) }
        return .bytes(value)
    }

    // MARK: The rest

    func statistics() throws(ViewError) -> statvfs {
        try view.fileSystemStatistics()
    }
}

extension DirectoryHandle.Listed {
    var name: PathBytes {
        switch self {
        case .dot: return [0x2e]
        case .dotDot: return [0x2e, 0x2e]
        case .child(let entry): return entry.name
        }
    }

    /// The two fields readdir passes on: `d_ino` and the type bits of `d_type`.
    var shortStat: stat {
        var info = stat()
        switch self {
        case .dot(let inode), .dotDot(let inode):
            info.st_ino = ino_t(inode)
            info.st_mode = S_IFDIR
        case .child(let entry):
            info.st_ino = ino_t(entry.inode)
            info.st_mode = entry.type
        }
        return info
    }
}
