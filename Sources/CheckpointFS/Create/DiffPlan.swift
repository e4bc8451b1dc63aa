/// Everything `create` decided from comparing a changed root with its base, before writing.
public struct DiffPlan: Sendable {
    /// The change list, in `podman diff` order.
    public var changes: [FileChange]
    /// The diff tar's members, in order.
    public var members: [PlannedMember]
    /// The deleted list: absolute paths, a deleted directory once without its children.
    public var deletedPaths: [PathBytes]
    /// Directories the diff re-creates with all their content (see
    /// `CreateOptions.rebuildDirectories`), as absolute paths.
    public var rebuiltDirectories: [PathBytes]
    /// What the diff cannot reproduce; empty when applying it onto the base gives the
    /// changed root exactly.
    public var inexpressible: [InexpressibleChange]

    /// Bytes of file data the tar will hold.
    public var dataSize: Int64 {
        members.reduce(0) { $0 + $1.size }
    }
}
