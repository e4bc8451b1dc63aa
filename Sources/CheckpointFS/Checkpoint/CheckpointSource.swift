import CSystem
import Glibc
import Synchronization

/// One file of a checkpoint: where to read it now, and what the user calls it.
public struct CheckpointFile: Sendable, Equatable {
    /// A path to read: in the checkpoint directory, or in the source's private cache.
    public var path: String
    /// The name for messages: `/ckpt/rootfs-diff.tar` or `ckrich.tar.zst:rootfs-diff.tar`.
    public var displayName: String

    public init(path: String, displayName: String) {
        self.path = path
        self.displayName = displayName
    }
}

/// A checkpoint on disk, a directory or an exported archive, reduced to the two files that
/// change a root: a plain (uncompressed) diff tar and the deleted list.
///
/// A directory's files are used in place unless the diff tar is compressed. Whatever must be
/// decompressed or taken out of an archive is written once into a private cache directory
/// (mode 0700, under `$TMPDIR` or `/var/tmp`), which goes when the source is closed.
/// A plain tar export is copied out as well: the diff tar is then an ordinary file.
public final class CheckpointSource: Sendable {
    /// What the checkpoint path named.
    public enum Layout: Sendable, Equatable {
        case directory
        /// An exported archive; `compression` is libarchive's filter name, `nil` for plain tar.
        case archive(compression: String?)
    }

    /// The path the checkpoint was opened from.
    public let path: String
    public let layout: Layout
    /// The diff tar, uncompressed; `nil` when the checkpoint has none.
    public let diffTar: CheckpointFile?
    /// The deleted list; `nil` when the checkpoint has none.
    public let deletedList: CheckpointFile?
    private let cache: CheckpointCache?

    private init(
        path: String,
        layout: Layout,
        diffTar: CheckpointFile?,
        deletedList: CheckpointFile?,
        cache: CheckpointCache?
    ) {
        self.path = path
        self.layout = layout
        self.diffTar = diffTar
        self.deletedList = deletedList
        self.cache = cache
    }

    deinit {
        close()
    }

    /// Removes the private cache. The paths of cached files are gone afterwards; the files of
    /// a checkpoint directory are never touched. Calling it again does nothing.
    public func close() {
        cache?.remove()
    }

    /// The name of the diff tar in a checkpoint.
    public static let diffTarName = "rootfs-diff.tar"
    /// The name of the decompressed diff tar in the cache.
    private static let plainDiffTarName = "rootfs-diff.plain.tar"
    /// The name of the deleted list in a checkpoint.
    public static let deletedListName = "deleted.files"

    /// Opens a checkpoint directory or an exported archive (plain tar, gzip, zstd, or any
    /// other compression libarchive recognises from the bytes).
    ///
    /// - Parameter onProgress: called now and then while an archive or a compressed diff
    ///   tar is read, with the bytes of that file read so far and its size.
    /// - Throws: `CheckpointError.notACheckpoint` when `path` is missing or neither a
    ///   directory nor a tar archive; `CheckpointError.malformedArchive` naming the file and
    ///   member when an archive or a compressed diff tar is damaged; `SystemError` when the
    ///   cache cannot be written.
    public static func open(
        path: String,
        onProgress: ((_ done: Int64, _ total: Int64) -> Void)? = nil
    ) throws -> CheckpointSource {
        let progress = ReadProgress(report: onProgress)
        return try isDirectory(path)
            ? openDirectory(path: path, progress: progress)
            : openArchive(path: path, progress: progress)
    }

    /// Reads one top-level file of a checkpoint, such as `config.dump`, straight from the
    /// directory or the archive: nothing else is extracted, and an archive is read only as
    /// far as that member.
    ///
    /// - Returns: the bytes and the file's name for messages; `nil` when there is no such file.
    /// - Throws: as `open(path:)`; `CheckpointError.malformedArchive` also when the file is
    ///   larger than `limit` bytes.
    public static func readFile(
        _ name: String,
        checkpoint path: String,
        limit: Int
    ) throws -> (bytes: [UInt8], displayName: String)? {
        if try isDirectory(path) {
            let directory = try FileDescriptor.openDirectory(atPath: path)
            guard let file = try directory.regularChild(name) else { return nil }
            let displayName = file.path
            guard let bytes = try file.readToEnd(limit: limit) else {
                throw CheckpointError.malformedArchive(
                    file: displayName, member: nil, reason: "larger than \(limit) bytes")
            }
            return (bytes, displayName)
        }

        let reader = try archiveReader(path: path)
        var first = true
        while let header = try reader.nextHeaderOrRefusal(first: first) {
            first = false
            guard CheckpointMemberName.normalized(header.name) == name else { continue }
            guard header.isRegularFile else {
                throw CheckpointError.malformedArchive(
                    file: path, member: header.name.displayPath, reason: "not a regular file")
            }
            return (try reader.readAll(limit: limit), "\(path):\(name)")
        }
        return nil
    }

