import CSystem
import Glibc

/// The real container root as an apply target: the commit.
///
/// Every step is one *at(2) call on the descriptor of a directory that `ApplyProcedure`
/// reached component by component, each opened with O_NOFOLLOW, so no step can reach
/// outside the root whatever the root or the tar contains.
final class RootTarget: ApplyTarget {
    typealias Directory = FileDescriptor

    let root: FileDescriptor
    /// The plain diff tar, where member data is read from.
    let tar: FileDescriptor?
    private let copier = DataCopier()

    /// Directories recently reached by name. Only this target changes the root while it
    /// applies, and it forgets a name whenever it removes it, so an entry is always the
    /// directory the name leads to. Without it, walking from the root for each member was a
    /// third of the syscalls of a commit. Two generations of 64 hold at most 128
    /// descriptors: a commit may be run with few open files allowed.
    private let reached = ReachedDirectories(limit: 64)

    init(root: FileDescriptor, tar: FileDescriptor?) {
        self.root = root
        self.tar = tar
    }

    var rootDirectory: FileDescriptor { root }

    func entryType(_ name: PathBytes, in directory: FileDescriptor) throws -> EntryType? {
        if reached.child(named: name, in: directory) != nil { return .directory }
        return try directory.statChild(name).map { EntryType(mode: $0.st_mode) }
    }

    func symlinkTarget(_ name: PathBytes, in directory: FileDescriptor) throws -> PathBytes {
        try directory.readLink(name)
    }

    func directory(_ name: PathBytes, in directory: FileDescriptor) throws -> FileDescriptor {
        if let known = reached.child(named: name, in: directory) { return known }
        let opened = try directory.openChild(name, flags: CKPT_O_PATH | CKPT_O_DIRECTORY)
        reached.remember(opened, named: name, in: directory)
        return opened
    }

    func makeImplicitDirectory(_ name: PathBytes, in directory: FileDescriptor) throws
        -> FileDescriptor
    {
        try directory.makeDirectory(name, mode: 0o700)
        let made = try directory.openChild(name, flags: O_RDONLY | CKPT_O_DIRECTORY)
        try Self.giveImplicitOwnerAndMode(made)
        reached.remember(made, named: name, in: directory)
        return made
    }

    /// Gives the directory at `path` (no symlink on it) the owner and mode of a directory
    /// made for a missing parent, if it is there: for a commit taken up again after it
    /// stopped between mkdir(2) and setting them. Nothing on the path is followed.
    func restoreImplicitDirectory(_ path: [PathBytes]) throws {
        var current = root
        for name in path {
            guard try current.statChild(name).map({ $0.st_mode & S_IFMT == S_IFDIR }) == true
            else { return }
            current = try current.openChild(name, flags: O_RDONLY | CKPT_O_DIRECTORY)
        }
        try Self.giveImplicitOwnerAndMode(current)
    }

    /// 0:0 and 0755, mode last: chown(2) may clear set-id bits, chmod sets them all.
    private static func giveImplicitOwnerAndMode(_ directory: FileDescriptor) throws {
        try directory.changeOwner(uid: 0, gid: 0)
        try directory.changeMode(0o755)
    }

    @discardableResult
    func remove(_ name: PathBytes, in directory: FileDescriptor) throws -> Bool {
        reached.forget(name, in: directory)
        try directory.removeTree(name)
        return false
    }

    func makeDirectory(_ member: TarMember, named name: PathBytes, in directory: FileDescriptor)
        throws
    {
        try directory.makeDirectory(name, mode: 0o700)
        try finishDirectory(member, named: name, in: directory)
    }

    /// mkdirat(2) first: it fails with EEXIST on any entry at the name, a symlink too.
    func makeNewDirectory(
        _ member: TarMember, named name: PathBytes, in directory: FileDescriptor
    ) throws -> Bool {
        guard try Self.madeNew({ () throws(SystemError) in
            try directory.makeDirectory(name, mode: 0o700)
        }) else { return false }
        try finishDirectory(member, named: name, in: directory)
        return true
    }

    private func finishDirectory(
        _ member: TarMember, named name: PathBytes, in directory: FileDescriptor
    ) throws {
        let made = try directory.openChild(name, flags: O_RDONLY | CKPT_O_DIRECTORY)
        try setMetadata(of: made, from: member, opened: true)
        reached.remember(made, named: name, in: directory)
    }

