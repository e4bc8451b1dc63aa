import CSystem
import Glibc

/// Compares a changed root with its base and decides what the diff tar and deleted list must
/// hold so that a restore onto the base (untar, then remove the deleted paths) gives back the
/// changed root.
///
/// One walk does both jobs. It visits the union of both trees' names, each directory's names
/// in byte order, and lists changes as `podman diff` does: `A` for an added entry, `C` for a
/// changed one, `D` for a deleted one (once, without its children), and `C` for each parent of
/// an added or deleted entry that is not listed yet, nearest first. While it walks it plans
/// the members. Every directory is opened with O_NOFOLLOW and every name is looked up with
/// `fstatat(AT_SYMLINK_NOFOLLOW)`, so a symlink in either root is only ever read as a link.
///
/// Directories that exist in both roots are kept and get a merging header when their
/// metadata changed or something is created in them (creating an entry stamps the
/// directory's mtime; its header sets it back after the last member). A kept directory in
/// which entries were deleted, or whose xattrs were removed, is rebuilt instead when
/// `CreateOptions.rebuildDirectories` is on: a placeholder member clears it with its whole
/// subtree and the directory member and all its content follow. Non-directories are
/// grouped by inode after the walk (see `DiffPlanner+HardLinks.swift`).
final class DiffPlanner {
    let base: FileDescriptor
    let changed: FileDescriptor
    let options: CreateOptions

    private(set) var changes: [FileChange] = []
    /// Directories the change list has named, for podman's parent rule.
    private var listedDirectories: Set<PathBytes> = []

    /// The members in tar order; nil where the decision waits for the end of the walk.
    var slots: [PlannedMember?] = []
    /// Kept directories by path, with the header they get if they need one.
    var mergedDirectories: [PathBytes: MergedDirectory] = [:]
    /// Non-directories that need a member, or that can keep their base inode only if no
    /// other name of the changed root claims it first.
    var linkCandidates: [LinkCandidate] = []
    var deletedPaths: [PathBytes] = []
    var rebuiltDirectories: [PathBytes] = []
    var inexpressible: [InexpressibleChange] = []

    private var changedBuffer = [UInt8](repeating: 0, count: 1 << 18)
    private var baseBuffer = [UInt8](repeating: 0, count: 1 << 18)

    /// A kept directory and the header that merges its metadata.
    struct MergedDirectory {
        var slot: Int
        var header: PlannedMember
        /// Its metadata differ from the base: the header is needed anyway.
        var changed: Bool
        /// Something is created in it: the header must set its mtime back.
        var stamped = false
        var baseXattrs: [(name: PathBytes, value: [UInt8])]
    }

    /// A non-directory of the changed root that is not simply its unchanged base entry.
    struct LinkCandidate {
        var slot: Int
        var path: PathBytes
        var status: EntryStatus
        var xattrs: [(name: PathBytes, value: [UInt8])]
        var symlinkTarget: PathBytes
        /// The base inode at the same path, when it equals this entry and nothing above it
        /// is re-created: the entry may stay as it is.
        var keepable: LowerIdentity?
    }

    /// A name of the changed root met by the walk, with what lstat said on both sides.
    struct WalkEntry {
        var name: PathBytes
        /// Relative to the root.
        var path: PathBytes
        var now: EntryStatus
        var before: EntryStatus?
        var parent: FileDescriptor
        /// The base directory holding `before`, when there is a base entry.
        var baseParent: FileDescriptor?
        /// The parent is (re)created by its member.
        var parentFresh: Bool
    }

    init(base: FileDescriptor, changed: FileDescriptor, options: CreateOptions) {
        self.base = base
        self.changed = changed
        self.options = options
    }

