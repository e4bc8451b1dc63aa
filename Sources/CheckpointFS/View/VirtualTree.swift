import CSystem
import Glibc

/// The tree a commit would produce, held as the differences from the lower root.
///
/// `ApplyProcedure` builds it as it would change a real root: only what the checkpoint
/// touches becomes a `ViewNode`; everything else is read from the lower root when asked.
/// Once built it does not change.
public final class VirtualTree: ApplyTarget, @unchecked Sendable {
    public let lower: LowerRoot
    public let root: ViewNode
    /// Lower non-directories whose inode the checkpoint changes (owner or link count),
    /// whichever name they are reached by.
    public private(set) var promoted: [LowerIdentity: ViewNode] = [:]
    private var nextInode: UInt64 = 1 << 56

    public init(lower: LowerRoot) throws(SystemError) {
        self.lower = lower
        let info = try lower.descriptor.stat()
        root = ViewNode(
            type: info.st_mode & S_IFMT, permissions: info.st_mode & 0o7777,
            uid: info.st_uid, gid: info.st_gid, mtime: Timestamp(info.st_mtim),
            inode: Self.viewInode(LowerIdentity(info), rootDevice: lower.device),
            fromMember: false)
        root.lowerDirectory = []
        root.size = Int64(info.st_size)
        root.xattrs = try lower.descriptor.extendedAttributes()
    }

    /// The `st_ino` the view shows for a lower inode: its own number on the root's device.
    public func viewInode(_ identity: LowerIdentity) -> UInt64 {
        Self.viewInode(identity, rootDevice: lower.device)
    }

    static func viewInode(_ identity: LowerIdentity, rootDevice: UInt64) -> UInt64 {
        if identity.device == rootDevice { return identity.inode }
        // Another file system mounted inside the root: keep its numbers apart.
        return identity.inode ^ (identity.device &* 0x9E37_79B9_7F4A_7C15) | (1 << 63)
    }

    /// The size a new directory shows: one block, as on ext4 and xfs (it depends on the file
    /// system a commit writes to, so no value is right everywhere).
    static let directorySize: Int64 = 4096

    private func allocateInode() -> UInt64 {
        nextInode += 1
        return nextInode
    }

    // MARK: ApplyTarget

    public var rootDirectory: ViewNode { root }

    public func entryType(_ name: PathBytes, in directory: ViewNode) throws -> EntryType? {
        if let child = directory.children[ChildName(name)] { return EntryType(mode: child.type) }
        guard !directory.hidden.contains(name), let lowerPath = directory.lowerDirectory,
              let info = try lower.stat(name, in: lowerPath)
        else { return nil }
        return EntryType(mode: info.st_mode & S_IFMT)
    }

    public func symlinkTarget(_ name: PathBytes, in directory: ViewNode) throws -> PathBytes {
        if let child = directory.children[ChildName(name)] { return child.symlinkTarget }
        return try lower.readLink(childPath(directory.lowerDirectory!, name))
    }

    public func directory(_ name: PathBytes, in directory: ViewNode) throws -> ViewNode {
        try existingNode(name, in: directory)
    }

    public func makeImplicitDirectory(_ name: PathBytes, in directory: ViewNode) throws
        -> ViewNode
    {
        let node = ViewNode(type: S_IFDIR, permissions: 0o755, uid: 0, gid: 0, mtime: nil,
                            inode: allocateInode(), fromMember: true)
        node.size = Self.directorySize
        insert(node, named: name, in: directory)
        return node
    }

    @discardableResult
    public func remove(_ name: PathBytes, in directory: ViewNode) throws -> Bool {
        var hadMemberContent = false
        if let child = directory.children.removeValue(forKey: ChildName(name)) {
            hadMemberContent = try detach(child)
        } else if let lowerPath = directory.lowerDirectory,
                  let info = try lower.stat(name, in: lowerPath)
        {
            try detachLower(childPath(lowerPath, name), info)
        }
        if let lowerPath = directory.lowerDirectory, try lower.stat(name, in: lowerPath) != nil {
            directory.hidden.insert(name)
        }
        directory.mtime = nil
        return hadMemberContent
    }

    public func makeDirectory(
        _ member: TarMember, named name: PathBytes, in directory: ViewNode
    ) throws {
        let node = memberNode(member, type: S_IFDIR)
        node.mtime = nil  // like mkdir(2) now; the header's time is set at the end
        node.size = Self.directorySize
        insert(node, named: name, in: directory)
    }

    public func mergeDirectory(
        _ member: TarMember, named name: PathBytes, in directory: ViewNode
    ) throws {
        let node = try self.directory(name, in: directory)
        node.uid = member.uid
        node.gid = member.gid
        node.permissions = member.permissions
        for (key, value) in member.xattrs {
            if let slot = node.xattrs.firstIndex(where: { $0.name == key }) {
                node.xattrs[slot].value = value
            } else {
                node.xattrs.append((key, value))
            }
        }
        node.fromMember = true
    }

    public func create(_ member: TarMember, named name: PathBytes, in directory: ViewNode)
        throws
    {
        let node: ViewNode
        switch member.kind {
        case .regular:
            node = memberNode(member, type: S_IFREG)
            node.size = member.size
            node.content = .member(ViewNode.MemberData(member))
        case .symlink(let target):
            node = memberNode(member, type: S_IFLNK)
            // The kernel makes every symlink 0777, whatever mode the header gives.
            node.permissions = 0o777
            node.size = Int64(target.count)
            node.symlinkTarget = target
        case .fifo:
            node = memberNode(member, type: S_IFIFO)
        case .characterDevice(let major, let minor):
            node = memberNode(member, type: S_IFCHR)
            node.rdev = UInt64(ckpt_makedev_swift(major, minor))
        case .blockDevice(let major, let minor):
            node = memberNode(member, type: S_IFBLK)
            node.rdev = UInt64(ckpt_makedev_swift(major, minor))
        case .directory, .hardLink:
            preconditionFailure("directories and hard links have their own steps")
        }
        insert(node, named: name, in: directory)
    }