    /// Whether `path` names a checkpoint directory (or else an archive file).
    private static func isDirectory(_ path: String) throws(CheckpointError) -> Bool {
        var info = Glibc.stat()
        guard fstatat(CKPT_AT_FDCWD, path, &info, 0) == 0 else {
            let reason = String(cString: strerror(ckpt_errno()))
            throw .notACheckpoint(path: path, reason: reason)
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return true
        case S_IFREG: return false
        default: throw .notACheckpoint(path: path, reason: "neither a directory nor a regular file")
        }
    }

    /// A tar reader over the archive at `path`; a file libarchive cannot open is no checkpoint.
    private static func archiveReader(path: String) throws -> ArchiveReader {
        let archive = try FileDescriptor.open(atPath: path)
        do {
            return try ArchiveReader(file: archive, displayName: path, layout: .tar)
        } catch {
            throw CheckpointError.notACheckpoint(path: path, reason: error.reason)
        }
    }

    private static func openDirectory(
        path: String,
        progress: ReadProgress
    ) throws -> CheckpointSource {
        let directory = try FileDescriptor.openDirectory(atPath: path)
        var cache: CheckpointCache?
        var diffTar: CheckpointFile?
        var deletedList: CheckpointFile?

        if let file = try directory.regularChild(diffTarName) {
            let name = directory.childPath(PathBytes(path: diffTarName))
            let plain = try CheckpointCache.plainCopy(
                of: file, displayName: name, as: plainDiffTarName, cache: &cache,
                progress: progress)
            diffTar = CheckpointFile(path: plain ?? name, displayName: name)
        }
        if try directory.regularChild(deletedListName) != nil {
            let name = directory.childPath(PathBytes(path: deletedListName))
            deletedList = CheckpointFile(path: name, displayName: name)
        }
        return CheckpointSource(path: path, layout: .directory, diffTar: diffTar,
                                deletedList: deletedList, cache: cache)
    }

    private static func openArchive(
        path: String,
        progress: ReadProgress
    ) throws -> CheckpointSource {
        let reader = try archiveReader(path: path)
        var info = Glibc.stat()
        let archiveSize = fstatat(CKPT_AT_FDCWD, path, &info, 0) == 0 ? Int64(info.st_size) : 0
        var cache: CheckpointCache?
        var members: [String: String] = [:]
        var sawHeader = false

        while let header = try reader.nextHeaderOrRefusal(first: !sawHeader) {
            sawHeader = true
            let name = CheckpointMemberName.normalized(header.name)
            guard name == diffTarName || name == deletedListName else { continue }
            guard header.isRegularFile else {
                throw CheckpointError.malformedArchive(
                    file: path, member: header.name.displayPath, reason: "not a regular file")
            }
            // A later member of the same name replaces an earlier one, as extraction would.
            let target = try cache ?? CheckpointCache()
            cache = target
            members[name] = try target.store(name, from: reader, size: header.size) {
                progress.report(reader.bytesRead, archiveSize)
            }
        }

        var diffTar: CheckpointFile?
        if let stored = members[diffTarName] {
            // podman writes a plain tar here, but nothing stops a compressed one.
            let name = "\(path):\(diffTarName)"
            let plain = try CheckpointCache.plainCopy(
                of: try FileDescriptor.open(atPath: stored), displayName: name,
                as: plainDiffTarName, cache: &cache, progress: progress)
            if plain != nil { cache?.discard(diffTarName) }
            diffTar = CheckpointFile(path: plain ?? stored, displayName: name)
        }
        let deletedList = members[deletedListName].map {
            CheckpointFile(path: $0, displayName: "\(path):\(deletedListName)")
        }
        return CheckpointSource(path: path, layout: .archive(compression: reader.compression),
                                diffTar: diffTar, deletedList: deletedList, cache: cache)
    }

}

extension ArchiveReader {
    /// The next header; a failure on the very first one means the file is no tar at all.
    fileprivate func nextHeaderOrRefusal(first: Bool) throws(CheckpointError) -> Header? {
        do {
            return try nextHeader()
        } catch where first {
            throw .notACheckpoint(path: displayName, reason: error.reason)
        }
    }
}

extension CheckpointError {
    /// The reason text of an error, without the file name in front.
    var reason: String {
        switch self {
        case .notACheckpoint(_, let reason), .malformedArchive(_, _, let reason),
             .malformedDeletedList(_, let reason):
            return reason
        case .refusedMember(_, _, let refusal), .refusedDeletedPath(_, _, let refusal):
            return refusal.description
        }
    }
}

