import Glibc

/// The one algorithm that decides how a checkpoint changes a root.
///
/// It walks the diff tar's members in order, then the deleted list, and tells a target what
/// to do at each step, resolving every path itself: names are cleaned by `RootPath`, each
/// component is looked up without following it, and a symlink met on the way is resolved as
/// if the root were `/`. The view runs it against the virtual tree, the commit against the
/// real root; running it against the virtual tree first is also the validation that lets a
/// commit refuse a checkpoint before it writes anything.
struct ApplyProcedure<Target: ApplyTarget> {
    let target: Target
    /// The diff tar, for messages.
    let tarName: String
    /// The diff tar's members in order; nil after the last. `run` reads it once.
    let nextMember: () throws -> TarMember?
    let deletedList: DeletedPaths
    /// The directory the previous member went into: tars list a directory's members
    /// together, so most members need no walk from the root.
    private let lastParent = LastParent<Target.Directory>()
    /// Called after each member with its index, for progress.
    var onMember: ((Int) -> Void)? = nil
    /// Told of every step before it is taken (the commit's journal).
    var recorder: (any ApplyRecorder)? = nil

    /// The symlinks followed while resolving one path before it is refused, as the kernel's
    /// limit (`MAXSYMLINKS`).
    static var symlinkLimit: Int { 40 }

    /// A procedure over the members `index` holds.
    init(target: Target, index: TarIndex, deletedList: DeletedPaths) {
        var members = index.members.makeIterator()
        self.init(target: target, tarName: index.displayName,
                  nextMember: { members.next() }, deletedList: deletedList)
    }

    /// A procedure over the members `prefetch` reads, each dropped once it is applied.
    init(target: Target, prefetch: TarMemberPrefetch, deletedList: DeletedPaths) {
        self.init(target: target, tarName: prefetch.displayName, nextMember: prefetch.next,
                  deletedList: deletedList)
    }

    private init(
        target: Target,
        tarName: String,
        nextMember: @escaping () throws -> TarMember?,
        deletedList: DeletedPaths
    ) {
        self.target = target
        self.tarName = tarName
        self.nextMember = nextMember
        self.deletedList = deletedList
    }

    /// Applies every member, then removes every deleted path.
    ///
    /// - Parameter start: the first step to take. The steps before it must have been taken
    ///   already, on the same root, by an apply of the same checkpoint that stopped there.
    func run(from start: ApplyStep = .member(0)) throws -> ApplyOutcome {
        var outcome = ApplyOutcome()
        var pendingTimes: [(Timestamp, [PathBytes], refuse: (Refusal) -> CheckpointError)] = []

        while let member = try nextMember() {
            guard start <= .member(member.index) else {
                // Applied before: of what it did, only its directory time is still to come.
                try collectTime(of: member, into: &pendingTimes)
                continue
            }
            try recorder?.willTake(.member(member.index))
            try apply(member, outcome: &outcome, pendingTimes: &pendingTimes)
            onMember?(member.index)
        }
        // The reference stamps directories after the last member, in header order, by
        // name: whatever the name leads to by then gets the time.
        if start <= .directoryTimes {
            try recorder?.willTake(.directoryTimes)
            for (time, components, refuse) in pendingTimes {
                if let (parent, name) = try resolveFinal(components, refuse: refuse) {
                    try target.setTime(time, of: name, in: parent.directory)
                }
            }
        }
        for (position, path) in deletedList.paths.enumerated()
        where start <= .deletedPath(position) {
            try recorder?.willTake(.deletedPath(position))
            try remove(path, position: position, outcome: &outcome)
        }
        return outcome
    }

