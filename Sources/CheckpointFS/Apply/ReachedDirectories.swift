/// Directories of the real root recently reached by name, each with its descriptor, so that
/// the walk from the root which `ApplyProcedure` makes for a member does not stat and reopen
/// each component again.
///
/// Bounded, to hold few descriptors. When the newer generation is full it becomes the older
/// one, and a directory found there moves back to the newer: the upper levels, which every
/// walk passes through, stay, where emptying the whole set made each walk after it stat and
/// open them again.
final class ReachedDirectories {
    /// A name in a directory. The entry keeps the parent descriptor alive, so its identity
    /// cannot be reused by another descriptor while the entry exists.
    private struct Key: Hashable {
        let parent: ObjectIdentifier
        let name: PathBytes

        init(_ name: PathBytes, in parent: FileDescriptor) {
            self.parent = ObjectIdentifier(parent)
            self.name = name
        }
    }

    private typealias Entry = (parent: FileDescriptor, child: FileDescriptor)

    private var newer: [Key: Entry] = [:]
    private var older: [Key: Entry] = [:]
    /// Entries of one generation.
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// The directory `name` in `parent` leads to, if it was reached and not forgotten since.
    func child(named name: PathBytes, in parent: FileDescriptor) -> FileDescriptor? {
        let key = Key(name, in: parent)
        if let entry = newer[key] { return entry.child }
        guard let entry = older.removeValue(forKey: key) else { return nil }
        insert(entry, at: key)
        return entry.child
    }

    func remember(_ child: FileDescriptor, named name: PathBytes, in parent: FileDescriptor) {
        insert((parent, child), at: Key(name, in: parent))
    }

    /// Drops `name` in `parent`, which is about to be removed.
    func forget(_ name: PathBytes, in parent: FileDescriptor) {
        let key = Key(name, in: parent)
        newer[key] = nil
        older[key] = nil
    }

    private func insert(_ entry: Entry, at key: Key) {
        if newer.count >= limit {
            older = newer
            newer = [:]
            newer.reserveCapacity(limit)
        }
        newer[key] = entry
    }
}
