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
    /// - Parameter onMember: called after each member is written, with its index.
    /// - Returns: what was done, with the warnings of the validation pass.
    public func commit(
        rootPath: String,
        onMember: ((Int) -> Void)? = nil
    ) throws -> ApplyOutcome {
        let (_, planned) = try plan(rootPath: rootPath)
        let root = try FileDescriptor.openDirectory(atPath: rootPath)
        let tar = try tarPath.map { try FileDescriptor.open(atPath: $0) }
        var procedure = ApplyProcedure(
            target: RootTarget(root: root, tar: tar), index: index, deletedList: deletedList)
        procedure.onMember = onMember
        var outcome = try procedure.run()
        outcome.deletedTarContent = planned.deletedTarContent
        return outcome
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
            index = TarIndex(
                emptyNamed: source.path + "/" + CheckpointSource.diffTarName)
        }
        let deletedName = source.deletedList?.displayName
            ?? source.path + "/" + CheckpointSource.deletedListName
        self.init(
            index: index,
            tarPath: source.diffTar?.path,
            deletedList: DeletedPaths(
                displayName: deletedName, paths: try DeletedList.load(source.deletedList)))
    }
}
