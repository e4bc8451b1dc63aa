import CheckpointFS

/// One open directory: the listing taken at `opendir`, kept until `releasedir`.
///
/// readdir offsets index into this snapshot, so a listing read in many small getdents(2)
/// calls neither loses nor repeats an entry. Offset 0 is the start; the entry at position
/// `i` carries offset `i + 1`, the position of the entry after it. `.` and `..` come first,
/// as on a disk file system.
final class DirectoryHandle: Sendable {
    /// The node that was opened.
    let node: UInt64
    /// `st_ino` of the directory itself, for `.`.
    let inode: UInt64
    /// `st_ino` of the parent directory, for `..`.
    let parentInode: UInt64
    let entries: [ViewDirectoryEntry]

    init(node: UInt64, inode: UInt64, parentInode: UInt64, entries: [ViewDirectoryEntry]) {
        self.node = node
        self.inode = inode
        self.parentInode = parentInode
        self.entries = entries
    }

    /// How many positions the listing has, `.` and `..` included.
    var count: Int { entries.count + 2 }

    /// The entry at `position`: `.`, `..`, then the snapshot in order.
    func entry(at position: Int) -> Listed {
        switch position {
        case 0: return .dot(inode: inode)
        case 1: return .dotDot(inode: parentInode)
        default: return .child(entries[position - 2])
        }
    }

    /// An entry as readdir lists it.
    enum Listed {
        case dot(inode: UInt64)
        case dotDot(inode: UInt64)
        case child(ViewDirectoryEntry)
    }
}