    /// The directory time a member leaves to be set after the last member, as `apply` would
    /// note it, for a member that an earlier run applied.
    private func collectTime(
        of member: TarMember,
        into pendingTimes: inout [(Timestamp, [PathBytes], refuse: (Refusal) -> CheckpointError)]
    ) throws {
        guard member.kind == .directory else { return }
        // Only the two names are captured: capturing `self` would copy the whole procedure
        // into each member's closure.
        let refuse = { [tarName, name = member.name] (reason: Refusal) in
            CheckpointError.refusedMember(file: tarName, member: name.displayPath, reason: reason)
        }
        switch RootPath.components(of: member.name) {
        case .success(let components) where !components.isEmpty:
            pendingTimes.append((member.mtime, components, refuse))
        case .success:
            return
        case .failure(let reason):
            throw refuse(reason)
        }
    }

    // MARK: Members

    private func apply(
        _ member: TarMember,
        outcome: inout ApplyOutcome,
        pendingTimes: inout [(Timestamp, [PathBytes], refuse: (Refusal) -> CheckpointError)]
    ) throws {
        // Only the two names are captured: capturing `self` would copy the whole procedure
        // into each member's closure.
        let refuse = { [tarName, name = member.name] (reason: Refusal) in
            CheckpointError.refusedMember(file: tarName, member: name.displayPath, reason: reason)
        }
        let name: PathBytes
        let parent: ResolvedDirectory<Target.Directory>
        // Only a directory needs its components again, for its time at the end.
        var components: [PathBytes] = []
        let split = RootPath.splitLast(member.name)
        if member.kind != .directory, let split,
           let cached = lastParent.directory(forBytes: split.parent)
        {
            name = PathBytes(split.last)
            parent = cached
        } else {
            switch RootPath.components(of: member.name) {
            case .success(let value): components = value
            case .failure(let reason): throw refuse(reason)
            }
            guard let last = components.last else { return }  // `.`, `./`, `/`: the root
            name = last
            let parentNames = components.dropLast()
            if let cached = lastParent.directory(for: parentNames) {
                parent = cached
            } else {
                guard let resolved = try resolve(parentNames, creatingMissing: true,
                                                 refuse: refuse)
                else { preconditionFailure("resolve creates missing directories") }
                parent = resolved
            }
            lastParent.remember(parentNames, bytes: split?.parent, parent)
        }

        let applied = try effective(member, refuse: refuse)

        // Most members name something new. Making it at once, and looking at what is there
        // only when the name is taken, spares the commit a lookup per member: a create
        // that finds the name taken fails with EEXIST and changes nothing.
        switch applied.kind {
        case .directory:
            if try !target.makeNewDirectory(applied, named: name, in: parent.directory) {
                let existing = try target.entryType(name, in: parent.directory)
                if existing == .directory {
                    try target.mergeDirectory(applied, named: name, in: parent.directory)
                } else {
                    if existing != nil { try removeEntry(name, in: parent.directory) }
                    try target.makeDirectory(applied, named: name, in: parent.directory)
                }
            }
            pendingTimes.append((applied.mtime, components, refuse))

        case .hardLink(let linkName):
            // Looked up first: the link's target is resolved after what is at the name
            // goes, and a target resolved before that could be refused differently.
            if try target.entryType(name, in: parent.directory) != nil {
                try removeEntry(name, in: parent.directory)
            }
            // Resolved after the removal, as the reference does: a link to itself is missing.
            let (linkParent, targetName) = try resolveLinkTarget(linkName, refuse: refuse)
            try target.link(applied, named: name, in: parent.directory,
                            to: targetName, in: linkParent.directory)

        default:
            if try !target.createNew(applied, named: name, in: parent.directory) {
                try removeEntry(name, in: parent.directory)
                try target.create(applied, named: name, in: parent.directory)
            }
            outcome.bytesWritten += applied.storedSize
        }
        outcome.membersApplied += 1
    }

    /// The member as it is applied, or its refusal (`TarMember.applicable()`).
    private func effective(
        _ member: TarMember,
        refuse: (Refusal) -> CheckpointError
    ) throws -> TarMember {
        do {
            return try member.applicable()
        } catch {
            throw refuse(error)
        }
    }

