/// What an apply step finds at a name, without following it.
public enum EntryType: Sendable, Equatable {
    case directory
    case symlink
    /// A regular file, device, FIFO or socket.
    case other
}

/// Where the apply procedure carries out its decisions: the virtual tree behind the view,
/// or the real root for a commit.
///
/// `ApplyProcedure` decides every step from what a target reports, so two targets that
/// start from the same tree and are given the same steps end in the same tree. Each method
/// is one step; none of them resolves paths or follows symlinks on its own.
protocol ApplyTarget: AnyObject {
    /// A directory of the tree being built: a node, or a descriptor.
    associatedtype Directory

    var rootDirectory: Directory { get throws }

    /// What is at `name` in `directory`, like lstat(2); nil when nothing is.
    func entryType(_ name: PathBytes, in directory: Directory) throws -> EntryType?
    /// The target of the symlink at `name`.
    func symlinkTarget(_ name: PathBytes, in directory: Directory) throws -> PathBytes
    /// The existing directory at `name`.
    func directory(_ name: PathBytes, in directory: Directory) throws -> Directory

    /// Creates a missing parent directory: mode 0755, owner 0:0, the time of the apply.
    func makeImplicitDirectory(_ name: PathBytes, in directory: Directory) throws -> Directory
    /// Removes whatever is at `name`, a directory with everything below it. Returns whether
    /// what went held entries made by members (known to the virtual tree only).
    @discardableResult
    func remove(_ name: PathBytes, in directory: Directory) throws -> Bool
    /// Creates a new directory from a member's header (its mtime comes at the end).
    func makeDirectory(
        _ member: TarMember, named name: PathBytes, in directory: Directory) throws
    /// Applies a directory member's owner, mode and xattrs to the existing directory.
    func mergeDirectory(
        _ member: TarMember, named name: PathBytes, in directory: Directory) throws
    /// Creates a regular file, symlink, FIFO or device from a member.
    func create(_ member: TarMember, named name: PathBytes, in directory: Directory) throws
    /// Creates a new directory from a member, as `makeDirectory` does, where nothing is at
    /// `name`. Returns false, having changed nothing, when something is.
    func makeNewDirectory(
        _ member: TarMember, named name: PathBytes, in directory: Directory) throws -> Bool
    /// Creates a regular file, symlink, FIFO or device from a member, as `create` does,
    /// where nothing is at `name`. Returns false, having changed nothing, when something is.
    func createNew(
        _ member: TarMember, named name: PathBytes, in directory: Directory) throws -> Bool
    /// Makes `name` another name of the inode at `targetName` in `targetDirectory`, then
    /// gives that inode the member's owner.
    func link(
        _ member: TarMember,
        named name: PathBytes,
        in directory: Directory,
        to targetName: PathBytes,
        in targetDirectory: Directory
    ) throws
    /// Sets the mtime (and atime) of the entry at `name`, never following it.
    func setTime(_ time: Timestamp, of name: PathBytes, in directory: Directory) throws
}

/// The virtual tree has no create that fails on a taken name: it looks first.
extension ApplyTarget {
    func makeNewDirectory(
        _ member: TarMember, named name: PathBytes, in directory: Directory
    ) throws -> Bool {
        try whereAbsent(name, in: directory) {
            try makeDirectory(member, named: name, in: directory)
        }
    }

    func createNew(
        _ member: TarMember, named name: PathBytes, in directory: Directory
    ) throws -> Bool {
        try whereAbsent(name, in: directory) { try create(member, named: name, in: directory) }
    }

    /// Runs `make` when nothing is at `name`; returns whether it ran.
    private func whereAbsent(
        _ name: PathBytes, in directory: Directory, _ make: () throws -> Void
    ) throws -> Bool {
        guard try entryType(name, in: directory) == nil else { return false }
        try make()
        return true
    }
}
