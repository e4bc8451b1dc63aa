/// Why `create` wrote nothing, or stopped.
public enum CreateError: Error, Sendable, CustomStringConvertible {
    /// Some changes cannot be expressed and `allowLossy` is off. Nothing was written.
    case inexpressible([InexpressibleChange])
    /// libarchive refused a member (or the archive) of the diff tar being written.
    case archive(file: String, member: String?, reason: String)
    /// An entry of the changed root is not what the comparison saw: the tree changed while
    /// `create` ran, and the diff would not match it.
    case changedDuringCreate(path: String, reason: String)

    public var description: String {
        switch self {
        case .inexpressible(let changes):
            let lines = changes.map { "  " + $0.description }.joined(separator: "\n")
            return "\(changes.count) change(s) cannot be expressed in a diff tar and "
                + "deleted list, so nothing was written (allowing lossy output writes the "
                + "diff anyway and reports each):\n" + lines
        case .archive(let file, let member?, let reason):
            return "\(file): member '\(member)': \(reason)"
        case .archive(let file, nil, let reason):
            return "\(file): \(reason)"
        case .changedDuringCreate(let path, let reason):
            return "\(path): changed while the diff was being made: \(reason)"
        }
    }
}
