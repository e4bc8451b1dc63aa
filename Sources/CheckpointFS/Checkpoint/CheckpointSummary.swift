import CSystem
import Glibc

/// What a checkpoint holds, as `inspect` shows it: the container it came from, its CRIU
/// images, and what its diff tar and deleted list would change.
///
/// It is read in one pass and nothing is extracted: an archive is read front to back, the
/// diff tar inside it is read from the archive's stream as it goes by, and only
/// `config.dump` and `deleted.files` are held in memory.
public struct CheckpointSummary: Sendable {
    /// The checkpoint path as given.
    public var path: String
    public var layout: CheckpointSource.Layout
    /// The size of an archive file; `nil` for a directory.
    public var archiveSize: Int64?
    /// The container configuration; `nil` when the checkpoint has no `config.dump`.
    public var config: ConfigDump?
    /// The regular files below `checkpoint/`: CRIU's images and its descriptors file.
    public var criuImages = FileTally()
    /// The modification time of `checkpoint/inventory.img`, which CRIU writes when a dump
    /// ends: the time of the checkpoint where `config.dump` does not record it.
    public var criuDumpTime: Timestamp?
    /// The regular files at the top of the checkpoint (`config.dump`, `spec.dump`, ...),
    /// in the order met.
    public var files: [MemberSize] = []
    /// The diff tar; `nil` when the checkpoint has none.
    public var diffTar: DiffTarSummary?
    /// The paths of the deleted list in file order; `nil` when the checkpoint has none.
    public var deletedPaths: [String]?

    /// A count of files and their bytes.
    public struct FileTally: Sendable, Equatable {
        public var count = 0
        public var bytes: Int64 = 0

        public init(count: Int = 0, bytes: Int64 = 0) {
            self.count = count
            self.bytes = bytes
        }
    }

    /// A name and a size in bytes.
    public struct MemberSize: Sendable, Equatable {
        public var name: String
        public var size: Int64

        public init(name: String, size: Int64) {
            self.name = name
            self.size = size
        }
    }

    /// What the root file system part of a checkpoint amounts to.
    public enum RootFileSystem: String, Sendable {
        /// A diff tar is there (with or without a deleted list).
        case included
        /// Only a deleted list: the container only removed files.
        case deletionsOnly = "deletions only"
        /// Neither file: made with `--ignore-rootfs`, or the container changed nothing. podman
        /// records no difference between the two.
        case absent
    }

    public var rootFileSystem: RootFileSystem {
        if diffTar != nil { return .included }
        return deletedPaths == nil ? .absent : .deletionsOnly
    }

    /// The directory that holds CRIU's images in a checkpoint.
    public static let imageDirectory = "checkpoint"
    /// The CRIU file whose time is the time of the dump.
    public static let inventoryName = "inventory.img"

    /// Reads what the checkpoint directory or exported archive at `path` holds.
    ///
    /// - Parameters:
    ///   - largest: how many of the diff tar's largest members to keep.
    ///   - onProgress: called now and then with the bytes of the archive (or of a directory's
    ///     diff tar) read so far and their total.
    /// - Throws: `CheckpointError.notACheckpoint` when `path` is neither a directory nor a
    ///   tar archive, or `config.dump` is not podman's JSON; `.malformedArchive` naming the
    ///   file and member where the archive or the diff tar cannot be read;
    ///   `.malformedDeletedList` for a deleted list that is not a JSON array of strings;
    ///   `SystemError` when a file cannot be read.
    public static func read(
        checkpoint path: String,
        largest: Int = 5,
        onProgress: ((_ done: Int64, _ total: Int64) -> Void)? = nil
    ) throws -> CheckpointSummary {
        var info = Glibc.stat()
        guard fstatat(CKPT_AT_FDCWD, path, &info, 0) == 0 else {
            throw CheckpointError.notACheckpoint(
                path: path, reason: String(cString: strerror(ckpt_errno())))
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            return try readDirectory(path, largest: largest, onProgress: onProgress)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw CheckpointError.notACheckpoint(
                path: path, reason: "neither a directory nor a regular file")
        }
        return try readArchive(path, size: Int64(info.st_size), largest: largest,
                               onProgress: onProgress)
    }