    func mergeDirectory(
        _ member: TarMember, named name: PathBytes, in directory: FileDescriptor
    ) throws {
        let existing = try self.directory(name, in: directory)
        try setMetadata(of: existing, from: member, opened: false)
    }

    func create(_ member: TarMember, named name: PathBytes, in directory: FileDescriptor) throws {
        let file = try makeEntry(member, named: name, in: directory)
        try finishEntry(member, file: file, named: name, in: directory)
    }

    /// The creating call first (openat(2) with O_CREAT | O_EXCL, symlinkat(2), mknodat(2)):
    /// each fails with EEXIST on any entry at the name, and none follows a symlink there.
    func createNew(
        _ member: TarMember, named name: PathBytes, in directory: FileDescriptor
    ) throws -> Bool {
        var file: FileDescriptor?
        guard try Self.madeNew({ () throws(SystemError) in
            file = try makeEntry(member, named: name, in: directory)
        }) else { return false }
        try finishEntry(member, file: file, named: name, in: directory)
        return true
    }

    /// Makes the entry of a non-directory member with the one call that creates it.
    /// - Returns: the new file, open for writing, for a regular member; nil otherwise.
    private func makeEntry(
        _ member: TarMember, named name: PathBytes, in directory: FileDescriptor
    ) throws(SystemError) -> FileDescriptor? {
        switch member.kind {
        case .regular:
            return try directory.openChild(
                name, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        case .symlink(let target):
            try directory.makeSymlink(name, target: target)
        case .fifo:
            try directory.makeNode(name, mode: S_IFIFO | 0o600, device: 0)
        case .characterDevice(let major, let minor):
            try directory.makeNode(name, mode: S_IFCHR | 0o600,
                                   device: ckpt_makedev_swift(major, minor))
        case .blockDevice(let major, let minor):
            try directory.makeNode(name, mode: S_IFBLK | 0o600,
                                   device: ckpt_makedev_swift(major, minor))
        case .directory, .hardLink:
            preconditionFailure("directories and hard links have their own steps")
        }
        return nil
    }

    /// Data, owner, xattrs, mode and time of the entry `makeEntry` made.
    private func finishEntry(
        _ member: TarMember,
        file: FileDescriptor?,
        named name: PathBytes,
        in directory: FileDescriptor
    ) throws {
        if let file {
            try copier.copy(member, from: tar!, to: file)
            try setMetadata(of: file, from: member, opened: true)
            try file.setTimes(member.mtime)
            return
        }
        let made = try directory.openChild(name, flags: CKPT_O_PATH)
        try made.changeOwner(uid: member.uid, gid: member.gid)
        for (key, value) in member.xattrs { try made.setExtendedAttribute(key, value) }
        if case .symlink = member.kind {} else { try made.changeMode(member.permissions) }
        try directory.setTimes(of: name, member.mtime)
    }

    /// Runs `create`; false when it failed with EEXIST, which means it changed nothing.
    private static func madeNew(_ create: () throws(SystemError) -> Void) throws -> Bool {
        do {
            try create()
            return true
        } catch where error.errno == EEXIST {
            return false
        }
    }

    func link(
        _ member: TarMember,
        named name: PathBytes,
        in directory: FileDescriptor,
        to targetName: PathBytes,
        in targetDirectory: FileDescriptor
    ) throws {
        try directory.makeHardLink(name, to: targetName, in: targetDirectory)
        // The reference chowns the new name, which is the shared inode: both names change.
        try directory.openChild(name, flags: CKPT_O_PATH)
            .changeOwner(uid: member.uid, gid: member.gid)
    }

    func setTime(_ time: Timestamp, of name: PathBytes, in directory: FileDescriptor) throws {
        try directory.setTimes(of: name, time)
    }

    /// Owner, xattrs, then mode: chown(2) clears setuid and setgid bits, so mode comes last.
    /// `opened` says that `file` was opened for reading or writing, not with O_PATH (a
    /// directory reached by name may be either), so that fchmod(2) can take it.
    private func setMetadata(
        of file: FileDescriptor, from member: TarMember, opened: Bool
    ) throws {
        try file.changeOwner(uid: member.uid, gid: member.gid)
        for (key, value) in member.xattrs { try file.setExtendedAttribute(key, value) }
        if opened {
            try file.changeModeOfOpenFile(member.permissions)
        } else {
            try file.changeMode(member.permissions)
        }
    }
}
