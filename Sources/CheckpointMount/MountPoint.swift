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

    private static func join(_ directory: String, _ name: String) -> String {
        directory == "/" ? "/" + name : directory + "/" + name
    }
}
