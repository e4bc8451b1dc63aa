/// One member `create` writes into the diff tar, in the order it is written.
public struct PlannedMember: Sendable {
    /// Why the member is there, for summaries and tests; the tar does not record it.
    public enum Role: Sendable, Equatable {
        /// An entry of the changed root.
        case entry
        /// An empty file written over a directory that is then re-created by the directory
        /// member right after it: a non-directory member replaces the directory's whole
        /// subtree, so the old content goes without any deleted path (which would run after
        /// the tar and stamp the directory's mtime, or remove the new content too).
        case placeholder
        /// The header of a directory that exists in the base and is kept: it merges, and
        /// only sets the owner, mode, xattrs and mtime.
        case mergedDirectory
    }

    /// The name relative to the root, without a leading `/` or `./` and, for directories,
    /// without the trailing `/` that the tar name gets.
    public var path: PathBytes
    public var kind: TarMember.Kind
    public var role: Role
    /// Permission bits with setuid, setgid and sticky.
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var mtime: Timestamp
    /// The file's size (regular files only; 0 otherwise).
    public var size: Int64
    /// Sorted by name; `security.selinux` never appears.
    public var xattrs: [(name: PathBytes, value: [UInt8])]
    /// The inode the data must come from, checked again when it is read.
    var source: LowerIdentity?

    /// The name in the tar: directories end in `/`.
    public var archiveName: PathBytes {
        kind == .directory ? path + [UInt8(ascii: "/")] : path
    }
}
