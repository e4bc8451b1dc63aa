import CSystem
import Glibc
import Synchronization

/// The merged read-only view of a lower root with a checkpoint applied, as FUSE serves it.
///
/// The tree is the one `ApplyProcedure` builds over the lower root, so it equals what a
/// commit at mount time would produce. Entries the checkpoint does not touch are read from
/// the lower root on demand; only looked-up entries hold a node, and `forget` drops them.
public final class MergedView: ViewFileSystem {
    public let tree: VirtualTree
    /// What applying the checkpoint did, with its warnings.
    public let outcome: ApplyOutcome
    /// The time directories the apply stamped show (the mount time).
    public let applyTime: Timestamp
    private let tar: FileDescriptor?
    /// Descriptors of the lower files handles read from, shared and bounded.
    private let lowerFiles = DescriptorCache(limit: 512)
    /// The untouched lower entries the kernel holds node ids for.
    private let lowerNodes = Mutex(LowerNodeTable())
    /// Link counts of the view's directories, counted on first use.
    private let linkCounts = Mutex<[ObjectIdentifier: UInt32]>([:])

    /// Builds the view of `restore` over the lower root at `rootPath`.
    /// - Throws: the same refusals as a commit of the same checkpoint.
    public convenience init(restore: Restore, rootPath: String) throws {
        try self.init(tarPath: restore.tarPath) { try restore.plan(rootPath: rootPath) }
    }

    /// Builds the view of an open checkpoint over the lower root at `rootPath`, reading its
    /// diff tar once without keeping an index of it (`Restore.plan(source:rootPath:)`).
    /// - Parameter onProgress: called as the diff tar is read, with the offset reached and
    ///   the tar's size.
    /// - Throws: the same refusals as a commit of the same checkpoint.
    public convenience init(
        source: CheckpointSource,
        rootPath: String,
        onProgress: ((_ done: Int64, _ total: Int64) -> Void)? = nil
    ) throws {
        try self.init(tarPath: source.diffTar?.path) {
            try Restore.plan(source: source, rootPath: rootPath, onProgress: onProgress)
        }
    }

    private init(
        tarPath: String?,
        plan: () throws -> (tree: VirtualTree, outcome: ApplyOutcome)
    ) throws {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        applyTime = Timestamp(now)
        (tree, outcome) = try plan()
        tar = try tarPath.map { try FileDescriptor.open(atPath: $0) }
    }

    // MARK: Lookup

    public func lookup(parent: UInt64, name: PathBytes) throws(ViewError)
        -> (node: UInt64, attributes: ViewAttributes)
    {
        switch try childEntry(of: entry(parent), named: name) {
        case .view(let view):
            return (nodeID(of: view), try attributes(of: view))
        case .lower(let path, let info):
            let id = lowerNodes.withLock { $0.reference(path: path, info: info) }
            return (id, lowerAttributes(info))
        }
    }

    public func forget(node: UInt64, count: UInt64) {
        guard LowerNodeTable.isLower(node) else { return }  // view nodes live with the tree
        lowerNodes.withLock { $0.forget(node, count: count) }
    }

    public func attributes(node id: UInt64) throws(ViewError) -> ViewAttributes {
        switch try entry(id) {
        case .view(let view): return try attributes(of: view)
        case .lower(let path, _):
            // The lower root does not change while mounted: its lstat now is the one the
            // lookup saw. Only the path is kept per node, which keeps the table small.
            guard let info = try mapped({ () throws(SystemError) in try tree.lower.stat(path) })
            else { throw ViewError(ESTALE) }
            return lowerAttributes(info)
        }
    }

    public func readLink(node id: UInt64) throws(ViewError) -> PathBytes {
        switch try entry(id) {
        case .view(let view) where view.type == S_IFLNK: return view.symlinkTarget
        case .lower(let path, let type) where type == S_IFLNK:
            return try mapped { () throws(SystemError) in try tree.lower.readLink(path) }
        default: throw ViewError(EINVAL)
        }
    }

