import CSystem
import Glibc

/// The reverse of a restore: from a changed root and its base, the diff tar and deleted list
/// that turn the base into the changed root when a restore applies them (untar, then remove
/// every deleted path).
///
/// Unlike podman 4.3 it keeps modified files, the owner, mode, xattrs and mtime of files and
/// directories, directories deleted and re-created, hard links among new files and to base
/// files, and files replaced by directories and the reverse. What no diff can express is
/// reported by name (`DiffPlan.inexpressible`) rather than silently lost.
///
/// Both roots are read only through descriptors: names are looked up one directory at a
/// time with O_NOFOLLOW and AT_SYMLINK_NOFOLLOW, and file data is read through openat2(2)
/// with RESOLVE_NO_SYMLINKS, so a symlink in either root is never followed. The roots must
/// not change while `create` runs, and the output directory must lie outside both.
public enum CheckpointDiff {
    /// Compares `changed` with `base` and decides the diff, writing nothing.
    public static func plan(
        base: FileDescriptor,
        changed: FileDescriptor,
        options: CreateOptions = CreateOptions()
    ) throws -> DiffPlan {
        try DiffPlanner(base: base, changed: changed, options: options).plan()
    }

    /// The change list alone, as `podman diff` prints it.
    public static func changes(
        base: FileDescriptor,
        changed: FileDescriptor,
        options: CreateOptions = CreateOptions()
    ) throws -> [FileChange] {
        try plan(base: base, changed: changed, options: options).changes
    }

    /// Writes a plan into the directory `output`: `rootfs-diff.tar` when the plan has
    /// members and `deleted.files` when it has deleted paths. Like podman, a file with
    /// nothing to hold is not written, and a stale one of that name is removed so the
    /// directory always holds exactly this diff. Each file is written under a temporary
    /// name and renamed into place, mode 0600 (it holds the container's files).
    ///
    /// - Parameter changed: the changed root the plan was made from; file data is read there.
    public static func write(
        _ plan: DiffPlan,
        from changed: FileDescriptor,
        to output: FileDescriptor
    ) throws {
        let tarName = PathBytes(path: CheckpointSource.diffTarName)
        let deletedListName = PathBytes(path: CheckpointSource.deletedListName)
        if plan.members.isEmpty {
            try output.removeTree(tarName)
        } else {
            try replace(tarName, in: output) { file in
                let writer = try DiffTarWriter(output: file, displayName: output.childPath(tarName))
                for member in plan.members { try writer.write(member, from: changed) }
                try writer.finish()
            }
        }
        if plan.deletedPaths.isEmpty {
            try output.removeTree(deletedListName)
        } else {
            try replace(deletedListName, in: output) { file in
                let text = DeletedList.encode(plan.deletedPaths)
                try text.withUnsafeBytes { try file.write($0, at: 0) }
            }
        }
    }

    /// Plans the diff of `changedPath` against `basePath` and writes it into `outputPath`
    /// (made, mode 0700, if missing).
    ///
    /// - Throws: `CreateError.inexpressible` before anything is written when some change
    ///   cannot be expressed and `options.allowLossy` is off; `SystemError` and
    ///   `CreateError` for what failed on the way.
    /// - Returns: the plan that was written.
    @discardableResult
    public static func create(
        basePath: String,
        changedPath: String,
        outputPath: String,
        options: CreateOptions = CreateOptions()
    ) throws -> DiffPlan {
        let base = try FileDescriptor.openDirectory(atPath: basePath)
        let changed = try FileDescriptor.openDirectory(atPath: changedPath)
        let plan = try plan(base: base, changed: changed, options: options)
        if !plan.inexpressible.isEmpty && !options.allowLossy {
            throw CreateError.inexpressible(plan.inexpressible)
        }
        try write(plan, from: changed, to: try openOutput(atPath: outputPath))
        return plan
    }

    /// Opens the directory a diff is written into, making it (mode 0700) if it is missing.
    public static func openOutput(atPath path: String) throws -> FileDescriptor {
        if mkdir(path, 0o700) != 0 && ckpt_errno() != EEXIST {
            throw SystemError(errno: ckpt_errno(), operation: "mkdir", path: path)
        }
        return try FileDescriptor.openDirectory(atPath: path)
    }

    /// Writes `name` in `directory` through a temporary name, renamed over it at the end.
    private static func replace(
        _ name: PathBytes,
        in directory: FileDescriptor,
        writing body: (FileDescriptor) throws -> Void
    ) throws {
        let temporary = PathBytes(path: ".") + name + PathBytes(path: ".partial")
        try directory.removeTree(temporary)
        let file = try directory.openChild(
            temporary, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        do {
            try body(file)
        } catch {
            try? directory.removeTree(temporary)
            throw error
        }
        _ = try temporary.withCPath { (from) throws(SystemError) in
            try name.withCPath { (to) throws(SystemError) in
                try check("renameat", directory.childPath(name)) {
                    renameat(directory.raw, from, directory.raw, to)
                }
            }
        }
    }
}
