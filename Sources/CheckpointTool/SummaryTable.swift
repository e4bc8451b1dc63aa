import CheckpointFS

/// A checkpoint summary as `inspect` prints it for people: one fact a line, then the diff
/// tar's largest members.
struct SummaryTable {
    let summary: CheckpointSummary

    init(_ summary: CheckpointSummary) {
        self.summary = summary
    }

    var text: String {
        var rows: [(String, String)] = [("checkpoint", summary.path), ("format", format)]
        rows += containerRows
        rows.append(("CRIU images", summary.criuImages.count == 0 ? "none"
                     : "\(summary.criuImages.count) files, \(sized(summary.criuImages.bytes))"))
        rows.append(("root file system", rootFileSystem))
        if let diff = summary.diffTar {
            rows.append((CheckpointSource.diffTarName, members(diff)))
            rows.append(("", "\(sized(diff.dataBytes)) of file data, \(sized(diff.size)) "
                         + (diff.compression.map { "as stored (\($0))" } ?? "in all")))
        }
        if let deleted = summary.deletedPaths {
            rows.append((CheckpointSource.deletedListName,
                         deleted.count == 1 ? "1 path" : "\(deleted.count) paths"))
        }

        let width = rows.map(\.0.count).max() ?? 0
        var text = rows.map { label, value in
            label + String(repeating: " ", count: width - label.count + 2) + value + "\n"
        }.joined()
        if let diff = summary.diffTar, !diff.largest.isEmpty {
            text += "\nlargest members of \(CheckpointSource.diffTarName):\n"
            let sizes = diff.largest.map { String($0.size) }
            let sizeWidth = sizes.map(\.count).max() ?? 0
            for (member, size) in zip(diff.largest, sizes) {
                text += "  " + String(repeating: " ", count: sizeWidth - size.count) + size
                    + "  " + member.name + "\n"
            }
        }
        return text
    }

    private var format: String {
        switch summary.layout {
        case .directory:
            return "checkpoint directory"
        case .archive(let compression):
            let size = summary.archiveSize.map { ", \(sized($0))" } ?? ""
            return "exported archive, " + (compression ?? "not compressed") + size
        }
    }

    private var containerRows: [(String, String)] {
        guard let config = summary.config else {
            return [("container", "unknown (no \(ConfigDump.fileName))")]
        }
        var checkpointed = config.checkpointed?.rfc3339
        if checkpointed == nil, let time = summary.criuDumpTime {
            checkpointed = time.rfc3339 + " (the time of CRIU's \(CheckpointSummary.inventoryName);"
                + " \(ConfigDump.fileName) records none)"
        }
        return [
            ("container", config.containerName ?? "-"),
            ("container id", config.containerID ?? "-"),
            ("image", config.imageName ?? "-"),
            ("image id", config.imageID ?? "-"),
            ("runtime", config.runtime ?? "-"),
            ("created", config.created?.rfc3339 ?? "-"),
            ("checkpointed", checkpointed ?? "-"),
        ]
    }

    private var rootFileSystem: String {
        switch summary.rootFileSystem {
        case .included:
            return "included"
        case .deletionsOnly:
            return "deletions only (no \(CheckpointSource.diffTarName))"
        case .absent:
            return "not included: no \(CheckpointSource.diffTarName) and no "
                + "\(CheckpointSource.deletedListName) (made with --ignore-rootfs, "
                + "or the container changed nothing)"
        }
    }

    private func members(_ diff: DiffTarSummary) -> String {
        let kinds = [
            (diff.regularFiles, "file", "files"), (diff.directories, "directory", "directories"),
            (diff.symlinks, "symlink", "symlinks"), (diff.hardLinks, "hard link", "hard links"),
            (diff.otherMembers, "special file", "special files"),
        ]
        let parts = kinds.filter { $0.0 > 0 }.map { "\($0.0) \($0.0 == 1 ? $0.1 : $0.2)" }
        let count = diff.members == 1 ? "1 member" : "\(diff.members) members"
        return parts.isEmpty ? count : count + ": " + parts.joined(separator: ", ")
    }

    private func sized(_ bytes: Int64) -> String {
        bytes < 1024 ? "\(bytes) bytes" : "\(ByteSize.text(bytes)) (\(bytes) bytes)"
    }
}
