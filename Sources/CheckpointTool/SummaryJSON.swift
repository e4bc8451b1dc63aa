import CheckpointFS

/// A checkpoint summary as `inspect --format json` prints it: every field always present,
/// `null` where the checkpoint has nothing to say, sizes in bytes, times in RFC 3339.
enum SummaryJSON {
    static func value(of summary: CheckpointSummary) -> JSONValue {
        let layout: String
        let compression: String?
        switch summary.layout {
        case .directory: (layout, compression) = ("directory", nil)
        case .archive(let filter): (layout, compression) = ("archive", filter)
        }
        return .object([
            ("checkpoint", .string(summary.path)),
            ("layout", .string(layout)),
            ("compression", .optional(compression)),
            ("archiveSize", summary.archiveSize.map(JSONValue.integer) ?? .null),
            ("container", summary.config.map(container) ?? .null),
            ("criu", .object([
                ("images", .integer(Int64(summary.criuImages.count))),
                ("bytes", .integer(summary.criuImages.bytes)),
                ("dumpTime", .optional(summary.criuDumpTime?.rfc3339)),
            ])),
            ("rootFileSystem", .string(summary.rootFileSystem.rawValue)),
            ("diffTar", summary.diffTar.map(diffTar) ?? .null),
            ("deletedFiles", summary.deletedPaths.map { paths in
                .object([
                    ("count", .integer(Int64(paths.count))),
                    ("paths", .array(paths.map(JSONValue.string))),
                ])
            } ?? .null),
            ("files", .array(summary.files.map(sized))),
        ])
    }

    private static func container(_ config: ConfigDump) -> JSONValue {
        .object([
            ("name", .optional(config.containerName)),
            ("id", .optional(config.containerID)),
            ("image", .optional(config.imageName)),
            ("imageID", .optional(config.imageID)),
            ("runtime", .optional(config.runtime)),
            ("created", .optional(config.created?.rfc3339)),
            ("checkpointed", .optional(config.checkpointed?.rfc3339)),
        ])
    }

    private static func diffTar(_ diff: DiffTarSummary) -> JSONValue {
        .object([
            ("size", .integer(diff.size)),
            ("compression", .optional(diff.compression)),
            ("members", .integer(Int64(diff.members))),
            ("regularFiles", .integer(Int64(diff.regularFiles))),
            ("directories", .integer(Int64(diff.directories))),
            ("symlinks", .integer(Int64(diff.symlinks))),
            ("hardLinks", .integer(Int64(diff.hardLinks))),
            ("otherMembers", .integer(Int64(diff.otherMembers))),
            ("dataBytes", .integer(diff.dataBytes)),
            ("largest", .array(diff.largest.map(sized))),
        ])
    }

    private static func sized(_ member: CheckpointSummary.MemberSize) -> JSONValue {
        .object([("name", .string(member.name)), ("size", .integer(member.size))])
    }
}
