/// A difference between the changed root and its base that no diff tar and deleted list can
/// reproduce, given how a restore applies them (untar, then remove the deleted paths).
public struct InexpressibleChange: Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// The root's own mode, owner, xattrs or mtime differ: the restore skips a member
        /// that names the root, so nothing can carry them.
        case rootMetadata(fields: [String])
        /// Entries are added, replaced or removed directly in the root, which has no header
        /// to set its mtime back afterwards: the restore leaves it at the time of the restore.
        case rootTimeStamped
        /// Entries were deleted in this directory and it is kept rather than rebuilt: the
        /// deleted list runs after the tar and leaves the directory's mtime at the time of
        /// the restore.
        case directoryTimeStampedByDeletion
        /// xattrs were removed from this directory and it is kept rather than rebuilt: a
        /// merged directory header only sets xattrs.
        case xattrsRemovedFromDirectory(names: [String])
        /// An xattr with an empty value: the restore does not set empty values.
        case emptyXattrValue(name: String)
        /// A socket: tar has no type for one.
        case socket
        /// The inode has more names than one and needs a hard-link member, whose owner the
        /// restore applies with chown(2); that clears setuid, setgid and
        /// `security.capability` on the shared inode.
        case hardLinkClearsPrivileges
        /// A deleted path that is not UTF-8: `deleted.files` is JSON, which cannot carry it.
        case deletedPathNotUTF8

        public var description: String {
            switch self {
            case .rootMetadata(let fields):
                return "the root directory's \(fields.joined(separator: ", ")) changed; "
                    + "no member can set the root's own metadata"
            case .rootTimeStamped:
                return "entries change directly in the root; the restore leaves the root's "
                    + "mtime at the time of the restore"
            case .directoryTimeStampedByDeletion:
                return "entries were deleted in it; the deleted list runs last and leaves its "
                    + "mtime at the time of the restore"
            case .xattrsRemovedFromDirectory(let names):
                return "xattrs removed (\(names.joined(separator: ", "))); a directory header "
                    + "can only set xattrs"
            case .emptyXattrValue(let name):
                return "xattr \(name) has an empty value, which the restore does not set"
            case .socket:
                return "it is a socket, which a tar cannot hold"
            case .hardLinkClearsPrivileges:
                return "a hard-link member chowns the shared inode, which clears its setuid, "
                    + "setgid and security.capability"
            case .deletedPathNotUTF8:
                return "its name is not UTF-8, which deleted.files (JSON) cannot hold"
            }
        }
    }

    /// The absolute path inside the root.
    public var path: PathBytes
    public var reason: Reason

    public init(path: PathBytes, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        "\(path.displayPath): \(reason)"
    }
}