    private func resolveLinkTarget(
        _ linkName: PathBytes,
        refuse: (Refusal) -> CheckpointError
    ) throws -> (ResolvedDirectory<Target.Directory>, PathBytes) {
        let components: [PathBytes]
        switch RootPath.components(of: linkName) {
        case .success(let value): components = value
        case .failure(let reason): throw refuse(reason)
        }
        let shown = linkName.displayPath
        guard let targetName = components.last else {
            throw refuse(.hardLinkToDirectory(target: shown))
        }
        guard let parent = try resolve(components.dropLast(), creatingMissing: false,
                                       refuse: refuse)
        else { throw refuse(.hardLinkTargetMissing(target: shown)) }
        switch try target.entryType(targetName, in: parent.directory) {
        case nil: throw refuse(.hardLinkTargetMissing(target: shown))
        case .directory?: throw refuse(.hardLinkToDirectory(target: shown))
        default: return (parent, targetName)
        }
    }

    // MARK: Deleted paths

    private func remove(_ path: String, position: Int, outcome: inout ApplyOutcome) throws {
        let refuse = { [file = deletedList.displayName] (reason: Refusal) in
            CheckpointError.refusedDeletedPath(file: file, path: path, reason: reason)
        }
        let components: [PathBytes]
        switch RootPath.components(of: Array(path.utf8)) {
        case .success(let value): components = value
        case .failure(let reason): throw refuse(reason)
        }
        guard let name = components.last else { throw refuse(.namesRoot) }
        // Like RemoveAll: a path whose parent is missing is already gone.
        guard let parent = try resolve(components.dropLast(), creatingMissing: false,
                                       refuse: refuse),
              try target.entryType(name, in: parent.directory) != nil
        else { return }
        let hadTarContent = try removeEntry(name, in: parent.directory)
        outcome.pathsRemoved += 1
        if hadTarContent { outcome.deletedTarContent.append(path) }
    }

    /// Removes an entry through the target. A removal is the only step that can take away
    /// a directory already walked, or a symlink on the way to one, so the remembered parent
    /// goes with it.
    @discardableResult
    private func removeEntry(_ name: PathBytes, in directory: Target.Directory) throws -> Bool {
        lastParent.forget()
        return try target.remove(name, in: directory)
    }

    // MARK: Resolution

    /// Resolves every component of `components`, the last one too: a symlink there is
    /// followed inside the root. nil when something on the way is missing.
    private func resolveFinal(
        _ components: [PathBytes],
        refuse: (Refusal) -> CheckpointError
    ) throws -> (ResolvedDirectory<Target.Directory>, PathBytes)? {
        var current = components
        for _ in 0...Self.symlinkLimit {
            guard let name = current.last,
                  let parent = try resolve(current.dropLast(), creatingMissing: false,
                                           refuse: refuse)
            else { return nil }
            switch try target.entryType(name, in: parent.directory) {
            case nil: return nil
            case .symlink?:
                let link = try target.symlinkTarget(name, in: parent.directory)
                let base = link.first == UInt8(ascii: "/") ? [] : parent.path
                current = RootPath.confined(base, link.split(separator: UInt8(ascii: "/")))
            default: return (parent, name)
            }
        }
        throw refuse(.tooManySymlinks)
    }