    private static func readArchive(
        _ path: String,
        size: Int64,
        largest: Int,
        onProgress: ((Int64, Int64) -> Void)?
    ) throws -> CheckpointSummary {
        let reader: ArchiveReader
        do {
            reader = try ArchiveReader(file: try FileDescriptor.open(atPath: path),
                                       displayName: path, layout: .tar)
        } catch let error as CheckpointError {
            throw CheckpointError.notACheckpoint(path: path, reason: error.reason)
        }
        var summary = CheckpointSummary(path: path, layout: .archive(compression: nil),
                                        archiveSize: size)
        var first = true
        while let header = try nextHeader(reader, first: first) {
            first = false
            onProgress?(reader.bytesRead, size)
            let name = CheckpointMemberName.normalized(header.name)
            guard header.isRegularFile else { continue }
            let member = "\(path):\(name)"
            if let image = name.imageName {
                summary.criuImages.count += 1
                summary.criuImages.bytes += header.size
                if image == inventoryName {
                    summary.criuDumpTime = Timestamp(seconds: header.mtime, nanoseconds: 0)
                }
                continue
            }
            guard !name.contains("/") else { continue }
            // A later member of the same name replaces an earlier one, as extraction would.
            summary.files.removeAll { $0.name == name }
            summary.files.append(MemberSize(name: name, size: header.size))
            switch name {
            case ConfigDump.fileName:
                summary.config = try ConfigDump.parse(
                    try reader.readAll(limit: ConfigDump.sizeLimit), checkpoint: path)
            case CheckpointSource.deletedListName:
                summary.deletedPaths = try DeletedList.parse(
                    try reader.readAll(limit: DeletedList.sizeLimit), file: member)
            case CheckpointSource.diffTarName:
                var diff = DiffTarSummary(size: header.size, keeping: largest)
                if header.size > 0 {
                    try diff.add(ArchiveReader(member: reader, displayName: member,
                                               layout: .tar)) {
                        onProgress?(reader.bytesRead, size)
                    }
                }
                summary.diffTar = diff
            default:
                break
            }
        }
        summary.layout = .archive(compression: reader.compression)
        onProgress?(size, size)
        return summary
    }

    /// The next header of an archive; a failure on the very first one means the file is no
    /// tar at all.
    private static func nextHeader(_ reader: ArchiveReader, first: Bool) throws
        -> ArchiveReader.Header?
    {
        do {
            return try reader.nextHeader()
        } catch where first {
            throw CheckpointError.notACheckpoint(path: reader.displayName, reason: error.reason)
        }
    }

    private static func readDirectory(
        _ path: String,
        largest: Int,
        onProgress: ((Int64, Int64) -> Void)?
    ) throws -> CheckpointSummary {
        let directory = try FileDescriptor.openDirectory(atPath: path)
        var summary = CheckpointSummary(path: path, layout: .directory)

        let entries = try directory.directoryEntries()
        for entry in entries.sorted(by: { $0.name.lexicographicallyPrecedes($1.name) }) {
            guard let info = try directory.statChild(entry.name),
                  info.st_mode & S_IFMT == S_IFREG
            else { continue }
            summary.files.append(MemberSize(name: entry.name.displayPath,
                                            size: Int64(info.st_size)))
        }
        if let config = try CheckpointSource.readFile(
            ConfigDump.fileName, checkpoint: path, limit: ConfigDump.sizeLimit)
        {
            summary.config = try ConfigDump.parse(config.bytes, checkpoint: path)
        }
        if let info = try directory.statChild(PathBytes(path: imageDirectory)),
           info.st_mode & S_IFMT == S_IFDIR
        {
            let images = try directory.openChild(PathBytes(path: imageDirectory),
                                                 flags: O_RDONLY | CKPT_O_DIRECTORY)
            summary.criuImages = try tally(images)
            if let inventory = try images.statChild(PathBytes(path: inventoryName)) {
                summary.criuDumpTime = Timestamp(seconds: Int64(inventory.st_mtim.tv_sec),
                                                 nanoseconds: Int32(inventory.st_mtim.tv_nsec))
            }
        }

        let diffName = PathBytes(path: CheckpointSource.diffTarName)
        if let info = try directory.statChild(diffName), info.st_mode & S_IFMT == S_IFREG {
            let size = Int64(info.st_size)
            var diff = DiffTarSummary(size: size, keeping: largest)
            if size > 0 {
                let file = try directory.openChild(diffName, flags: O_RDONLY)
                let reader = try ArchiveReader(file: file, displayName: file.path, layout: .tar)
                try diff.add(reader) { onProgress?(reader.bytesRead, size) }
            }
            summary.diffTar = diff
        }
        if try directory.statChild(PathBytes(path: CheckpointSource.deletedListName)) != nil {
            let name = directory.childPath(PathBytes(path: CheckpointSource.deletedListName))
            summary.deletedPaths = try DeletedList.load(
                CheckpointFile(path: name, displayName: name))
        }
        return summary
    }

