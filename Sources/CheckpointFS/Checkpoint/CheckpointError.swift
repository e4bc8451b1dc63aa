/// Why a checkpoint, or one entry of it, was refused.
///
/// Every case names the file it is about and, where there is one, the member or path.
/// A refusal always happens before anything is written.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The checkpoint path is neither a checkpoint directory nor a readable archive.
    case notACheckpoint(path: String, reason: String)
    /// The tar cannot be read: truncated, damaged, not a tar at all.
    case malformedArchive(file: String, member: String?, reason: String)
    /// A member that would be unsafe or impossible to apply.
    case refusedMember(file: String, member: String, reason: Refusal)
    /// `deleted.files` is not a JSON array of strings.
    case malformedDeletedList(file: String, reason: String)
    /// A deleted path that would be unsafe or impossible to remove.
    case refusedDeletedPath(file: String, path: String, reason: Refusal)

    public var description: String {
        switch self {
        case .notACheckpoint(let path, let reason):
            return "\(path): not a checkpoint: \(reason)"
        case .malformedArchive(let file, let member?, let reason):
            return "\(file): member '\(member)': \(reason)"
        case .malformedArchive(let file, nil, let reason):
            return "\(file): \(reason)"
        case .refusedMember(let file, let member, let reason):
            return "\(file): member '\(member)' refused: \(reason)"
        case .malformedDeletedList(let file, let reason):
            return "\(file): \(reason)"
        case .refusedDeletedPath(let file, let path, let reason):
            return "\(file): deleted path '\(path)' refused: \(reason)"
        }
    }
}

/// The rule an entry broke.
public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// Its name climbs above the root (`../x`, `a/../../x`, `..`).
    case climbsAboveRoot
    /// It names the root itself (a deleted path `/` or empty).
    case namesRoot
    /// A name with a NUL byte, a component over 255 bytes, or a path over 4095 bytes.
    case invalidName(String)
    /// A tar type we do not apply (the type flag as a character).
    case unknownType(String)
    /// A hard link whose target does not exist at that point of the apply.
    case hardLinkTargetMissing(target: String)
    /// A hard link to a directory.
    case hardLinkToDirectory(target: String)
    /// A component of the path, or of a symlink met on it, is not a directory.
    case notADirectory(component: String)
    /// A symlink met on the path leads to nothing.
    case danglingSymlink(component: String)
    /// More than 40 symlinks met while resolving the path.
    case tooManySymlinks
    /// A symlink member with an empty target, which no file system can hold.
    case emptySymlinkTarget
    /// A symlink member whose target is longer than the kernel takes (4095 bytes).
    case symlinkTargetTooLong
    /// An xattr the kernel would refuse on this type of file.
    case xattrNotAllowed(name: String, reason: String)

    public var description: String {
        switch self {
        case .climbsAboveRoot: return "its name climbs above the root"
        case .namesRoot: return "it names the root itself"
        case .invalidName(let why): return "invalid name: \(why)"
        case .unknownType(let flag): return "unknown tar entry type '\(flag)'"
        case .hardLinkTargetMissing(let target):
            return "hard link target '\(target)' does not exist"
        case .hardLinkToDirectory(let target):
            return "hard link target '\(target)' is a directory"
        case .notADirectory(let component):
            return "'\(component)' on its path is not a directory"
        case .danglingSymlink(let component):
            return "'\(component)', where a symlink on its path leads, does not exist"
        case .tooManySymlinks: return "more than 40 symlinks on its path"
        case .emptySymlinkTarget: return "a symlink with an empty target"
        case .symlinkTargetTooLong: return "a symlink target longer than 4095 bytes"
        case .xattrNotAllowed(let name, let reason): return "xattr '\(name)': \(reason)"
        }
    }
}
