import CSystem
import Glibc

/// The container root being restored into, read through descriptors only.
///
/// Paths are relative to the root and name directories the tree walk found as real
/// directories, so each is opened with openat2(2) RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS:
/// if the lower root changed under us and a symlink appeared, the open fails instead of
/// leaving the root.
public final class LowerRoot: Sendable {
    public let path: String
    public let descriptor: FileDescriptor
    /// The device of the root itself, for inode numbering.
    public let device: UInt64

    public init(path: String) throws(SystemError) {
        self.path = path
        self.descriptor = try FileDescriptor.openDirectory(atPath: path)
        self.device = UInt64(try descriptor.stat().st_dev)
    }

    private static let resolve =
        CKPT_RESOLVE_BENEATH | CKPT_RESOLVE_NO_SYMLINKS | CKPT_RESOLVE_NO_MAGICLINKS

    /// O_PATH descriptors of the directories names were last looked up in. Building a view
    /// and serving its lookups stat many names in one directory after another; reopening the
    /// directory from the root for each walks the whole path again. Bounded, so a root with
    /// many directories holds few descriptors.
    private let searched = DescriptorCache(limit: 256)

    /// Opens the lower directory at `path` (empty: the root).
    public func openDirectory(_ path: PathBytes, flags: Int32 = O_RDONLY) throws(SystemError)
        -> FileDescriptor
    {
        if path.isEmpty && flags == O_RDONLY { return descriptor }
        return try descriptor.openBeneath(path, flags: flags | CKPT_O_DIRECTORY,
                                          resolve: Self.resolve)
    }

    /// Opens the entry at `path` without following it (O_PATH unless `flags` say otherwise).
    public func open(_ path: PathBytes, flags: Int32 = CKPT_O_PATH) throws(SystemError)
        -> FileDescriptor
    {
        try descriptor.openBeneath(path, flags: flags | CKPT_O_NOFOLLOW, resolve: Self.resolve)
    }

    /// lstat(2) of `name` in the lower directory at `directory`; nil when it does not exist
    /// (or the directory does not).
    public func stat(_ name: PathBytes, in directory: PathBytes) throws(SystemError)
        -> Glibc.stat?
    {
        let parent: FileDescriptor
        do {
            parent = try searchable(directory)
        } catch let error where error.errno == ENOENT || error.errno == ENOTDIR {
            return nil
        }
        return try parent.statChild(name)
    }

    /// A descriptor of the lower directory at `path` to look names up in.
    private func searchable(_ path: PathBytes) throws(SystemError) -> FileDescriptor {
        if path.isEmpty { return descriptor }
        return try searched.descriptor(for: path) { () throws(SystemError) in
            try openDirectory(path, flags: CKPT_O_PATH)
        }
    }

    /// lstat(2) of the entry at `path`.
    public func stat(_ path: PathBytes) throws(SystemError) -> Glibc.stat? {
        guard let slash = path.lastIndex(of: UInt8(ascii: "/")) else {
            if path.isEmpty { return try descriptor.stat() }
            return try stat(path, in: [])
        }
        return try stat(Array(path[(slash + 1)...]), in: Array(path[..<slash]))
    }

    public func readLink(_ path: PathBytes) throws(SystemError) -> PathBytes {
        guard let slash = path.lastIndex(of: UInt8(ascii: "/")) else {
            return try descriptor.readLink(path)
        }
        let parent = try searchable(Array(path[..<slash]))
        return try parent.readLink(Array(path[(slash + 1)...]))
    }

    /// The entries of the lower directory at `path`.
    public func entries(_ path: PathBytes) throws(SystemError) -> [DirectoryEntry] {
        try openDirectory(path).directoryEntries()
    }

    /// The xattrs of the entry at `path`.
    public func extendedAttributes(_ path: PathBytes) throws(SystemError)
        -> [(name: PathBytes, value: [UInt8])]
    {
        try open(path).extendedAttributes()
    }
}

/// `parent/name` as a lower path.
func childPath(_ parent: PathBytes, _ name: PathBytes) -> PathBytes {
    parent.isEmpty ? name : parent + [UInt8(ascii: "/")] + name
}