    public func link(
        _ member: TarMember,
        named name: PathBytes,
        in directory: ViewNode,
        to targetName: PathBytes,
        in targetDirectory: ViewNode
    ) throws {
        let node = try existingNode(targetName, in: targetDirectory)
        node.nlink += 1
        node.uid = member.uid
        node.gid = member.gid
        // chown(2) of a non-directory drops setuid, and setgid where group execute is set
        // (the kernel's should_remove_suid); the commit's chown does the same.
        node.permissions &= ~UInt32(Glibc.S_ISUID)
        if node.permissions & UInt32(Glibc.S_IXGRP) != 0 {
            node.permissions &= ~UInt32(Glibc.S_ISGID)
        }
        insert(node, named: name, in: directory)
    }

    public func setTime(_ time: Timestamp, of name: PathBytes, in directory: ViewNode) throws {
        try existingNode(name, in: directory).mtime = time
    }

    // MARK: Nodes

    /// The node of the existing entry `name`, made for a lower entry if it has none yet: a
    /// lower directory joins the tree so its entries can change, a lower non-directory
    /// becomes a promoted inode so every name of it shows the change.
    private func existingNode(_ name: PathBytes, in directory: ViewNode) throws -> ViewNode {
        if let child = directory.children[ChildName(name)] { return child }
        let path = childPath(directory.lowerDirectory!, name)
        guard let info = try lower.stat(path) else {
            throw SystemError(errno: ENOENT, operation: "lstat", path: path.displayPath)
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { return try promote(info, path: path) }
        let node = try lowerNode(info, path: path)
        node.lowerDirectory = path
        directory.children[ChildName(name)] = node
        return node
    }

    private func insert(_ node: ViewNode, named name: PathBytes, in directory: ViewNode) {
        directory.children[ChildName(name)] = node
        directory.mtime = nil
    }

    private func memberNode(_ member: TarMember, type: UInt32) -> ViewNode {
        let node = ViewNode(
            type: type, permissions: member.permissions, uid: member.uid, gid: member.gid,
            mtime: member.mtime, inode: allocateInode(), fromMember: true)
        node.xattrs = member.xattrs
        return node
    }

    /// A node standing for the lower entry at `path`, with its metadata.
    func lowerNode(_ info: stat, path: PathBytes) throws -> ViewNode {
        let identity = LowerIdentity(info)
        let node = ViewNode(
            type: info.st_mode & S_IFMT, permissions: info.st_mode & 0o7777,
            uid: info.st_uid, gid: info.st_gid, mtime: Timestamp(info.st_mtim),
            inode: viewInode(identity), fromMember: false)
        node.nlink = UInt32(truncatingIfNeeded: info.st_nlink)
        node.size = Int64(info.st_size)
        node.rdev = UInt64(info.st_rdev)
        node.xattrs = try lower.extendedAttributes(path)
        switch info.st_mode & S_IFMT {
        case S_IFREG: node.content = .lower(path)
        case S_IFLNK: node.symlinkTarget = try lower.readLink(path)
        default: break
        }
        return node
    }

    /// The node of a lower non-directory inode whose owner or link count changes.
    private func promote(_ info: stat, path: PathBytes) throws -> ViewNode {
        let identity = LowerIdentity(info)
        if let node = promoted[identity] { return node }
        let node = try lowerNode(info, path: path)
        promoted[identity] = node
        return node
    }

    /// Accounts for a removed node and everything below it: hard-linked inodes lose a link.
    /// Returns whether any of it was a member's.
    private func detach(_ node: ViewNode) throws -> Bool {
        guard node.isDirectory else {
            node.nlink -= 1
            return node.fromMember
        }
        var hadMemberContent = node.fromMember
        for child in node.children.values where try detach(child) {
            hadMemberContent = true
        }
        if let lowerPath = node.lowerDirectory {
            for entry in try lower.entries(lowerPath)
            where node.children[ChildName(entry.name)] == nil && !node.hidden.contains(entry.name) {
                let path = childPath(lowerPath, entry.name)
                if let info = try lower.stat(path) { try detachLower(path, info) }
            }
        }
        return hadMemberContent
    }

    /// Accounts for a lower entry going away: hard-linked inodes lose a link.
    private func detachLower(_ path: PathBytes, _ info: stat) throws {
        if info.st_mode & S_IFMT == S_IFDIR {
            for entry in try lower.entries(path) {
                let child = childPath(path, entry.name)
                if let childInfo = try lower.stat(child) { try detachLower(child, childInfo) }
            }
        } else if info.st_nlink > 1 || promoted[LowerIdentity(info)] != nil {
            try promote(info, path: path).nlink -= 1
        }
    }
}

extension EntryType {
    init(mode: UInt32) {
        switch mode & S_IFMT {
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symlink
        default: self = .other
        }
    }
}

extension Timestamp {
    init(_ time: timespec) {
        self.init(seconds: Int64(time.tv_sec), nanoseconds: Int32(time.tv_nsec))
    }
}

func ckpt_makedev_swift(_ major: UInt32, _ minor: UInt32) -> UInt64 {
    UInt64(ckpt_makedev(major, minor))
}