    /// Walks both roots and returns the plan.
    func plan() throws -> DiffPlan {
        try compareRoots()
        try walk([], changed: changed, base: base, fresh: false,
                 changedNames: try Self.sortedNames(changed),
                 baseNames: try Self.sortedNames(base))
        resolveHardLinks()
        finishHeaders()
        return DiffPlan(
            changes: changes,
            members: slots.compactMap { $0 },
            deletedPaths: deletedPaths.map(Self.absolute),
            rebuiltDirectories: rebuiltDirectories.map(Self.absolute),
            inexpressible: inexpressible.enumerated().sorted { left, right in
                // By path, and in the order found for one path.
                left.element.path == right.element.path
                    ? left.offset < right.offset
                    : left.element.path.lexicographicallyPrecedes(right.element.path)
            }.map(\.element))
    }

    // MARK: Walk

    /// Visits the names of one directory of the changed root.
    /// - Parameters:
    ///   - base: the base directory at the same path, when there is one.
    ///   - fresh: the directory is (re)created by its member, so every entry in it must come
    ///     from a member too.
    private func walk(
        _ path: PathBytes,
        changed directory: FileDescriptor,
        base baseDirectory: FileDescriptor?,
        fresh: Bool,
        changedNames: [PathBytes],
        baseNames: [PathBytes]
    ) throws {
        for (name, inChanged, inBase) in Self.union(changedNames, baseNames) {
            let childPath = Self.join(path, name)
            let now = inChanged ? try directory.statChild(name).map(EntryStatus.init) : nil
            let before = inBase ? try baseDirectory?.statChild(name).map(EntryStatus.init) : nil
            guard let now else {
                if before != nil {
                    record(.deleted, childPath, isDirectory: false)
                    if !fresh { deletedPaths.append(childPath) }
                }
                continue
            }
            let entry = WalkEntry(
                name: name, path: childPath, now: now, before: before, parent: directory,
                baseParent: before == nil ? nil : baseDirectory, parentFresh: fresh)
            if now.isDirectory {
                try visitDirectory(entry)
            } else {
                try visitNonDirectory(entry)
            }
        }
    }

    private func visitDirectory(_ entry: WalkEntry) throws {
        let directory = try entry.parent.openChild(entry.name,
                                                   flags: O_RDONLY | CKPT_O_DIRECTORY)
        let xattrs = try Self.xattrs(of: directory)
        let header = Self.member(entry.path, kind: .directory, entry.now, xattrs: xattrs)
        let changedNames = try Self.sortedNames(directory)

        guard let before = entry.before, before.isDirectory, let baseParent = entry.baseParent
        else {
            // Added, or replacing a non-directory: the member makes it, its content follows.
            record(entry.before == nil ? .added : .changed, entry.path, isDirectory: true)
            slots.append(header)
            try walk(entry.path, changed: directory, base: nil, fresh: true,
                     changedNames: changedNames, baseNames: [])
            return
        }

        let baseDirectory = try baseParent.openChild(entry.name,
                                                     flags: O_RDONLY | CKPT_O_DIRECTORY)
        let baseXattrs = try Self.xattrs(of: baseDirectory)
        let baseNames = try Self.sortedNames(baseDirectory)
        let metadataChanged = !entry.now.sameHeader(as: before) || !Self.same(xattrs, baseXattrs)
        if metadataChanged { record(.changed, entry.path, isDirectory: true) }

        let removedXattrs = baseXattrs.map(\.name).filter { name in
            !xattrs.contains { $0.name == name }
        }
        let kept = Set(changedNames)
        let lostEntries = baseNames.contains { !kept.contains($0) }
        var fresh = entry.parentFresh
        if entry.parentFresh {
            slots.append(header)
        } else if options.rebuildDirectories && (lostEntries || !removedXattrs.isEmpty) {
            slots.append(PlannedMember(
                path: entry.path, kind: .regular, role: .placeholder, permissions: 0o600,
                uid: 0, gid: 0, mtime: Timestamp(seconds: entry.now.mtime.seconds, nanoseconds: 0),
                size: 0, xattrs: [], source: nil))
            slots.append(header)
            rebuiltDirectories.append(entry.path)
            fresh = true
        } else {
            var merging = header
            merging.role = .mergedDirectory
            mergedDirectories[entry.path] = MergedDirectory(
                slot: slots.count, header: merging, changed: metadataChanged,
                baseXattrs: baseXattrs)
            slots.append(nil)
            if !removedXattrs.isEmpty {
                inexpressible.append(.init(
                    path: Self.absolute(entry.path),
                    reason: .xattrsRemovedFromDirectory(names: removedXattrs.map(\.displayPath))))
            }
        }
        try walk(entry.path, changed: directory, base: baseDirectory, fresh: fresh,
                 changedNames: changedNames, baseNames: baseNames)
    }

