import CSystem
import Glibc

/// How a journaled commit went.
public struct JournaledCommit: Sendable {
    /// Where the commit began.
    public enum Start: Sendable, Equatable {
        /// On a root this checkpoint had not been committed to.
        case fresh
        /// An earlier run of the same commit stopped before this step; this run took it up.
        case resumed(at: ApplyStep)
        /// The journal says this checkpoint was committed to this root already, at this time
        /// (seconds since the epoch): nothing was written.
        case alreadyCommitted(at: Int64)
    }

    public var start: Start
    /// What this run did.
    public var outcome: ApplyOutcome
    /// The journal's file.
    public var journal: String
}

extension Restore {
    /// The state directory commits keep their journals in unless told otherwise.
    public static let defaultStateDirectory = "/var/lib/checkpointfs"

    /// Applies the checkpoint to `rootPath` as `commit(rootPath:onMember:)` does, recording
    /// each step in a journal in `stateDirectory` (see `CommitJournal`), so that:
    ///
    /// - run again after it was stopped at any point, it finishes the same commit, and the
    ///   root ends as one uninterrupted commit would have left it;
    /// - run again after it finished, it writes nothing (unless `again`).
    ///
    /// The root must not be changed by anything else between the runs.
    ///
    /// - Parameters:
    ///   - checkpointFiles: the files the checkpoint was read from
    ///     (`CheckpointSource.sourceFiles`), whose identity (device, inode, size, mtime) is
    ///     part of what tells this checkpoint from others.
    ///   - checkpointName: the checkpoint as the user named it, for messages.
    ///   - again: apply it even if the journal says it was committed to this root already.
    ///   - onMember: called after each member is written, with its index.
    /// - Throws: `CheckpointError` when the checkpoint is refused (before anything is
    ///   written); `CommitError` naming the step's file and entry when the system stops the
    ///   commit part-way; `CommitJournalError` when another commit into the root is running,
    ///   the root has an unfinished commit of another checkpoint, or the journal is damaged;
    ///   `SystemError` when the root or the journal cannot be opened.
    public func commit(
        rootPath: String,
        stateDirectory: String,
        checkpointFiles: [String],
        checkpointName: String,
        again: Bool = false,
        onMember: ((Int) -> Void)? = nil
    ) throws -> JournaledCommit {
        let root = try FileDescriptor.openDirectory(atPath: rootPath)
        try CommitJournal.lock(root)
        let identity = try CommitJournal.RootIdentity(root)
        let name = CommitJournal.name(for: identity)
        let fingerprint = CheckpointFingerprint.of(self, files: checkpointFiles)

        // A journal about a root that was made anew at the same inode is no one's.
        if let directory = try CommitJournal.existingDirectory(in: stateDirectory),
           let record = try CommitJournal.read(name, in: directory),
           record.header.root == identity
        {
            let sameCheckpoint = record.header.fingerprint == fingerprint
            switch record.progress {
            case .finished(let time) where sameCheckpoint && !again:
                return JournaledCommit(start: .alreadyCommitted(at: time),
                                       outcome: ApplyOutcome(), journal: directory.childPath(name))
            case .unfinished(let step, let implicitDirectories) where sameCheckpoint:
                let journal = try CommitJournal.resume(name, in: directory, record: record)
                let target = RootTarget(root: root, tar: try openTar())
                // The step may have stopped between making a parent and giving it its owner
                // and mode; the rest of the step is redone as it comes.
                for path in implicitDirectories {
                    try target.restoreImplicitDirectory(path)
                }
                var outcome = try apply(to: target, from: step, journal: journal,
                                        onMember: onMember)
                outcome.deletedTarContent = record.header.warnings
                return JournaledCommit(start: .resumed(at: step), outcome: outcome,
                                       journal: journal.path)
            case .unfinished:
                throw CommitJournalError.otherCommitUnfinished(
                    root: rootPath, checkpoint: record.header.checkpoint,
                    journal: directory.childPath(name))
            case .finished:
                break
            }
        }

        let (_, planned) = try plan(rootPath: rootPath)
        let directory = try CommitJournal.makeDirectory(in: stateDirectory)
        let journal = try CommitJournal.begin(name, in: directory, header: .init(
            root: identity, rootPath: rootPath, fingerprint: fingerprint,
            checkpoint: checkpointName, warnings: planned.deletedTarContent))
        var outcome = try apply(to: RootTarget(root: root, tar: try openTar()),
                                from: .member(0), journal: journal, onMember: onMember)
        outcome.deletedTarContent = planned.deletedTarContent
        return JournaledCommit(start: .fresh, outcome: outcome, journal: journal.path)
    }

    /// Runs the procedure from `step` with the journal recording every step, then marks the
    /// journal finished.
    private func apply(
        to target: RootTarget,
        from step: ApplyStep,
        journal: CommitJournal,
        onMember: ((Int) -> Void)?
    ) throws -> ApplyOutcome {
        let outcome = try apply(to: target, from: step, recorder: journal,
                                journal: journal.path, onMember: onMember)
        try journal.finish()
        return outcome
    }
}