    /// The node id of a view node: its address, which stays valid as long as the tree,
    /// and the tree lives as long as the view. The root is FUSE's node 1.
    ///
    /// View nodes need no table entry; lower entries get odd ids from `LowerNodeTable`, and
    /// addresses of objects are even, so the two never meet.
    private func nodeID(of view: ViewNode) -> UInt64 {
        if view === tree.root { return 1 }
        return UInt64(UInt(bitPattern: Unmanaged.passUnretained(view).toOpaque()))
    }

    /// What a node id the kernel sent stands for.
    private func entry(_ id: UInt64) throws(ViewError) -> MountEntry {
        if id == 1 { return .view(tree.root) }
        if !LowerNodeTable.isLower(id) {
            // Only ids `nodeID(of:)` handed out come back: the kernel sends no others.
            let address = UnsafeRawPointer(bitPattern: UInt(id))!
            return .view(Unmanaged<ViewNode>.fromOpaque(address).takeUnretainedValue())
        }
        guard let found = lowerNodes.withLock({ $0.nodes[id] }) else { throw ViewError(ESTALE) }
        return .lower(path: found.path, type: found.type)
    }

    /// The entry `name` in a directory of the view.
    private func childEntry(of entry: MountEntry, named name: PathBytes) throws(ViewError)
        -> ChildEntry
    {
        let lowerDirectory: PathBytes
        switch entry {
        case .view(let directory):
            guard directory.isDirectory else { throw ViewError(ENOTDIR) }
            if let child = directory.children[ChildName(name)] { return .view(child) }
            guard !directory.hidden.contains(name), let path = directory.lowerDirectory
            else { throw ViewError(ENOENT) }
            lowerDirectory = path
        case .lower(let path, let type):
            guard type == S_IFDIR else { throw ViewError(ENOTDIR) }
            lowerDirectory = path
        }
        guard let info = try mapped({ () throws(SystemError) in
            try tree.lower.stat(name, in: lowerDirectory)
        }) else { throw ViewError(ENOENT) }
        // A lower inode the checkpoint changed shows its changes under every name.
        if info.st_mode & S_IFMT != S_IFDIR, let node = tree.promoted[LowerIdentity(info)] {
            return .view(node)
        }
        return .lower(path: childPath(lowerDirectory, name), info: info)
    }

    // MARK: Attributes

    private func lowerAttributes(_ info: stat) -> ViewAttributes {
        ViewAttributes(
            inode: tree.viewInode(LowerIdentity(info)), mode: info.st_mode,
            nlink: UInt32(truncatingIfNeeded: info.st_nlink), uid: info.st_uid,
            gid: info.st_gid, size: Int64(info.st_size), blocks: Int64(info.st_blocks),
            rdev: UInt64(info.st_rdev), mtime: info.st_mtim, ctime: info.st_ctim,
            atime: info.st_atim)
    }

    private func attributes(of view: ViewNode) throws(ViewError) -> ViewAttributes {
        let mtime = (view.mtime ?? applyTime).timespec
        let nlink = view.isDirectory ? try directoryLinkCount(view) : view.nlink
        return ViewAttributes(
            inode: view.inode, mode: view.type | view.permissions, nlink: nlink,
            uid: view.uid, gid: view.gid, size: view.size,
            blocks: try allocatedBlocks(view), rdev: view.rdev, mtime: mtime,
            ctime: mtime, atime: mtime)
    }

    /// 512-byte blocks: a member's stored bytes, a lower file's own count.
    private func allocatedBlocks(_ view: ViewNode) throws(ViewError) -> Int64 {
        switch view.content {
        case .member(let data): return (data.storedSize(size: view.size) + 511) / 512
        case .lower(let path):
            let info = try mapped { () throws(SystemError) in try tree.lower.stat(path) }
            return Int64(info?.st_blocks ?? 0)
        case .none: return view.isDirectory ? 8 : 0
        }
    }

