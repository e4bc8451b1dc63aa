import Synchronization

/// Descriptors of lower entries by path, shared by every thread and bounded.
///
/// The kernel answers FUSE's RELEASE whenever the daemon gets to it, so many readers that
/// open and close files fast leave thousands of handles open at once; a descriptor per
/// handle would run into the open-files limit. Handles therefore keep a path, and reads
/// take the descriptor from here. A full cache is emptied at once (cheaper than tracking
/// use); a descriptor in use stays open for its reader, which holds a reference to it.
final class DescriptorCache: Sendable {
    private let entries = Mutex<[PathBytes: FileDescriptor]>([:])
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// The descriptor for `path`, opened with `open` when there is none.
    func descriptor(
        for path: PathBytes,
        open: () throws(SystemError) -> FileDescriptor
    ) throws(SystemError) -> FileDescriptor {
        if let known = entries.withLock({ $0[path] }) { return known }
        let opened = try open()
        entries.withLock { cache in
            if cache.count >= limit { cache.removeAll(keepingCapacity: true) }
            cache[path] = opened
        }
        return opened
    }
}
