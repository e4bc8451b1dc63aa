/// A commit that the system stopped part-way, such as a disk that filled up: the step it
/// stopped at, the checkpoint file and entry of that step, and the system's error, which
/// names the file in the root.
///
/// Refusals are never wrapped in it: they are `CheckpointError`s and come before anything
/// is written.
public struct CommitError: Error, CustomStringConvertible, Sendable {
    public var step: ApplyStep
    /// The diff tar or the deleted list, as the user knows it.
    public var file: String
    /// The member name or deleted path; `nil` while directory times are set.
    public var entry: String?
    public var underlying: any Error
    /// The journal that lets the same commit, run again, finish what this one began; `nil`
    /// for a commit without a journal.
    public var journal: String?

    public var description: String {
        var text = file + ": "
        switch step {
        case .member: text += "member '\(entry ?? "")': "
        case .directoryTimes: text += "setting directory times: "
        case .deletedPath: text += "deleted path '\(entry ?? "")': "
        }
        text += "\(underlying)"
        if let journal {
            text += " (the commit stopped there; run it again to finish it: \(journal) "
                + "records where it was)"
        }
        return text
    }
}

extension Restore {
    /// The error for `error` met at `step`, naming the step's file and entry.
    func commitError(_ error: any Error, at step: ApplyStep, journal: String?) -> CommitError {
        let file: String
        var entry: String?
        switch step {
        case .member(let index):
            file = self.index.displayName
            entry = self.index.members[index].name.displayPath
        case .directoryTimes:
            file = self.index.displayName
        case .deletedPath(let position):
            file = deletedList.displayName
            entry = deletedList.paths[position]
        }
        return CommitError(step: step, file: file, entry: entry, underlying: error,
                           journal: journal)
    }
}