    /// Walks `components` from the root to a directory. Missing directories are made when
    /// `creatingMissing` (except inside a symlink's target, which must exist); otherwise a
    /// missing one ends the walk with nil.
    private func resolve(
        _ components: ArraySlice<PathBytes>,
        creatingMissing: Bool,
        refuse: (Refusal) -> CheckpointError
    ) throws -> ResolvedDirectory<Target.Directory>? {
        // Only the directory reached so far is held, with the names leading to it: a commit's
        // directories are descriptors, and one per level would run out of them on a deep
        // tree. `..` walks the names again from the root, which nothing has changed since.
        var current = try target.rootDirectory
        var names: [PathBytes] = []
        // Still to walk, last component first; `fromLink` marks parts of a symlink target.
        var pending: [(name: PathBytes, fromLink: Bool)] =
            components.reversed().map { ($0, false) }
        var symlinksFollowed = 0
        let dot = Array(".".utf8)
        let dotDot = Array("..".utf8)

        while let (name, fromLink) = pending.popLast() {
            if name == dot { continue }
            if name == dotDot {
                if names.popLast() != nil { current = try reopen(names) }
                continue
            }
            let shown = { RootPath.join(names + [name]).displayPath }
            switch try target.entryType(name, in: current) {
            case .directory?:
                current = try target.directory(name, in: current)
                names.append(name)
            case .symlink?:
                symlinksFollowed += 1
                if symlinksFollowed > Self.symlinkLimit { throw refuse(.tooManySymlinks) }
                let link = try target.symlinkTarget(name, in: current)
                if link.isEmpty { throw refuse(.danglingSymlink(component: shown())) }
                if link.first == UInt8(ascii: "/") {
                    current = try target.rootDirectory
                    names = []
                }
                let parts = link.split(separator: UInt8(ascii: "/")).reversed()
                pending += parts.map { (Array($0), true) }
            case .other?:
                throw refuse(.notADirectory(component: shown()))
            case nil:
                guard creatingMissing else { return nil }
                if fromLink { throw refuse(.danglingSymlink(component: shown())) }
                try recorder?.willMakeImplicitDirectory(names + [name])
                current = try target.makeImplicitDirectory(name, in: current)
                names.append(name)
            }
        }
        return ResolvedDirectory(directory: current, path: names)
    }

    /// The directory at `names`, each a directory already walked, opened again from the root.
    private func reopen(_ names: [PathBytes]) throws -> Target.Directory {
        var directory = try target.rootDirectory
        for name in names { directory = try target.directory(name, in: directory) }
        return directory
    }
}

/// The parent directory `ApplyProcedure` resolved last, by the member's own names and by
/// the bytes of the name before its last component.
final class LastParent<Directory> {
    private var names: ArraySlice<PathBytes>?
    private var bytes: PathBytes?
    private var resolved: ResolvedDirectory<Directory>?

    func directory(for names: ArraySlice<PathBytes>) -> ResolvedDirectory<Directory>? {
        self.names == names ? resolved : nil
    }

    /// The parent remembered for a name whose bytes before the last component are
    /// `parentBytes` (`RootPath.splitLast`): the same bytes clean to the same components.
    func directory(forBytes parentBytes: ArraySlice<UInt8>) -> ResolvedDirectory<Directory>? {
        guard let bytes, bytes.count == parentBytes.count else { return nil }
        let equal = bytes.withUnsafeBytes { remembered in
            parentBytes.withUnsafeBytes { asked in
                asked.count == 0 || memcmp(remembered.baseAddress!, asked.baseAddress!,
                                           asked.count) == 0
            }
        }
        return equal ? resolved : nil
    }

    func remember(
        _ names: ArraySlice<PathBytes>,
        bytes: ArraySlice<UInt8>?,
        _ resolved: ResolvedDirectory<Directory>
    ) {
        self.names = names
        self.bytes = bytes.map { PathBytes($0) }
        self.resolved = resolved
    }

    func forget() {
        names = nil
        bytes = nil
        resolved = nil
    }
}

/// A directory reached by `ApplyProcedure.resolve`, with the symlink-free path to it.
struct ResolvedDirectory<Directory> {
    var directory: Directory
    var path: [PathBytes]
}

/// What an apply did.
public struct ApplyOutcome: Sendable, Equatable {
    public var membersApplied = 0
    public var pathsRemoved = 0
    /// Bytes of file data written (or, for the view, served from the tar).
    public var bytesWritten: Int64 = 0
    /// Deleted paths that removed content the tar had just put there (podman's order:
    /// the deletion wins, which loses re-created directories).
    public var deletedTarContent: [String] = []
}

/// The deleted list of a checkpoint, parsed.
public struct DeletedPaths: Sendable {
    /// `deleted.files` as the user knows it, for messages.
    public var displayName: String
    public var paths: [String]

    public init(displayName: String, paths: [String]) {
        self.displayName = displayName
        self.paths = paths
    }
}