extension FileDescriptor {
    /// The child `name` opened for reading if it is a regular file; `nil` if it is missing.
    ///
    /// - Throws: `CheckpointError.notACheckpoint` when it exists but is something else (a
    ///   symlink is not followed: a checkpoint holds its files itself).
    fileprivate func regularChild(_ name: String) throws -> FileDescriptor? {
        let bytes = PathBytes(path: name)
        guard let info = try statChild(bytes) else { return nil }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw CheckpointError.notACheckpoint(path: childPath(bytes),
                                                 reason: "not a regular file")
        }
        return try openChild(bytes, flags: O_RDONLY)
    }
}

/// Where reading a checkpoint's archive or compressed diff tar reports its progress.
struct ReadProgress {
    let report: ((Int64, Int64) -> Void)?

    var isWanted: Bool { report != nil }

    func report(_ done: Int64, _ total: Int64) {
        report?(done, total)
    }
}

/// Member names of a checkpoint archive as podman compares them.
enum CheckpointMemberName {
    /// The name without leading `/` and `./`, so `./config.dump` is `config.dump`.
    static func normalized(_ name: PathBytes) -> String {
        var rest = name[...]
        while true {
            if rest.first == UInt8(ascii: "/") {
                rest = rest.dropFirst()
            } else if rest.starts(with: [UInt8(ascii: "."), UInt8(ascii: "/")]) {
                rest = rest.dropFirst(2)
            } else {
                return String(decoding: rest, as: UTF8.self)
            }
        }
    }
}

/// The private directory a checkpoint source writes decompressed and extracted files into.
///
/// Made with mkdtemp(3) (mode 0700); files are created through its descriptor only, and the
/// directory goes with everything in it on `remove()` or when the last reference is dropped.
final class CheckpointCache: Sendable {
    let path: String
    let directory: FileDescriptor
    private let removed = Mutex(false)

    init() throws(SystemError) {
        let base = getenv("TMPDIR").map { String(cString: $0) }.flatMap {
            $0.isEmpty ? nil : $0
        } ?? "/var/tmp"
        var template = Array((base + "/checkpointfs-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw SystemError(errno: ckpt_errno(), operation: "mkdtemp", path: base)
        }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                      as: UTF8.self)
        directory = try FileDescriptor.openDirectory(atPath: path)
    }

    deinit {
        remove()
    }

    /// Decompresses `file` into the cache (made on first use) as `name` if its bytes show a
    /// compression filter.
    ///
    /// - Returns: the path of the plain copy, or `nil` when `file` is plain already.
    static func plainCopy(
        of file: FileDescriptor,
        displayName: String,
        as name: String,
        cache: inout CheckpointCache?,
        progress: ReadProgress = ReadProgress(report: nil)
    ) throws -> String? {
        // An empty file is an empty tar to the reader; libarchive cannot read it raw.
        let size = Int64(try file.stat().st_size)
        guard size > 0 else { return nil }
        let reader = try ArchiveReader(file: file, displayName: displayName, layout: .raw)
        guard reader.compression != nil else { return nil }
        guard let header = try reader.nextHeader() else {
            throw CheckpointError.malformedArchive(file: displayName, member: nil,
                                                   reason: "empty compressed stream")
        }
        let target = try cache ?? CheckpointCache()
        cache = target
        return try target.store(name, from: reader, size: header.size) {
            progress.report(reader.bytesRead, size)
        }
    }

    /// Writes the current member's data of `reader` into the file `name` of the cache,
    /// replacing an earlier file of that name. Holes of sparse data stay holes.
    ///
    /// - Parameter onBlock: called after each block is written.
    /// - Returns: the path of the written file.
    func store(
        _ name: String,
        from reader: ArchiveReader,
        size: Int64,
        onBlock: () -> Void = {}
    ) throws -> String {
        let file = try directory.openChild(PathBytes(path: name),
                                           flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        var end: Int64 = 0
        try reader.readData { offset, bytes in
            try file.write(bytes, at: offset)
            end = max(end, offset + Int64(bytes.count))
            onBlock()
        }
        // A sparse member may end in a hole; the raw stream of a decompressed file has no size.
        let length = max(end, size)
        _ = try check("ftruncate", file.path) { ftruncate(file.raw, off_t(length)) }
        return file.path
    }

    /// Removes the file `name` from the cache, if it is there.
    func discard(_ name: String) {
        _ = PathBytes(path: name).withCPath { unlinkat(directory.raw, $0, 0) }
    }

    /// Removes every file in the cache and the cache itself; errors are ignored, since there
    /// is no one to report them to when a source is dropped.
    func remove() {
        let first = removed.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        for entry in (try? directory.directoryEntries()) ?? [] {
            _ = entry.name.withCPath { unlinkat(directory.raw, $0, 0) }
        }
        _ = rmdir(path)
    }
}