    private func visitNonDirectory(_ entry: WalkEntry) throws {
        let xattrs = try Self.xattrs(of: entry.parent.openChild(entry.name, flags: CKPT_O_PATH))
        let target = entry.now.kind == .symlink ? try entry.parent.readLink(entry.name) : []

        var equal = false
        if let before = entry.before {
            equal = try same(entry, xattrs: xattrs, symlinkTarget: target)
            if !equal || entry.now.linkCount != before.linkCount {
                record(.changed, entry.path, isDirectory: false)
            }
        } else {
            record(.added, entry.path, isDirectory: false)
        }

        let keepable = equal && !entry.parentFresh ? entry.before?.inode : nil
        if keepable != nil && entry.now.linkCount == 1 && entry.before?.linkCount == 1 { return }
        linkCandidates.append(LinkCandidate(
            slot: slots.count, path: entry.path, status: entry.now, xattrs: xattrs,
            symlinkTarget: target, keepable: keepable))
        slots.append(nil)
    }

    /// Whether a non-directory of the changed root equals the base entry of the same name:
    /// header fields, xattrs, symlink target and, when `compareContents`, the bytes.
    private func same(
        _ entry: WalkEntry,
        xattrs: [(name: PathBytes, value: [UInt8])],
        symlinkTarget: PathBytes
    ) throws -> Bool {
        guard let before = entry.before, let baseParent = entry.baseParent,
              entry.now.sameHeader(as: before)
        else { return false }
        let baseXattrs = try Self.xattrs(of: baseParent.openChild(entry.name, flags: CKPT_O_PATH))
        guard Self.same(xattrs, baseXattrs) else { return false }
        switch entry.now.kind {
        case .symlink:
            return try baseParent.readLink(entry.name) == symlinkTarget
        case .regular where options.compareContents:
            // One inode seen from both roots (a hard-linked copy) needs no reading.
            if entry.now.inode == before.inode { return true }
            return try sameContents(entry.name, in: entry.parent, and: baseParent)
        default:
            return true
        }
    }

    /// Compares the regular files `name` of two directories byte for byte; their sizes are
    /// known to be equal.
    private func sameContents(
        _ name: PathBytes, in parent: FileDescriptor, and baseParent: FileDescriptor
    ) throws -> Bool {
        let file = try parent.openChild(name, flags: O_RDONLY)
        let baseFile = try baseParent.openChild(name, flags: O_RDONLY)
        while true {
            let count = try file.readFully(into: &changedBuffer)
            let baseCount = try baseFile.readFully(into: &baseBuffer, upTo: count)
            if baseCount != count { return false }
            if count == 0 { return try baseFile.readFully(into: &baseBuffer, upTo: 1) == 0 }
            let equal = changedBuffer.withUnsafeBytes { mine in
                baseBuffer.withUnsafeBytes { theirs in
                    memcmp(mine.baseAddress!, theirs.baseAddress!, count) == 0
                }
            }
            if !equal { return false }
        }
    }

