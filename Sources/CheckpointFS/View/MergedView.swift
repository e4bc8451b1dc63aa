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
    private let nodes: Mutex<NodeTable>

    /// Builds the view of `restore` over the lower root at `rootPath`.
    /// - Throws: the same refusals as a commit of the same checkpoint.
    public init(restore: Restore, rootPath: String) throws {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        applyTime = Timestamp(now)
        (tree, outcome) = try restore.plan(rootPath: rootPath)
        tar = try restore.tarPath.map { try FileDescriptor.open(atPath: $0) }
        nodes = Mutex(NodeTable(root: MountNode(id: 1, entry: .view(tree.root))))
    }

    // MARK: Lookup

    public func lookup(parent: UInt64, name: PathBytes) throws(ViewError)
        -> (node: UInt64, attributes: ViewAttributes)
    {
        let directory = try node(parent)
        let entry = try childEntry(of: directory.entry, named: name)
        let found = nodes.withLock { $0.reference(entry) }
        return (found.id, try attributes(of: found))
    }

    public func forget(node: UInt64, count: UInt64) {
        nodes.withLock { $0.forget(node, count: count) }
    }

    public func attributes(node id: UInt64) throws(ViewError) -> ViewAttributes {
        try attributes(of: node(id))
    }

    public func readLink(node id: UInt64) throws(ViewError) -> PathBytes {
        switch try node(id).entry {
        case .view(let view) where view.type == S_IFLNK: return view.symlinkTarget
        case .lower(let path, let info) where info.st_mode & S_IFMT == S_IFLNK:
            return try mapped { () throws(SystemError) in try tree.lower.readLink(path) }
        default: throw ViewError(EINVAL)
        }
    }

    private func node(_ id: UInt64) throws(ViewError) -> MountNode {
        guard let found = nodes.withLock({ $0.nodes[id] }) else { throw ViewError(ESTALE) }
        return found
    }

    /// The entry `name` in a directory of the view.
    private func childEntry(of entry: MountEntry, named name: PathBytes) throws(ViewError)
        -> MountEntry
    {
        let lowerDirectory: PathBytes
        switch entry {
        case .view(let directory):
            guard directory.isDirectory else { throw ViewError(ENOTDIR) }
            if let child = directory.children[name] { return .view(child) }
            guard !directory.hidden.contains(name), let path = directory.lowerDirectory
            else { throw ViewError(ENOENT) }
            lowerDirectory = path
        case .lower(let path, let info):
            guard info.st_mode & S_IFMT == S_IFDIR else { throw ViewError(ENOTDIR) }
            lowerDirectory = path
        }
        let path = childPath(lowerDirectory, name)
        guard let info = try mapped({ () throws(SystemError) in
            try tree.lower.stat(name, in: lowerDirectory)
        }) else { throw ViewError(ENOENT) }
        return lowerEntry(path: path, info: info)
    }

    private func lowerEntry(path: PathBytes, info: stat) -> MountEntry {
        // A lower inode the checkpoint changed shows its changes under every name.
        if info.st_mode & S_IFMT != S_IFDIR, let node = tree.promoted[LowerIdentity(info)] {
            return .view(node)
        }
        return .lower(path: path, info: info)
    }

    // MARK: Attributes

    private func attributes(of node: MountNode) throws(ViewError) -> ViewAttributes {
        switch node.entry {
        case .lower(_, let info):
            return ViewAttributes(
                inode: tree.viewInode(LowerIdentity(info)), mode: info.st_mode,
                nlink: UInt32(truncatingIfNeeded: info.st_nlink), uid: info.st_uid,
                gid: info.st_gid, size: Int64(info.st_size), blocks: Int64(info.st_blocks),
                rdev: UInt64(info.st_rdev), mtime: info.st_mtim, ctime: info.st_ctim,
                atime: info.st_atim)
        case .view(let view):
            let mtime = (view.mtime ?? applyTime).timespec
            let nlink = view.isDirectory ? try directoryLinkCount(node, view) : view.nlink
            return ViewAttributes(
                inode: view.inode, mode: view.type | view.permissions, nlink: nlink,
                uid: view.uid, gid: view.gid, size: view.size,
                blocks: try allocatedBlocks(view), rdev: view.rdev, mtime: mtime,
                ctime: mtime, atime: mtime)
        }
    }

    /// 512-byte blocks: a member's stored bytes, a lower file's own count.
    private func allocatedBlocks(_ view: ViewNode) throws(ViewError) -> Int64 {
        switch view.content {
        case .member(let member): return (member.storedSize + 511) / 512
        case .lower(let path):
            let info = try mapped { () throws(SystemError) in try tree.lower.stat(path) }
            return Int64(info?.st_blocks ?? 0)
        case .none: return view.isDirectory ? 8 : 0
        }
    }

    /// Two plus the subdirectories, as a directory's link count is on disk.
    private func directoryLinkCount(_ node: MountNode, _ view: ViewNode) throws(ViewError)
        -> UInt32
    {
        if let known = nodes.withLock({ $0.linkCounts[node.id] }) { return known }
        let subdirectories = try directoryEntries(of: node.entry).filter { $0.type == S_IFDIR }
        let count = UInt32(2 + subdirectories.count)
        nodes.withLock { $0.linkCounts[node.id] = count }
        return count
    }

    // MARK: Directories

    public func directoryEntries(node id: UInt64) throws(ViewError) -> [ViewDirectoryEntry] {
        try directoryEntries(of: node(id).entry)
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
                result.append(ViewDirectoryEntry(name: name, inode: child.inode,
                                                 type: child.type))
            }
        case .lower(let path, let info):
            guard info.st_mode & S_IFMT == S_IFDIR else { throw ViewError(ENOTDIR) }
            lowerPath = path
        }
        if let lowerPath {
            let listing = try mapped { () throws(SystemError) in
                try tree.lower.entries(lowerPath)
            }
            for entry in listing {
                let name = entry.name
                if let view, view.children[name] != nil || view.hidden.contains(name) {
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

    public func openFile(node id: UInt64) throws(ViewError) -> UInt64 {
        let file: OpenFile
        switch try node(id).entry {
        case .view(let view):
            switch view.content {
            case .member(let member): file = .member(member)
            case .lower(let path): file = try openLower(path)
            case .none: throw ViewError(view.isDirectory ? EISDIR : EINVAL)
            }
        case .lower(let path, let info):
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw ViewError(info.st_mode & S_IFMT == S_IFDIR ? EISDIR : EINVAL)
            }
            file = try openLower(path)
        }
        return UInt64(UInt(bitPattern: Unmanaged.passRetained(OpenFileBox(file)).toOpaque()))
    }

    private func openLower(_ path: PathBytes) throws(ViewError) -> OpenFile {
        .lower(try mapped { () throws(SystemError) in
            try tree.lower.open(path, flags: O_RDONLY)
        })
    }

    public func read(
        handle: UInt64,
        offset: Int64,
        into buffer: UnsafeMutableRawBufferPointer
    ) throws(ViewError) -> Int {
        let box = Unmanaged<OpenFileBox>
            .fromOpaque(UnsafeRawPointer(bitPattern: UInt(handle))!).takeUnretainedValue()
        switch box.file {
        case .lower(let descriptor):
            let count = pread(descriptor.raw, buffer.baseAddress, buffer.count, off_t(offset))
            if count < 0 { throw ViewError(ckpt_errno()) }
            return count
        case .member(let member):
            guard let tar else { throw ViewError(EIO) }
            return try MemberReader.read(member, from: tar, offset: offset, into: buffer)
        }
    }

    public func releaseFile(handle: UInt64) {
        Unmanaged<OpenFileBox>
            .fromOpaque(UnsafeRawPointer(bitPattern: UInt(handle))!).release()
    }

    // MARK: Extended attributes

    public func extendedAttribute(node id: UInt64, name: PathBytes) throws(ViewError)
        -> [UInt8]
    {
        guard let value = try extendedAttributes(of: node(id)).first(where: { $0.name == name })
        else { throw ViewError(ENODATA) }
        return value.value
    }

    public func extendedAttributeNames(node id: UInt64) throws(ViewError) -> [PathBytes] {
        try extendedAttributes(of: node(id)).map(\.name)
    }

    private func extendedAttributes(of node: MountNode) throws(ViewError)
        -> [(name: PathBytes, value: [UInt8])]
    {
        switch node.entry {
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
    /// An untouched lower entry, with its lstat at lookup.
    case lower(path: PathBytes, info: stat)

    /// One node id per inode, so hard links share a kernel inode.
    var key: MountKey {
        switch self {
        case .view(let node): return .view(ObjectIdentifier(node))
        case .lower(_, let info): return .lower(LowerIdentity(info))
        }
    }
}

enum MountKey: Hashable {
    case view(ObjectIdentifier)
    case lower(LowerIdentity)
}

final class MountNode: @unchecked Sendable {
    let id: UInt64
    let entry: MountEntry
    /// Lookups the kernel holds; guarded by the table's lock.
    var lookups: UInt64 = 0

    init(id: UInt64, entry: MountEntry) {
        self.id = id
        self.entry = entry
    }
}

/// The node ids the kernel knows, guarded by `MergedView.nodes`.
struct NodeTable: ~Copyable {
    var nodes: [UInt64: MountNode] = [:]
    var byKey: [MountKey: MountNode] = [:]
    var linkCounts: [UInt64: UInt32] = [:]
    private var nextID: UInt64 = 2

    init(root: MountNode) {
        nodes[1] = root
        byKey[root.entry.key] = root
        root.lookups = 1  // the kernel never forgets the root
    }

    mutating func reference(_ entry: MountEntry) -> MountNode {
        let key = entry.key
        if let existing = byKey[key] {
            existing.lookups += 1
            return existing
        }
        let node = MountNode(id: nextID, entry: entry)
        nextID += 1
        node.lookups = 1
        nodes[node.id] = node
        byKey[key] = node
        return node
    }

    mutating func forget(_ id: UInt64, count: UInt64) {
        guard id != 1, let node = nodes[id] else { return }
        node.lookups -= min(count, node.lookups)
        if node.lookups == 0 {
            nodes[id] = nil
            byKey[node.entry.key] = nil
            linkCounts[id] = nil
        }
    }
}

enum OpenFile {
    case member(TarMember)
    case lower(FileDescriptor)
}

final class OpenFileBox {
    let file: OpenFile
    init(_ file: OpenFile) { self.file = file }
}
