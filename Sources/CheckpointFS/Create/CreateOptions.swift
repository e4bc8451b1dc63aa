/// How `create` compares the trees and what it does where a change cannot be expressed.
public struct CreateOptions: Sendable {
    /// Compare the bytes of regular files whose header fields (size, mtime, mode, owner,
    /// xattrs) are all equal. Off: such files count as unchanged, as `podman diff` counts
    /// them, which is faster and misses an edit that kept both size and mtime.
    public var compareContents = true
    /// Rebuild a kept directory (placeholder, directory member, all its content) when
    /// entries were deleted in it or xattrs removed from it, so its mtime and xattrs come
    /// back exactly. Off: deletions go to the deleted list as podman writes them, and the
    /// directory's mtime (and removed xattrs) count as inexpressible.
    public var rebuildDirectories = true
    /// Write the diff even when some changes cannot be expressed (they are still reported).
    public var allowLossy = false

    public init(
        compareContents: Bool = true,
        rebuildDirectories: Bool = true,
        allowLossy: Bool = false
    ) {
        self.compareContents = compareContents
        self.rebuildDirectories = rebuildDirectories
        self.allowLossy = allowLossy
    }
}