    /// Two plus the subdirectories, as a directory's link count is on disk.
    private func directoryLinkCount(_ view: ViewNode) throws(ViewError) -> UInt32 {
        let key = ObjectIdentifier(view)
        if let known = linkCounts.withLock({ $0[key] }) { return known }
        let subdirectories = try directoryEntries(of: .view(view)).filter { $0.type == S_IFDIR }
        let count = UInt32(2 + subdirectories.count)
        linkCounts.withLock { $0[key] = count }
        return count
    }

    // MARK: Directories

    public func directoryEntries(node id: UInt64) throws(ViewError) -> [ViewDirectoryEntry] {
        try directoryEntries(of: entry(id))
    }

    private func directoryEntries(of entry: MountEntry) throws(ViewError)
        -> [ViewDirectoryEntry]
    {
        var result: [ViewDirectoryEntry] = []
        var lowerPath: PathBytes?
        var view: ViewNode?
        switch entry {
        case .view(let directory):
            guard directory.isDirectory else { throw ViewError(ENOTDIR) }
            view = directory
            lowerPath = directory.lowerDirectory
            for (name, child) in directory.children {
                result.append(ViewDirectoryEntry(name: name.bytes, inode: child.inode,
                                                 type: child.type))
            }
        case .lower(let path, let type):
            guard type == S_IFDIR else { throw ViewError(ENOTDIR) }
            lowerPath = path
        }
        if let lowerPath {
            let listing = try mapped { () throws(SystemError) in
                try tree.lower.entries(lowerPath)
            }
            for entry in listing {
                let name = entry.name
                if let view, view.children[ChildName(name)] != nil || view.hidden.contains(name) {
                    continue
                }
                // getdents gives the inode and usually the type: no lstat per entry.
                var type = UInt32(entry.type) << 12
                var identity = LowerIdentity(device: tree.lower.device, inode: entry.inode)
                if entry.type == DT_UNKNOWN {
                    guard let info = try mapped({ () throws(SystemError) in
                        try tree.lower.stat(name, in: lowerPath)
                    }) else { continue }
                    type = info.st_mode & S_IFMT
                    identity = LowerIdentity(info)
                }
                if type != S_IFDIR, let node = tree.promoted[identity] {
                    result.append(ViewDirectoryEntry(name: name, inode: node.inode,
                                                     type: node.type))
                } else {
                    result.append(ViewDirectoryEntry(
                        name: name, inode: tree.viewInode(identity), type: type))
                }
            }
        }
        result.sort { $0.name.lexicographicallyPrecedes($1.name) }
        return result
    }

    // MARK: Files

    /// Where a regular file's bytes come from, found again on each read: a read needs no
    /// handle, so the kernel may open files without asking the daemon.
    private func fileSource(_ id: UInt64) throws(ViewError) -> FileSource {
        switch try entry(id) {
        case .view(let view):
            switch view.content {
            case .member(let data): return .member(data, size: view.size)
            case .lower(let path): return .lower(path)
            case .none: throw ViewError(view.isDirectory ? EISDIR : EINVAL)
            }
        case .lower(let path, let type):
            guard type == S_IFREG else { throw ViewError(type == S_IFDIR ? EISDIR : EINVAL) }
            return .lower(path)
        }
    }

    /// Opens a lower file now, so that one that cannot be read fails where it is opened;
    /// its descriptor stays in `lowerFiles` for the reads (see `DescriptorCache`).
    public func checkReadable(node id: UInt64) throws(ViewError) {
        if case .lower(let path) = try fileSource(id) { _ = try lowerFile(path) }
    }

    private func lowerFile(_ path: PathBytes) throws(ViewError) -> FileDescriptor {
        try mapped { () throws(SystemError) in
            try lowerFiles.descriptor(for: path) { () throws(SystemError) in
                try tree.lower.open(path, flags: O_RDONLY)
            }
        }
    }

