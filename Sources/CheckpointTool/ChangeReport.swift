import CheckpointFS

/// The changes a restore would make to a root, as `podman diff` lists a container's: what
/// `diff` prints, and `commit --dry-run` too.
struct ChangeReport {
    /// The output formats.
    enum Format: String, CaseIterable {
        /// `A /path`, `C /path`, `D /path` lines, sorted by path.
        case text
        /// podman's `diff --format json` object.
        case json
    }

    /// Every change, sorted by path.
    var changes: [FileChange]
    /// Deleted paths that remove content the diff tar put there.
    var deletedTarContent: [String]

    /// Plans `restore` against the root at `root`, writing nothing.
    ///
    /// - Throws: the refusal that a commit would meet, naming the file and entry.
    init(restore: Restore, root: String) throws {
        let (tree, outcome) = try restore.plan(rootPath: root)
        changes = try tree.changes()
        deletedTarContent = outcome.deletedTarContent
    }

    /// The report in `format`, ready to print.
    func rendered(as format: Format) -> String {
        switch format {
        case .text:
            return changes.map { $0.line + "\n" }.joined()
        case .json:
            return json.text(indent: "     ")
        }
    }

    /// podman's shape: `changed`, `added` and `deleted` arrays, each left out when empty, the
    /// paths in the order of the text lines. Deleted paths that remove the diff tar's content
    /// are listed under `deletedWithTarContent`, which podman does not have, when there are
    /// any.
    private var json: JSONValue {
        var fields: [(key: String, value: JSONValue)] = []
        let groups: [(String, FileChange.Kind)] = [
            ("changed", .changed), ("added", .added), ("deleted", .deleted),
        ]
        for (key, kind) in groups {
            let paths = changes.filter { $0.kind == kind }.map(\.path.displayPath)
            if !paths.isEmpty { fields.append((key, .array(paths.map(JSONValue.string)))) }
        }
        if !deletedTarContent.isEmpty {
            let paths = deletedTarContent.map(JSONValue.string)
            fields.append(("deletedWithTarContent", .array(paths)))
        }
        return .object(fields)
    }

    /// Writes the warning for each deleted path that removes the diff tar's content.
    func warn(as command: String) {
        Self.warnDeletedTarContent(deletedTarContent, as: command)
    }

    /// The warning `diff`, `commit` and `mount` give for deleted paths that remove content
    /// the diff tar put there: podman's order deletes it, which loses re-created directories.
    static func warnDeletedTarContent(_ paths: [String], as command: String) {
        for path in paths {
            writeError("checkpointfs \(command): warning: deleted path '\(path)' removes content "
                       + "the diff tar put there")
        }
    }
}
