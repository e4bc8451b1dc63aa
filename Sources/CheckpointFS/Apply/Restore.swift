import CSystem
import Glibc

/// Applies a checkpoint's diff tar and deleted list to a root: the library's commit.
public struct Restore {
    /// The plain diff tar's index (empty when the checkpoint has no tar).
    public let index: TarIndex
    /// The plain diff tar on disk; nil when the checkpoint has none.
    public let tarPath: String?
    public let deletedList: DeletedPaths

    public init(index: TarIndex, tarPath: String?, deletedList: DeletedPaths) {
        self.index = index
        self.tarPath = tarPath
        self.deletedList = deletedList
    }

    /// Builds the tree the checkpoint would produce over `rootPath` without writing
    /// anything. This is the validation: any refusal is thrown from here.
    public func plan(rootPath: String) throws -> (tree: VirtualTree, outcome: ApplyOutcome) {
        let tree = try VirtualTree(lower: LowerRoot(path: rootPath))
        let outcome = try ApplyProcedure(target: tree, index: index, deletedList: deletedList)
            .run()
        return (tree, outcome)
    }

    /// Validates the whole checkpoint against `rootPath`, then applies it there.
    ///
    /// Without a journal, a commit that is stopped part-way cannot always be finished by
    /// running it again: see `commit(rootPath:stateDirectory:...)`.
    ///
    /// - Parameter onMember: called after each member is written, with its index.
    /// - Returns: what was done, with the warnings of the validation pass.
    /// - Throws: `CheckpointError` before anything is written; `CommitError` naming the
    ///   file and entry where the system stopped the commit part-way.
    public func commit(
        rootPath: String,
        onMember: ((Int) -> Void)? = nil
    ) throws -> ApplyOutcome {
        let (_, planned) = try plan(rootPath: rootPath)
        let root = try FileDescriptor.openDirectory(atPath: rootPath)
        var outcome = try apply(
            to: RootTarget(root: root, tar: try openTar()), from: .member(0),
            recorder: StepTracker(), journal: nil, onMember: onMember)
        outcome.deletedTarContent = planned.deletedTarContent
        return outcome
    }

    /// Runs the procedure against the real root from `start`, telling `recorder` of each
    /// step; an error the system raises part-way becomes a `CommitError` naming the step.
    func apply(
        to target: RootTarget,
        from start: ApplyStep,
        recorder: any ApplyRecorder,
        journal: String?,
        onMember: ((Int) -> Void)?
    ) throws -> ApplyOutcome {
        var procedure = ApplyProcedure(target: target, index: index, deletedList: deletedList)
        procedure.onMember = onMember
        procedure.recorder = recorder
        do {
            return try procedure.run(from: start)
        } catch let error as CheckpointError {
            throw error
        } catch {
            guard let step = recorder.currentStep else { throw error }
            throw commitError(error, at: step, journal: journal)
        }
    }

    /// The plain diff tar, opened for reading member data.
    func openTar() throws -> FileDescriptor? {
        try tarPath.map { try FileDescriptor.open(atPath: $0) }
    }
}

extension Restore {
    /// Indexes the diff tar and reads the deleted list of an open checkpoint.
    /// - Parameter onProgress: called as the diff tar is indexed, with the offset reached
    ///   and the tar's size.
    /// - Throws: `CheckpointError` naming the file and member or element at fault.
    public init(
        source: CheckpointSource,
        onProgress: ((_ done: Int64, _ total: Int64) -> Void)? = nil
    ) throws {
        let index: TarIndex
        if let tar = source.diffTar {
            index = try TarIndex(path: tar.path, displayName: tar.displayName,
                                 onProgress: onProgress)
        } else {
            index = Self.emptyIndex(of: source)
        }
        self.init(index: index, tarPath: source.diffTar?.path,
                  deletedList: try Self.deletedPaths(of: source))
    }

    /// Plans the view of an open checkpoint over `rootPath` straight from its diff tar:
    /// each member is applied to the tree as it is read and then dropped, so the whole tar's
    /// index is never held beside the tree. It refuses what `plan(rootPath:)` refuses.
    /// - Parameter onProgress: called as the diff tar is read, with the offset reached and
    ///   the tar's size.
    public static func plan(
        source: CheckpointSource,
        rootPath: String,
        onProgress: ((_ done: Int64, _ total: Int64) -> Void)? = nil
    ) throws -> (tree: VirtualTree, outcome: ApplyOutcome) {
        let tree = try VirtualTree(lower: LowerRoot(path: rootPath))
        guard let tar = source.diffTar else {
            let outcome = try ApplyProcedure(target: tree, index: emptyIndex(of: source),
                                             deletedList: deletedPaths(of: source)).run()
            return (tree, outcome)
        }
        let stream = try TarMemberStream(path: tar.path, displayName: tar.displayName)
        let members = TarMemberPrefetch(stream: stream, size: stream.size,
                                        onProgress: onProgress)
        // A commit indexes the whole tar, then reads the deleted list, then plans; the
        // first of those to fail names the fault, here too, so both refuse alike.
        let deletedList: DeletedPaths
        do {
            deletedList = try deletedPaths(of: source)
        } catch {
            try members.drain()
            throw error
        }
        do {
            let outcome = try ApplyProcedure(target: tree, prefetch: members,
                                             deletedList: deletedList).run()
            return (tree, outcome)
        } catch {
            guard !members.failed else { throw error }
            try members.drain()
            throw error
        }
    }

    /// The index of a checkpoint without a diff tar: no members.
    private static func emptyIndex(of source: CheckpointSource) -> TarIndex {
        TarIndex(emptyNamed: source.path + "/" + CheckpointSource.diffTarName)
    }

    private static func deletedPaths(of source: CheckpointSource) throws -> DeletedPaths {
        DeletedPaths(
            displayName: source.deletedList?.displayName
                ?? source.path + "/" + CheckpointSource.deletedListName,
            paths: try DeletedList.load(source.deletedList))
    }
}