    /// Adds a line to the change list, with podman's parent lines before an `A` or `D`.
    private func record(_ kind: FileChange.Kind, _ path: PathBytes, isDirectory: Bool) {
        if isDirectory { listedDirectories.insert(path) }
        if kind != .changed {
            var parent = Self.parent(of: path)
            while !parent.isEmpty {
                if listedDirectories.insert(parent).inserted {
                    changes.append(FileChange(.changed, Self.absolute(parent)))
                }
                parent = Self.parent(of: parent)
            }
        }
        changes.append(FileChange(kind, Self.absolute(path)))
    }

    // MARK: The root

    /// The root itself has no member: any change of its own metadata is inexpressible.
    private func compareRoots() throws {
        let now = EntryStatus(try changed.stat())
        let before = EntryStatus(try base.stat())
        var fields: [String] = []
        if now.permissions != before.permissions { fields.append("mode") }
        if now.uid != before.uid || now.gid != before.gid { fields.append("owner") }
        if !Self.same(try Self.xattrs(of: changed), try Self.xattrs(of: base)) {
            fields.append("xattrs")
        }
        if now.mtime != before.mtime { fields.append("mtime") }
        if !fields.isEmpty {
            inexpressible.append(.init(path: Self.absolute([]),
                                       reason: .rootMetadata(fields: fields)))
        }
    }
}

// MARK: Helpers

extension DiffPlanner {
    /// The names of a directory in byte order, the order podman's walk uses.
    static func sortedNames(_ directory: FileDescriptor) throws -> [PathBytes] {
        try directory.directoryEntries().map(\.name).sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Both sorted name lists merged, each name once, with where it appears.
    static func union(_ changed: [PathBytes], _ base: [PathBytes])
        -> [(name: PathBytes, inChanged: Bool, inBase: Bool)]
    {
        var result: [(name: PathBytes, inChanged: Bool, inBase: Bool)] = []
        result.reserveCapacity(max(changed.count, base.count))
        var i = 0
        var j = 0
        while i < changed.count || j < base.count {
            if j == base.count
                || (i < changed.count && changed[i].lexicographicallyPrecedes(base[j]))
            {
                result.append((changed[i], true, false))
                i += 1
            } else if i == changed.count || base[j].lexicographicallyPrecedes(changed[i]) {
                result.append((base[j], false, true))
                j += 1
            } else {
                result.append((changed[i], true, true))
                i += 1
                j += 1
            }
        }
        return result
    }

    /// The xattrs of an inode sorted by name, without `security.selinux`: labels belong to
    /// the host's policy, and the restore never sets them.
    static func xattrs(of file: FileDescriptor) throws -> [(name: PathBytes, value: [UInt8])] {
        try file.extendedAttributes()
            .filter { $0.name != selinuxXattr }
            .sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    static let selinuxXattr = PathBytes(path: "security.selinux")

    static func same(
        _ left: [(name: PathBytes, value: [UInt8])],
        _ right: [(name: PathBytes, value: [UInt8])]
    ) -> Bool {
        left.count == right.count
            && zip(left, right).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// A member that writes the changed root's entry at `path` as it is.
    static func member(
        _ path: PathBytes,
        kind: TarMember.Kind,
        _ status: EntryStatus,
        xattrs: [(name: PathBytes, value: [UInt8])]
    ) -> PlannedMember {
        PlannedMember(
            path: path, kind: kind, role: .entry, permissions: status.permissions,
            uid: status.uid, gid: status.gid, mtime: status.mtime,
            size: kind == .regular ? status.size : 0, xattrs: xattrs,
            source: kind == .regular ? status.inode : nil)
    }

    static func join(_ path: PathBytes, _ name: PathBytes) -> PathBytes {
        path.isEmpty ? name : path + [UInt8(ascii: "/")] + name
    }

    /// The parent of a relative path; empty for an entry of the root.
    static func parent(of path: PathBytes) -> PathBytes {
        guard let slash = path.lastIndex(of: UInt8(ascii: "/")) else { return [] }
        return Array(path[..<slash])
    }

    /// `/` followed by a relative path.
    static func absolute(_ path: PathBytes) -> PathBytes {
        [UInt8(ascii: "/")] + path
    }
}
