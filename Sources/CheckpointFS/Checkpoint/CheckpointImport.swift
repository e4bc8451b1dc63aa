import Glibc

/// Importing an exported checkpoint archive into a directory, as a restore does first:
/// either everything but the container configuration, or only the configuration.
///
/// The archive's members are written by the same apply procedure as a commit, with a
/// member filter: the same replace and merge rules, the same containment (a symlink in the
/// archive or the destination resolves inside the destination), and the same refusal of
/// the whole archive, before anything is written, when a member would escape.
public enum CheckpointImport {
    /// The members that carry the container's configuration.
    public static let configFiles = ["config.dump", "spec.dump"]

    /// Which members an import writes.
    public enum Selection: Sendable, Equatable {
        /// Everything except `config.dump` and `spec.dump` (podman's
        /// CRImportCheckpointWithoutConfig).
        case withoutConfig
        /// Only `config.dump` and `spec.dump` (podman's CRImportCheckpointConfigOnly).
        case configOnly
    }

    /// Imports the archive at `archive` (plain tar or any compression libarchive recognises
    /// from its bytes) into the existing directory `destination`.
    ///
    /// A compressed archive is decompressed once into a private cache, removed afterwards.
    ///
    /// - Parameter onProgress: called now and then while the archive is decompressed and
    ///   indexed, with the bytes of it read so far and its size.
    /// - Returns: what the apply did.
    /// - Throws: `CheckpointError.notACheckpoint` when `archive` is missing or a directory;
    ///   `CheckpointError.malformedArchive` or `.refusedMember` naming the archive and the
    ///   member, before anything is written; `CommitError` naming the member where writing
    ///   failed.
    @discardableResult
    public static func run(
        archive: String,
        into destination: String,
        selection: Selection,
        onProgress: ((_ done: Int64, _ total: Int64) -> Void)? = nil
    ) throws -> ApplyOutcome {
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(atPath: archive)
        } catch {
            throw CheckpointError.notACheckpoint(path: archive, reason: error.reasonText)
        }
        guard try file.stat().st_mode & S_IFMT == S_IFREG else {
            throw CheckpointError.notACheckpoint(
                path: archive, reason: "an exported archive is needed, not a directory")
        }

        var cache: CheckpointCache?
        defer { cache?.remove() }
        let plain = try CheckpointCache.plainCopy(
            of: file, displayName: archive, as: "archive.tar", cache: &cache,
            progress: ReadProgress(report: onProgress)) ?? archive

        let whole = try TarIndex(path: plain, displayName: archive, onProgress: onProgress)
        let selected = TarIndex(
            displayName: whole.displayName,
            members: whole.members.filter { isSelected($0.name, by: selection) })
        let restore = Restore(
            index: selected, tarPath: plain,
            deletedList: DeletedPaths(displayName: archive, paths: []))
        return try restore.commit(rootPath: destination)
    }

    /// Whether a member belongs to the selection, by its cleaned name: a configuration file,
    /// or anything below a directory of that name, is configuration.
    ///
    /// A name that cannot be cleaned is always selected, so the apply refuses it and the
    /// whole archive with it, whichever part is imported.
    static func isSelected(_ name: PathBytes, by selection: Selection) -> Bool {
        guard case .success(let components) = RootPath.components(of: name) else {
            return true
        }
        let isConfig = components.first.map {
            configFiles.contains(String(decoding: $0, as: UTF8.self))
        } ?? false
        switch selection {
        case .withoutConfig: return !isConfig
        case .configOnly: return isConfig
        }
    }
}

extension TarIndex {
    /// An index of some members of another, for an apply of part of a tar. The members keep
    /// their data offsets in the tar they came from.
    init(displayName: String, members: [TarMember]) {
        self.displayName = displayName
        self.members = members
    }
}

extension SystemError {
    /// strerror(3) of the errno, for messages that name the path themselves.
    var reasonText: String {
        String(cString: strerror(errno))
    }
}