    public func read(
        node id: UInt64,
        offset: Int64,
        into buffer: UnsafeMutableRawBufferPointer
    ) throws(ViewError) -> Int {
        switch try fileSource(id) {
        case .lower(let path):
            let descriptor = try lowerFile(path)
            let count = pread(descriptor.raw, buffer.baseAddress, buffer.count, off_t(offset))
            if count < 0 { throw ViewError(ckpt_errno()) }
            return count
        case .member(let data, let size):
            guard let tar else { throw ViewError(EIO) }
            return try MemberReader.read(data, size: size, from: tar, offset: offset,
                                         into: buffer)
        }
    }

    // MARK: Extended attributes

    public func extendedAttribute(node id: UInt64, name: PathBytes) throws(ViewError)
        -> [UInt8]
    {
        guard let value = try extendedAttributes(of: entry(id)).first(where: { $0.name == name })
        else { throw ViewError(ENODATA) }
        return value.value
    }

    public func extendedAttributeNames(node id: UInt64) throws(ViewError) -> [PathBytes] {
        try extendedAttributes(of: entry(id)).map(\.name)
    }

    private func extendedAttributes(of entry: MountEntry) throws(ViewError)
        -> [(name: PathBytes, value: [UInt8])]
    {
        switch entry {
        case .view(let view): return view.xattrs
        case .lower(let path, _):
            return try mapped { () throws(SystemError) in
                try tree.lower.extendedAttributes(path)
            }
        }
    }

    public func fileSystemStatistics() throws(ViewError) -> statvfs {
        var info = statvfs()
        if fstatvfs(tree.lower.descriptor.raw, &info) != 0 { throw ViewError(ckpt_errno()) }
        return info
    }

    /// Runs a system call wrapper and maps its error to the view's errno.
    private func mapped<T>(_ body: () throws(SystemError) -> T) throws(ViewError) -> T {
        do { return try body() } catch { throw ViewError(error.errno) }
    }
}

/// What a FUSE node id stands for.
enum MountEntry {
    /// A node of the virtual tree.
    case view(ViewNode)
    /// An untouched lower entry: its path in the lower root and its `S_IFMT` bits.
    case lower(path: PathBytes, type: UInt32)
}

/// A name found in a directory of the view, before it has a node id.
enum ChildEntry {
    case view(ViewNode)
    /// An untouched lower entry with its lstat.
    case lower(path: PathBytes, info: stat)
}

/// The node ids of untouched lower entries the kernel holds, guarded by
/// `MergedView.lowerNodes`. One id per lower inode, so hard links share a kernel inode.
///
/// After a `find` over the mount the kernel holds every entry, so each costs only its path,
/// its type, its identity and a count; attributes are read again from the lower root.
struct LowerNodeTable: ~Copyable {
    struct Node {
        var path: PathBytes
        var type: UInt32
        var identity: LowerIdentity
        /// Lookups the kernel holds.
        var lookups: UInt64
    }

    var nodes: [UInt64: Node] = [:]
    private var byIdentity: [LowerIdentity: UInt64] = [:]
    private var serial: UInt64 = 0

    /// Lower ids are odd; view ids are object addresses, which are even.
    static func isLower(_ id: UInt64) -> Bool { id & 1 == 1 && id != 1 }

    /// The id of the lower entry at `path`, with one more lookup reference.
    mutating func reference(path: PathBytes, info: stat) -> UInt64 {
        let identity = LowerIdentity(info)
        if let id = byIdentity[identity] {
            nodes[id]!.lookups += 1
            return id
        }
        serial += 1
        let id = serial << 1 | 1
        nodes[id] = Node(path: path, type: info.st_mode & S_IFMT, identity: identity,
                         lookups: 1)
        byIdentity[identity] = id
        return id
    }

    mutating func forget(_ id: UInt64, count: UInt64) {
        guard let node = nodes[id] else { return }
        if node.lookups > count {
            nodes[id]!.lookups -= count
        } else {
            nodes[id] = nil
            byIdentity[node.identity] = nil
        }
    }
}

enum FileSource {
    case member(ViewNode.MemberData, size: Int64)
    /// A lower file by its path; its descriptor is in `MergedView.lowerFiles`.
    case lower(PathBytes)
}
