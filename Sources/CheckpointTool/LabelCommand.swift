import CheckpointFS

/// `checkpointfs label`: creates a file carrying an SELinux label, as a restore does for
/// CRIU's log files.
struct LabelCommand: ToolCommand {
    static let name = "label"
    static let summary = "create an empty file with an SELinux label (kept if it exists)"
    static let synopsis = ["DIR NAME LABEL"]
    static let options: [OptionSpec] = []

    var directory: String
    var fileName: String
    var label: String

    init(arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.count == 3 else {
            throw UsageError("expected DIR NAME LABEL, got \(arguments.positionals.count) "
                             + "arguments")
        }
        directory = arguments.positionals[0]
        fileName = arguments.positionals[1]
        label = arguments.positionals[2]
        guard !label.isEmpty else { throw UsageError("LABEL is empty") }
    }

    func run() throws -> Int32 {
        try SELinuxLabel.createFile(named: fileName, in: directory, label: label)
        return ExitStatus.success
    }
}
