import CheckpointFS
import CSystem
import Glibc

/// Mount point paths as the mount table spells them: absolute, without symlinks.
public enum MountPoint {
    /// realpath(3) of a directory to mount on.
    public static func resolve(_ path: String) throws(SystemError) -> String {
        guard let resolved = realpath(path, nil) else {
            throw SystemError(errno: ckpt_errno(), operation: "realpath", path: path)
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The path of a mount to take away: realpath(3) of its parent and the last name as
    /// given, so a dead mount, which answers ENOTCONN to everything, is never touched.
    public static func resolveWithoutLast(_ path: String) throws(SystemError) -> String {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        let slash = trimmed.lastIndex(of: "/")
        let last = slash.map { String(trimmed[trimmed.index(after: $0)...]) } ?? trimmed
        if last.isEmpty || last == "." || last == ".." { return try resolve(trimmed) }
        let parent = switch slash {
        case nil: "."
        case trimmed.startIndex: "/"
        case let slash?: String(trimmed[..<slash])
        }
        return try join(resolve(parent), last)
    }

    /// Checks that a view of the lower root at `root` can be mounted on the resolved path
    /// `mountPoint`: a directory, not already holding a view (mounts would stack), and not
    /// inside the root itself (the view would contain itself, which no commit does).
    public static func checkUsable(_ mountPoint: String, root: String) throws(MountError) {
        var info = stat()
        guard stat(mountPoint, &info) == 0 else {
            throw .system(SystemError(errno: ckpt_errno(), operation: "stat", path: mountPoint))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw .unusableMountPoint(mountPoint: mountPoint, reason: "not a directory")
        }
        let existing: MountTableEntry?
        do {
            existing = try MountTable.entry(at: mountPoint)
        } catch {
            throw .system(error)
        }
        if existing?.type == "fuse.checkpointfs" {
            throw .unusableMountPoint(mountPoint: mountPoint,
                                      reason: "a view is already mounted there")
        }
        let resolvedRoot: String
        do {
            resolvedRoot = try resolve(root)
        } catch {
            throw .system(error)
        }
        if mountPoint == resolvedRoot || resolvedRoot == "/"
            || mountPoint.hasPrefix(resolvedRoot + "/")
        {
            throw .unusableMountPoint(mountPoint: mountPoint,
                                      reason: "it is inside the root \(resolvedRoot)")
        }
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory == "/" ? "/" + name : directory + "/" + name
    }
}