    /// The regular files below `directory`, counted through every level.
    private static func tally(_ directory: FileDescriptor) throws -> FileTally {
        var tally = FileTally()
        for entry in try directory.directoryEntries() {
            guard let info = try directory.statChild(entry.name) else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                tally.count += 1
                tally.bytes += Int64(info.st_size)
            case S_IFDIR:
                let inner = try Self.tally(directory.openChild(entry.name,
                                                          flags: O_RDONLY | CKPT_O_DIRECTORY))
                tally.count += inner.count
                tally.bytes += inner.bytes
            default:
                break
            }
        }
        return tally
    }
}

/// What a diff tar holds: its members by kind, their data, and the largest of them.
public struct DiffTarSummary: Sendable {
    /// The size of `rootfs-diff.tar` as stored (compressed, if it is).
    public var size: Int64
    /// libarchive's name of the diff tar's own compression; `nil` when it is plain, as podman
    /// writes it.
    public var compression: String?
    public var members = 0
    public var regularFiles = 0
    public var directories = 0
    public var symlinks = 0
    public var hardLinks = 0
    /// FIFOs and devices.
    public var otherMembers = 0
    /// The sum of the regular members' sizes.
    public var dataBytes: Int64 = 0
    /// The largest regular members, largest first (by name where sizes are equal).
    public var largest: [CheckpointSummary.MemberSize] = []
    private let keep: Int

    init(size: Int64, keeping keep: Int) {
        self.size = size
        self.keep = keep
    }

    /// Counts every member `reader` holds.
    /// - Parameter progress: called after each member.
    mutating func add(_ reader: ArchiveReader, progress: () -> Void) throws {
        while let header = try reader.nextHeader() {
            members += 1
            if header.isHardLink {
                hardLinks += 1
            } else if header.isRegularFile {
                regularFiles += 1
                dataBytes += header.size
                consider(CheckpointSummary.MemberSize(name: header.name.displayPath,
                                                      size: header.size))
            } else if header.isDirectory {
                directories += 1
            } else if header.isSymlink {
                symlinks += 1
            } else {
                otherMembers += 1
            }
            progress()
        }
        compression = reader.compression
    }

    private mutating func consider(_ member: CheckpointSummary.MemberSize) {
        guard keep > 0 else { return }
        if largest.count == keep, let last = largest.last, !Self.precedes(member, last) {
            return
        }
        let slot = largest.firstIndex { Self.precedes(member, $0) } ?? largest.count
        largest.insert(member, at: slot)
        if largest.count > keep { largest.removeLast() }
    }

    private static func precedes(
        _ left: CheckpointSummary.MemberSize,
        _ right: CheckpointSummary.MemberSize
    ) -> Bool {
        left.size != right.size ? left.size > right.size : left.name < right.name
    }
}

extension String {
    /// The name of a file below `checkpoint/`, or `nil` for any other member name.
    fileprivate var imageName: Substring? {
        let prefix = CheckpointSummary.imageDirectory + "/"
        guard hasPrefix(prefix), count > prefix.count else { return nil }
        return self[index(startIndex, offsetBy: prefix.count)...]
    }
}
